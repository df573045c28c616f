"""A subscription served without strawberry's per-operation machinery, when its document allows it.

strawberry runs every operation inside its extension lifecycle: seven extension instances, their hook
contexts, an execution context, a response iterator and a task, all kept for as long as a subscription
lives (~25 KiB each, bench/README.md § 3). A subscription needs far less: its resolver's generator (the
state: the listener, the viewer) and graphql-core's executor to render each value it yields.

`LivePlans` decides once per (document text, operation name) whether a document may take this path: it
parses within the token limit, passes GraphQL's rules, and is a subscription of one plain root field
(no fragment, no directive, no introspection at the root). It keeps the document's coordinates
(schema/field_plan.py). Each subscribe then checks, for this request, what the extensions would check
— the variables, the depth, alias and cost limits, text PostgreSQL cannot store, the length of the
arguments, the field permissions for the viewer's roles — and takes the path only when nothing refuses;
anything else goes through strawberry as before, which answers it with the same words. The rate limit
is counted here (once), after those checks, where the extensions would count it before them: a request
both over its rate and malformed goes to strawberry, which counts and refuses it as before.

Each value the resolver yields is rendered by graphql-core's executor over the same schema and
resolvers, so a `next` payload is the one strawberry sends: the data, the errors (unexpected ones
masked, schema/extensions.py) and the `cost` extension. The per-field permission hook runs on an event
only when the viewer's current roles deny something the document reads (roles are re-read while a
subscription lives); otherwise the event renders bare.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    OperationDefinitionNode,
    OperationType,
    located_error,
    parse,
    specified_rules,
)
from graphql.execution import Executor, execute_subscription_event
from graphql.execution.middleware import MiddlewareManager
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, is_awaitable
from graphql.validation import NoSchemaIntrospectionCustomRule

from core.settings import Settings
from schema.context import Context
from schema.document_limits import FragmentCycle, analyse
from schema.extensions import (
    FieldPermissions,
    RequestGate,
    _cached_validation,
    _subscription_too_long,
    carries_unstorable_text,
    masked_errors,
)
from schema.field_plan import coordinates


@dataclass(frozen=True, slots=True)
class Plan:
    """What every subscribe of one document shares."""

    document: DocumentNode
    operation_name: str | None
    field: FieldNode  # the one root field
    coordinates: frozenset[str]  # every `Type.field` the document can resolve


class Refused:
    """Refused before it started (the rate limit): the protocol's `error` message with these errors."""

    __slots__ = ("errors",)

    def __init__(self, errors: list[GraphQLError]) -> None:
        self.errors = errors


