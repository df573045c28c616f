"""The lobby's games completed once per cache entry and selection, not once per request.

A lobby page asks for ~24 games with a handful of fields each: GraphQL completes ~250 fields every
time (a resolver call, a resolve-info object, a type check per field), about as much CPU as the rest
of the page. The objects it completes are already shared: services/lobby_cache.py keeps one rendered
lobby per audience, dropped when the catalogue changes (here at once, elsewhere through Redis). So the
*completed* value — the plain dicts and lists that become the JSON — is kept beside them, on the
rendered list (`MemoizedList`), and goes when the entry goes: it can be no staler than the lobby itself.

A completion is reused only when it cannot differ from a fresh one:
- the result is a `MemoizedList` (the lobby's rendered entry, per audience and page size);
- every field of the selection below it is one whose value is a function of the game, category or
  provider object alone (`PURE`: no viewer, no context, no arguments), and the only directives are
  `@skip`/`@include` (the values of their variables are part of the key);
- the request runs without the per-field permission hook (schema/extensions.py FieldPermissions:
  every field of the document allowed for the viewer); a request with a denied field completes afresh;
- the completion raised no error and needed nothing awaited.
The key is the field's nodes in the parsed document (the parser cache keeps one per query text; a node
is compared by identity, so a re-parsed document simply misses) and those variables' values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.execution.collect_fields import FieldDetails
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.extensions import DecidedMiddleware

# Fields resolved from the object in hand alone (schema/games.py): the same object gives the same value
# whoever asks. `Game.enabledForMe` and `Game.brandSwitch` read the request's context: not here.
PURE = frozenset(
    {
        "LobbyCategory.code",
        "LobbyCategory.title",
        "LobbyCategory.games",
        "Game.id",
        "Game.code",
        "Game.title",
        "Game.type",
        "Game.rtp",
        "Game.volatility",
        "Game.contributionCategory",
        "Game.demoAvailable",
        "Game.imageUrl",
        "Game.tags",
        "Game.provider",
        "Game.minBet",
        "Game.maxBet",
        "GameProvider.code",
        "GameProvider.name",
        "Money.amount",
        "Money.currency",
    }
)
CONDITIONS = frozenset({"skip", "include"})
MAX_COMPLETIONS = 16  # selections kept per lobby entry (documents times variable values in use)
_MAX_VERDICTS = 1000


class MemoizedList(list[Any]):
    """A shared, read-only list of GraphQL objects (the lobby's rendered entry) with its completions."""

    __slots__ = ("completions", "reused")

    def __init__(self, items: Iterable[Any]) -> None:
        super().__init__(items)
        self.completions: dict[tuple[Any, ...], tuple[tuple[FieldNode, ...], Any]] = {}
        self.reused = 0  # completions answered from `completions` (tests, benchmarks)

    def keep(self, key: tuple[Any, ...], nodes: tuple[FieldNode, ...], completed: Any) -> None:
        if len(self.completions) >= MAX_COMPLETIONS:
            self.completions.clear()
        self.completions[key] = (nodes, completed)


def pure_selection(
    schema: GraphQLSchema, parent: GraphQLObjectType, selections: SelectionSetNode, fragments: dict[str, Any]
) -> tuple[str, ...] | None:
    """The variables the selection's `@skip`/`@include` read, when every field below is `PURE` (through
    fragments) and takes no argument; None when one is not, or another directive is used."""
    variables: list[str] = []
    pending: list[tuple[GraphQLObjectType, SelectionSetNode]] = [(parent, selections)]
    seen: set[int] = set()
    while pending:
        parent_type, selection_set = pending.pop()
        for selection in selection_set.selections:
            for directive in selection.directives or ():
                if directive.name.value not in CONDITIONS:
                    return None
                for argument in directive.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        variables.append(argument.value.name.value)
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name == "__typename":
                    continue
                if selection.arguments or f"{parent_type.name}.{name}" not in PURE:
                    return None
                if selection.selection_set is not None:
                    field = parent_type.fields[name]
                    child = get_named_type(field.type)
                    if not isinstance(child, GraphQLObjectType):
                        return None
                    pending.append((child, selection.selection_set))
                continue
            if isinstance(selection, InlineFragmentNode):
                condition, body = selection.type_condition, selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                details = fragments.get(selection.name.value)
                if details is None:
                    return None
                condition, body = details.definition.type_condition, details.definition.selection_set
            else:
                return None
            if id(body) in seen:
                continue
            seen.add(id(body))
            target = schema.get_type(condition.name.value) if condition is not None else parent_type
            if target is not parent_type:  # every type here is an object type: another condition never applies
                continue
            pending.append((parent_type, body))
    return tuple(sorted(set(variables)))


class MemoizingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, reusing a `MemoizedList`'s completion where the module docstring
    allows it."""

    # (the nodes of a field, whose selection was judged) → the variables it reads, or None: not pure
    _verdicts: dict[tuple[int, ...], tuple[tuple[FieldNode, ...], tuple[str, ...] | None]] = {}

    async def complete_awaitable_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: list[FieldDetails],
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's own (3.3), with the kept completion looked up between resolving and completing.
        Here rather than in `complete_value`, which runs for every value of every request: the lobby's
        resolver is async, so its value always comes this way, and nothing else pays for the check."""
        try:
            resolved = await self.with_abort_signal(result)
            if isinstance(resolved, MemoizedList) and position_context is None:  # (not inside a @defer)
                completed = self._complete_memoized(return_type, field_details_list, info, path, resolved)
            else:
                completed = self.complete_value(return_type, field_details_list, info, path, resolved, position_context)
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:  # noqa: BLE001  (as graphql-core: the field's error, located at its path)
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            completed = None
        return completed

    def _complete_memoized(
        self,
        return_type: GraphQLOutputType,
        field_details_list: list[FieldDetails],
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: MemoizedList,
    ) -> Any:
        variables = self._pure_variables(return_type, field_details_list)
        if variables is None:
            return self.complete_value(return_type, field_details_list, info, path, result, None)
        nodes = tuple(details.node for details in field_details_list)
        coerced = self.variable_values.coerced
        key = (*map(id, nodes), *(coerced.get(name) for name in variables))
        found = result.completions.get(key)
        if found is not None and all(a is b for a, b in zip(found[0], nodes, strict=True)):
            result.reused += 1
            return found[1]
        errors = len(self.collected_errors.errors)
        completed = self.complete_value(return_type, field_details_list, info, path, result, None)
        if not self.is_awaitable(completed) and len(self.collected_errors.errors) == errors:
            result.keep(key, nodes, completed)
        return completed

    def _pure_variables(
        self, return_type: GraphQLOutputType, field_details_list: list[FieldDetails]
    ) -> tuple[str, ...] | None:
        middleware = self.middleware_manager
        if not isinstance(middleware, DecidedMiddleware) or not middleware.skip:
            return None  # the per-field permission hook runs: each request completes its own
        if any(details.fragment_variable_values is not None for details in field_details_list):
            return None
        item = get_named_type(return_type)
        if not isinstance(item, GraphQLObjectType):
            return None
        nodes = tuple(details.node for details in field_details_list)
        ids = tuple(map(id, nodes))
        verdict = self._verdicts.get(ids)
        if verdict is not None and all(a is b for a, b in zip(verdict[0], nodes, strict=True)):
            return verdict[1]
        judged = self._judge(item, nodes)
        if len(self._verdicts) >= _MAX_VERDICTS:
            self._verdicts.clear()
        self._verdicts[ids] = (nodes, judged)
        return judged

    def _judge(self, item: GraphQLObjectType, nodes: tuple[FieldNode, ...]) -> tuple[str, ...] | None:
        variables: list[str] = []
        for node in nodes:
            # The field's own directives too: `@stream` on the list would change how it completes.
            if node.selection_set is None or any(d.name.value not in CONDITIONS for d in node.directives or ()):
                return None
            found = pure_selection(self.schema, item, node.selection_set, self.fragments)
            if found is None:
                return None
            variables.extend(found)
        return tuple(sorted(set(variables)))
