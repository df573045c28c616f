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

Shared renders. One publication may reach 10,000 subscribers of a process (a tournament's leaderboard)
whose payloads differ in one field (the viewer's own position). A value may name its template
(`live_template`: the same object for every subscriber of the publication); then, for a viewer the
field permissions let read the whole document, the template is rendered once per (publication, document,
variables) — with a context that holds nothing of any viewer, so a field that would read the viewer fails
there, and nothing is shared — and each subscriber's payload is that render with only the root object's
fields whose value is not the template's own object completed again, by the same executor, with the
subscriber's own context. Anything unusual (an error, a value to await, a root that is not an object)
renders the whole value as above, so a shared payload is always the one a full render would give.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Coroutine
from copy import copy
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_nullable_type,
    located_error,
    parse,
    specified_rules,
)
from graphql.execution import Executor, execute_subscription_event
from graphql.execution.collect_fields import FieldDetails, FieldDetailsList
from graphql.execution.executor import CollectedErrors
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


TEMPLATE = "live_template"  # the attribute by which a yielded value names its template (module docstring)


class _NoViewer:
    """The context a template is rendered with: it holds nothing of any viewer (a resolver reading the
    context fails, so the template is not shared: each subscriber renders its own)."""

    __slots__ = ()


@dataclass(slots=True)
class _SharedRender:
    """A template rendered for one document and its variables, and how to complete a subscriber's own fields."""

    template: Any  # held, so that its id (the key) is not reused while this is kept
    plan: Plan
    root_key: str  # the root field's response key
    data: dict[str, Any]  # the root object as the template renders it
    root_type: GraphQLObjectType
    fields: list[tuple[str, FieldDetailsList, str]]  # (response key, its field group, the value's attribute)
    executor: Executor[Any]  # built for the template; copied for each subscriber (it shares its caches)


class Opened:
    """A started subscription: the resolver's stream of values and how to render each. It keeps no
    executor between events (graphql-core's keeps ~3 KiB of state and caches): one is built per event."""

    __slots__ = ("_context", "_cost", "_plan", "_plans", "_variables", "_variables_key", "source")

    def __init__(
        self, plans: LivePlans, plan: Plan, context: Context, variables: dict[str, Any], source: Any, cost: int | None
    ) -> None:
        self._plans = plans
        self._plan = plan
        self._context = context
        self._variables = variables
        self._variables_key = _variables_key(variables)
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
        template = getattr(value, TEMPLATE, None) if hook is None else None
        if template is not None:
            shared = self._plans.shared(plan, self._variables, self._variables_key, template)
            data = None if shared is None else _own_fields(shared, value, context)
            if data is not None:
                return self._payload({shared.root_key: data}, None)  # type: ignore[union-attr]
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
        # (template, plan, variables) → its render, or None: not shareable (each subscriber renders its own)
        self._shared: OrderedDict[tuple[int, int, bytes], _SharedRender | None] = OrderedDict()
        self.shared_renders = 0  # templates rendered (tests and benchmarks read it)

    def shared(
        self, plan: Plan, variables: dict[str, Any], variables_key: bytes, template: Any
    ) -> _SharedRender | None:
        """The template's render for this document and variables (made by the first subscriber to ask)."""
        key = (id(template), id(plan), variables_key)
        if key in self._shared:
            found = self._shared[key]
            if found is None or (found.template is template and found.plan is plan):
                return found
        made = self._shared[key] = _render_template(self._schema, plan, variables, template)
        self.shared_renders += 1
        while len(self._shared) > SHARED_KEPT:
            self._shared.popitem(last=False)
        return made

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


SHARED_KEPT = 256  # templates' renders kept (publications times documents and variables in use)


def _variables_key(variables: dict[str, Any]) -> bytes:
    """The variables as a key: subscribers sending the same values share renders."""
    try:
        return orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # what orjson cannot encode (an integer past 64 bits): a key of its own, never shared
        return repr(id(variables)).encode()


def _render_template(
    schema: GraphQLSchema, plan: Plan, variables: dict[str, Any], template: Any
) -> _SharedRender | None:
    """Render the template as a subscriber's event would be, with a context holding no viewer; None when
    it cannot be shared (the module docstring)."""
    executor = Executor.build(schema, plan.document, template, _NoViewer(), variables, plan.operation_name)
    if isinstance(executor, list):
        return None
    result = execute_subscription_event(executor)
    if is_awaitable(result):
        _discard(result)
        return None
    assert isinstance(result, ExecutionResult)
    root_type = schema.subscription_type
    root_key = plan.field.alias.value if plan.field.alias else plan.field.name.value
    data = (result.data or {}).get(root_key)
    if result.errors or not isinstance(data, dict) or root_type is None:
        return None
    field_type = get_nullable_type(root_type.fields[plan.field.name.value].type)
    if not isinstance(field_type, GraphQLObjectType):
        return None
    root_group = [FieldDetails(plan.field, None)]
    grouped, _, _ = executor.collect_subfields(field_type, root_group)
    fields: list[tuple[str, FieldDetailsList, str]] = []
    for response_key, group in grouped.items():
        name = group[0].node.name.value
        if name == "__typename":
            continue
        definition = field_type.fields[name].extensions.get("strawberry-definition")
        attribute = getattr(definition, "python_name", None)
        if not isinstance(attribute, str):
            return None
        fields.append((response_key, group, attribute))
    return _SharedRender(template, plan, root_key, data, field_type, fields, executor)


def _discard(awaitable: Any) -> None:
    """A result still to be awaited that this path will not await (the full render makes it again)."""
    if isinstance(awaitable, Coroutine):
        awaitable.close()
    elif asyncio.isfuture(awaitable):
        awaitable.cancel()


def _own_fields(shared: _SharedRender, value: Any, context: Context) -> dict[str, Any] | None:
    """The root object's data for this subscriber: the template's, with each field whose value is not the
    template's own object completed for the subscriber (with its context). None: render in full."""
    template = shared.template
    own = [field for field in shared.fields if getattr(value, field[2]) is not getattr(template, field[2])]
    data = dict(shared.data)
    if not own:
        return data
    executor = copy(shared.executor)  # as graphql-core's build_per_event_executor, with this viewer
    executor.root_value = value
    executor.context_value = context
    executor.collected_errors = CollectedErrors()
    root_type, root_path = shared.root_type, Path(None, shared.root_key, "Subscription")
    try:
        for response_key, group, _ in own:
            completed = executor.execute_field(
                root_type, value, group, root_path.add_key(response_key, root_type.name), None
            )
            if is_awaitable(completed):
                _discard(completed)
                return None
            data[response_key] = completed
    except Exception:  # noqa: BLE001  (an error that nulls the root: the full render says it)
        return None
    return None if executor.collected_errors.errors else data


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