class Opened:
    """A started subscription: the resolver's stream of values and how to render each. It keeps no
    executor between events (graphql-core's keeps ~3 KiB of state and caches): one is built per event."""

    __slots__ = ("_context", "_cost", "_plan", "_plans", "_variables", "source")

    def __init__(
        self, plans: LivePlans, plan: Plan, context: Context, variables: dict[str, Any], source: Any, cost: int | None
    ) -> None:
        self._plans = plans
        self._plan = plan
        self._context = context
        self._variables = variables
        self._cost = cost
        self.source = source

    async def payloads(self) -> AsyncGenerator[dict[str, Any], None]:
        """The `next` payload of each value the resolver yields; a failure of the resolver is the last
        one (data null, its error), as strawberry sends it."""
        try:
            async for value in self.source:
                yield await self._render(value)
        except Exception as exc:  # noqa: BLE001  (strawberry: an error raised by the source ends the stream with it)
            error = exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
            yield self._payload(None, [error])
        finally:
            aclose = getattr(self.source, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _render(self, value: Any) -> dict[str, Any]:
        context, plan = self._context, self._plan
        # The per-field hook only when the viewer's roles (re-read on every update) deny something.
        hook = self._plans.field_hook if plan.coordinates - context.allowed else None
        executor = Executor.build(
            self._plans.graphql_schema,
            plan.document,
            value,
            context,
            self._variables,
            plan.operation_name,
            middleware=hook,
        )
        if isinstance(executor, list):  # cannot happen: the same variables opened the subscription
            return self._payload(None, executor)
        result = execute_subscription_event(executor)
        if is_awaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        return self._payload(result.data, result.errors)

    def _payload(self, data: Any, errors: list[GraphQLError] | None) -> dict[str, Any]:
        payload: dict[str, Any] = {"data": data}
        if errors:
            payload["errors"] = [e.formatted for e in masked_errors(errors, self._context.request_id)]
        if self._cost is not None:
            payload["extensions"] = {"cost": {"requested": self._cost, "maximum": self._plans.max_cost}}
        return payload


class LivePlans:
    """The per-document decisions (LRU, one per process) and the opening of a subscription."""

    def __init__(self, schema: Any, settings: Settings) -> None:
        self._schema = self.graphql_schema = schema._schema
        self._settings = settings
        self.max_cost = settings.graphql_max_cost
        rules = tuple(specified_rules)
        self._rules = (*rules, NoSchemaIntrospectionCustomRule) if settings.is_production else rules
        self._validate: Callable[..., list[GraphQLError]] = _cached_validation(settings.graphql_cache_size)
        self._plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        self.field_hook = MiddlewareManager(_FieldHook())

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        key = (query, operation_name)
        if key in self._plans:
            self._plans.move_to_end(key)
            return self._plans[key]
        found = self._plan(query, operation_name)
        self._plans[key] = found
        while len(self._plans) > self._settings.graphql_cache_size:
            self._plans.popitem(last=False)
        return found

    def _plan(self, query: str, operation_name: str | None) -> Plan | None:
        try:
            document = parse(query, max_tokens=self._settings.graphql_max_tokens)
        except GraphQLError:
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
        if len(chosen) != 1 or (operation_name is None and len(operations) != 1):
            return None
        operation = chosen[0]
        if operation.operation != OperationType.SUBSCRIPTION:
            return None
        selections = operation.selection_set.selections
        if len(selections) != 1 or not isinstance(selections[0], FieldNode) or selections[0].directives:
            return None
        if selections[0].name.value.startswith("__"):
            return None
        if self._validate(self._schema, document, self._rules):
            return None
        return Plan(document, operation_name, selections[0], coordinates(self._schema, document, operation_name))

    async def open(
        self, plan: Plan, query: str, raw_variables: dict[str, Any] | None, context: Context
    ) -> Opened | Refused | None:
        """Start the subscription, or say why not (`Refused`), or None: strawberry is to serve it."""
        variables = raw_variables or {}
        settings = self._settings
        try:
            analysis = analyse(plan.document, variables, plan.operation_name)
        except FragmentCycle:
            return None
        if (
            any(depth > settings.graphql_max_depth for depth in analysis.depths.values())
            or analysis.aliases > settings.graphql_max_aliases
            or (analysis.cost is not None and analysis.cost > settings.graphql_max_cost)
            or carries_unstorable_text(query, plan.document, variables)
            or plan.coordinates - context.allowed
        ):
            return None
        executor = Executor.build(self._schema, plan.document, None, context, variables, plan.operation_name)
        if isinstance(executor, list):  # the variables do not fit their definitions
            return None
        if _subscription_too_long(self._schema, plan.document, plan.operation_name, variables) is not None:
            return None
        refusal = await RequestGate.rate_limit(context)
        if refusal is not None:
            return Refused([refusal])
        try:
            source = _event_stream(executor, plan.field)
            if is_awaitable(source):
                source = await source
        except GraphQLError as error:  # the resolver failed before it returned its stream
            return Refused(masked_errors([error], context.request_id))
        return Opened(self, plan, context, variables, source, analysis.cost)


def _event_stream(executor: Executor[Any], node: FieldNode) -> Any:
    """The subscription field's stream, as graphql-core's `execute_subscription` makes it, with a resolve
    info that does not refer to the executor (the resolver's generator keeps its info for its life)."""
    schema = executor.schema
    root_type = schema.subscription_type
    assert root_type is not None
    field_def = root_type.fields[node.name.value]
    path = Path(None, node.alias.value if node.alias else node.name.value, root_type.name)
    info = GraphQLResolveInfo(
        node.name.value,
        [node],
        field_def.type,
        root_type,
        path,
        schema,
        executor.fragment_definitions,
        None,
        executor.operation,
        executor.variable_values,
        executor.context_value,
        is_awaitable,
        None,
        _DETACHED,
    )
    try:
        args = get_argument_values(field_def, node, executor.variable_values)
        assert field_def.subscribe is not None
        result = field_def.subscribe(None, info, **args)
    except Exception as error:
        raise located_error(error, [node], path.as_list()) from error
    if not is_awaitable(result):
        return result

    async def awaited() -> Any:
        try:
            return await result
        except Exception as error:
            raise located_error(error, [node], path.as_list()) from error

    return awaited()


async def _gather(values: Any) -> list[Any]:
    return list(await asyncio.gather(*values))


# What a resolver could ask of the execution's helpers; the subscription resolvers ask nothing.
_DETACHED = GraphQLResolveInfoHelpers(gather=_gather, track=lambda _values: None)


class _FieldHook:
    """The per-field permission check (FieldPermissions.resolve), shared: it keeps no state."""

    resolve = FieldPermissions.resolve
