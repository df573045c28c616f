"""The limits of a GraphQL document (depth, aliases, query cost), in time linear in its size.

A document may name fragments that spread other fragments: `fragment F1 on Brand { ...F0 ...F0 }`,
twenty levels of it, is under a kilobyte but expands to a million selections. Walking every spread
(as strawberry's depth and alias limiters do) takes time exponential in the document. Here each
fragment is summarised once, after the fragments it spreads, so a spread costs one lookup. A fragment
that spreads itself, directly or through others, is refused before anything else: the document is
invalid anyway (GraphQL's NoFragmentCycles), and refusing it first keeps the summaries finite.

The figures are those of the document with every spread expanded where it stands: an upper bound of
what execution runs (execution merges a fragment spread twice into one selection set only once).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

CONNECTION_ARGS = ("first", "last")
PAGE_FIELDS = ("edges", "pageInfo")
DEFAULT_LIST_SIZE = 20  # core.pagination.DEFAULT_PAGE: what a connection returns without first/last
COST_CEILING = 1 << 40  # costs saturate here: anything near it is refused, and it stays a JSON-safe integer


class FragmentCycle(Exception):
    def __init__(self, fragment: str) -> None:
        super().__init__(f"Cannot spread fragment '{fragment}' within itself.")
        self.fragment = fragment


@dataclass(frozen=True, slots=True)
class Summary:
    """What a selection set adds where it is spread."""

    depth: int = 0  # levels of fields with selections below it (strawberry's QueryDepthLimiter measure)
    aliases: int = 0
    cost: int = 0  # one per field, times the page size of each connection around it
    reads_page: bool = False  # selects `edges` or `pageInfo`: the selection of a connection


EMPTY = Summary()


@dataclass(frozen=True, slots=True)
class Analysis:
    depths: dict[str, int]  # per operation ("anonymous" when unnamed)
    aliases: int  # over every operation
    cost: int | None  # of the operation that runs (None when the document names no such operation)


def analyse(document: DocumentNode, variables: Mapping[str, Any], operation_name: str | None) -> Analysis:
    """Depth, aliases and cost of a document; raises FragmentCycle for a fragment that spreads itself."""
    fragments: dict[str, FragmentDefinitionNode] = {}
    operations: list[OperationDefinitionNode] = []
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments.setdefault(definition.name.value, definition)  # a duplicate name is invalid anyway
        elif isinstance(definition, OperationDefinitionNode):
            operations.append(definition)
    summaries: dict[str, Summary] = {}
    for name in dependency_order(fragments):
        summaries[name] = _summarise(fragments[name].selection_set, summaries, variables)
    depths: dict[str, int] = {}
    aliases = 0
    cost: int | None = None
    for operation in operations:
        summary = _summarise(operation.selection_set, summaries, variables)
        label = operation.name.value if operation.name else "anonymous"
        depths[label] = max(depths.get(label, 0), summary.depth)
        aliases += summary.aliases
        if cost is None and operation_name in (None, operation.name and operation.name.value):
            cost = summary.cost
    return Analysis(depths=depths, aliases=aliases, cost=cost)


def dependency_order(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """The fragments, each after every fragment it spreads (a depth-first walk without recursion,
    each spread followed once); raises FragmentCycle when a fragment spreads itself."""
    spreads = {name: [s for s in spread_names(f.selection_set) if s in fragments] for name, f in fragments.items()}
    order: list[str] = []
    done: set[str] = set()
    for root in fragments:
        if root in done:
            continue
        path = [(root, iter(spreads[root]))]
        on_path = {root}
        while path:
            name, pending = path[-1]
            for child in pending:
                if child in on_path:
                    raise FragmentCycle(child)
                if child not in done:
                    path.append((child, iter(spreads[child])))
                    on_path.add(child)
                    break
            else:
                path.pop()
                on_path.discard(name)
                done.add(name)
                order.append(name)
    return order


def spread_names(selection_set: SelectionSetNode) -> list[str]:
    """The fragments a selection set spreads, at any depth within it (not through the fragments)."""
    names: list[str] = []
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif selection.selection_set is not None:  # type: ignore[attr-defined]
                stack.append(selection.selection_set)  # type: ignore[attr-defined]
    return names


def _summarise(
    selection_set: SelectionSetNode, summaries: Mapping[str, Summary], variables: Mapping[str, Any]
) -> Summary:
    """One pass over a selection set; spreads read the fragments' summaries. Recursion follows the
    nesting of one definition only, which the parser bounds."""
    depth = aliases = cost = 0
    reads_page = False
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            reads_page = reads_page or name in PAGE_FIELDS
            inner = _summarise(selection.selection_set, summaries, variables) if selection.selection_set else EMPTY
            aliases += inner.aliases + (selection.alias is not None)
            if name.startswith("__"):
                continue  # introspection counts for neither depth nor cost
            if selection.selection_set is not None:
                depth = max(depth, inner.depth + 1)
            size = page_size(selection, variables)
            if size is None and inner.reads_page:
                size = DEFAULT_LIST_SIZE
            cost = min(cost + 1 + inner.cost * (size or 1), COST_CEILING)
            continue
        if isinstance(selection, InlineFragmentNode):
            inner = _summarise(selection.selection_set, summaries, variables)
        else:
            assert isinstance(selection, FragmentSpreadNode)
            inner = summaries.get(selection.name.value, EMPTY)  # an unknown fragment is reported by validation
        depth = max(depth, inner.depth)
        aliases += inner.aliases
        cost = min(cost + inner.cost, COST_CEILING)
        reads_page = reads_page or inner.reads_page
    return Summary(depth=depth, aliases=aliases, cost=cost, reads_page=reads_page)


def page_size(field: FieldNode, variables: Mapping[str, Any]) -> int | None:
    """The `first`/`last` a field asks for (a literal or a variable), or None."""
    for argument in field.arguments or ():
        if argument.name.value in CONNECTION_ARGS:
            value = argument.value
            raw = variables.get(value.name.value) if isinstance(value, VariableNode) else getattr(value, "value", None)
            try:
                return min(max(int(raw), 1), COST_CEILING) if raw is not None else None
            except (TypeError, ValueError, OverflowError):
                return None
    return None
