"""Which fields an operation can resolve, decided from its document once, so permissions need no check
per field when the viewer may read all of them.

Casbin decides on `Type.field` — the parent object type and the field's *name*, never the alias a
client gave it (DESIGN §5). `coordinates` collects, from the document alone, every such coordinate
the operation can resolve: the fields of its selection sets with their parent types, through named
fragments (each walked once, however often it is spread) and inline fragments; a field selected on an
interface or a union counts for every object type that may stand there at run time, and a fragment
counts for every type its condition allows. So the set holds (at least) every coordinate execution can
meet, and `FieldPermissions` compares it with the viewer's decisions once per (document, roles,
brand): when nothing in it is denied, execution runs without the per-field hook; when something is,
the per-field hook runs as before and answers the denied fields with FORBIDDEN at their paths.
Introspection (`__schema`, `__type`, `__typename`) is left out, as the hook leaves it out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from threading import Lock

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
)

ROOT_TYPES = {"query": "query_type", "mutation": "mutation_type", "subscription": "subscription_type"}


def coordinates(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> frozenset[str]:
    """Every `Type.field` the operation to run can resolve (see the module docstring); empty when the
    document names no such operation (execution refuses it)."""
    operation = next(
        (
            d
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode) and operation_name in (None, d.name and d.name.value)
        ),
        None,
    )
    if operation is None:
        return frozenset()
    root = getattr(schema, ROOT_TYPES[operation.operation.value])
    if root is None:
        return frozenset()
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    found: set[str] = set()
    queued: set[tuple[int, str]] = set()  # (selection set, type) pairs queued: each is walked once
    pending: list[tuple[SelectionSetNode, GraphQLNamedType]] = []

    def queue(selection_set: SelectionSetNode, parent: GraphQLNamedType) -> None:
        if (id(selection_set), parent.name) not in queued:
            queued.add((id(selection_set), parent.name))
            pending.append((selection_set, parent))

    queue(operation.selection_set, root)
    while pending:
        selection_set, parent = pending.pop()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name.startswith("__"):
                    continue
                for object_type in _object_types(schema, parent):
                    field = object_type.fields.get(name)
                    if field is None:
                        continue  # not a field of this type: validation refuses it, or another type has it
                    found.add(f"{object_type.name}.{name}")
                    if selection.selection_set is not None:
                        queue(selection.selection_set, get_named_type(field.type))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                narrowed = schema.get_type(condition.name.value) if condition else parent
                if narrowed is not None:
                    queue(selection.selection_set, narrowed)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition_type = schema.get_type(fragment.type_condition.name.value)
                if condition_type is not None:
                    queue(fragment.selection_set, condition_type)
    return frozenset(found)


def _object_types(schema: GraphQLSchema, parent: GraphQLNamedType) -> Iterator[GraphQLObjectType]:
    if isinstance(parent, GraphQLObjectType):
        yield parent
    elif is_abstract_type(parent):
        assert isinstance(parent, GraphQLAbstractType)
        yield from schema.get_possible_types(parent)


class DecisionCache:
    """Bounded memo of a function's answers, safe to share between requests (LRU, thread-safe)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[object, frozenset[str]] = OrderedDict()
        self._lock = Lock()

    def get(self, key: object) -> frozenset[str] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: object, value: frozenset[str]) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
