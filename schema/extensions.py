"""Schema extensions: the request gate, bounded validation, field permissions, error masking.

They are passed to the schema as classes or factories, so every request gets fresh instances.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    StringValueNode,
    Visitor,
    default_field_resolver,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution.middleware import MiddlewareManager
from graphql.execution.values import get_argument_values, get_variable_values
from prometheus_client import Histogram
from redis.exceptions import RedisError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType

from authz.subjects import ANONYMOUS, Viewer
from core.errors import ApiError, ApiErrorCode, DomainError
from core.logging import get_logger
from core.ratelimit import Decision, Limit
from core.settings import Settings
from schema.context import Context
from schema.document_limits import FragmentCycle, analyse
from schema.field_plan import DecisionCache, coordinates
from schema.input_limits import FieldPlan, TooLong, first_too_long, plan, refuse
from services import auth

log = get_logger(__name__)

VALIDATION_SECONDS = Histogram(
    "croupier_graphql_validation_cpu_seconds",
    "CPU time of the GraphQL validation step (the document's limits and GraphQL's rules), per request",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)


def api_error(code: ApiErrorCode, message: str, **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code.value, **extra})


def _refuse(extension: SchemaExtension, error: GraphQLError) -> None:
    """Skip execution and answer with this error. Queries and mutations: strawberry runs nothing when a
    result is set. Subscriptions: strawberry ignores a set result, but answers an error raised from
    `on_execute` with that error (and never starts the source stream)."""
    if extension.execution_context.operation_type == OperationType.SUBSCRIPTION:
        raise error
    extension.execution_context.result = GraphQLExecutionResult(data=None, errors=[error])


# Text PostgreSQL cannot store: the NUL character, and UTF-16 surrogates (JSON's "\ud800" escapes
# decode to one; they have no UTF-8 encoding).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _carries_unstorable(value: Any) -> bool:
    pending = [value]  # without recursion (variables nest at most schema.wire.MAX_JSON_DEPTH deep anyway)
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class _UnstorableInDocument(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if _UNSTORABLE.search(node.value):
            self.found = True
            return BREAK
        return None


def carries_unstorable_text(query: str | None, document: DocumentNode | None, variables: dict[str, Any] | None) -> bool:
    """Does the request hold text PostgreSQL cannot store (a NUL character or a lone surrogate, in a
    variable or a literal)? It would fail wherever it reached the database. A literal holds one only
    through a unicode escape or as such in the query text, so a document with neither is not walked."""
    if _carries_unstorable(variables or {}):
        return True
    if document is None or query is None:
        return False
    if _UNSTORABLE.search(query):
        return True
    if "\\u" not in query:
        return False
    visitor = _UnstorableInDocument()
    visit(document, visitor)
    return visitor.found


class RequestGate(SchemaExtension):
    """Before anything runs: the per-subject / per-IP rate limits, then bad credentials, CSRF, and text
    that cannot be stored (a NUL character, a lone surrogate).

    The rate limit is counted before the document is even parsed, so every request counts, a malformed
    or invalid one too; a refused request is then neither validated nor executed (strawberry skips both
    when `pre_execution_errors` is set, and answers with them, over HTTP and WebSocket alike)."""

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if not isinstance(context, Context):
            refusal = None  # not served
        elif context.rate_limit_decided:  # counted already for this request (schema/kept_answers.py)
            refusal = context.rate_limit_refusal
        else:
            refusal = await self.rate_limit(context)
        if refusal is not None:
            self.execution_context.pre_execution_errors = [refusal]
        yield

    async def on_execute(self) -> Any:
        context: Context = self.execution_context.context
        if context.auth_error:
            # Tell the client whether refreshing can help, nothing more: the exact reason (bad kid,
            # bad signature, revoked session) would help someone probing forged tokens.
            expired = context.auth_error == "token expired"
            log.info("access_token_refused", reason=context.auth_error)
            _refuse(
                self,
                api_error(
                    ApiErrorCode.UNAUTHENTICATED,
                    "The access token has expired." if expired else "Invalid credentials.",
                    reason="expired" if expired else "invalid",
                ),
            )
        elif context.brand_error:
            _refuse(self, api_error(ApiErrorCode.BAD_USER_INPUT, context.brand_error))
        elif context.csrf_error:
            _refuse(self, api_error(ApiErrorCode.FORBIDDEN, context.csrf_error))
        elif carries_unstorable_text(
            self.execution_context.query, self.execution_context.graphql_document, self.execution_context.variables
        ):
            message = "Text may not contain the NUL character (\\u0000) or a lone surrogate (\\ud800-\\udfff)."
            _refuse(self, api_error(ApiErrorCode.BAD_USER_INPUT, message))
        yield

    @staticmethod
    async def rate_limit(context: Context) -> GraphQLError | None:
        """Count this request against its subject's (or IP's) limit: the refusal, or None. A session still
        to check (`Context.unchecked_session`) is checked first, in the same Redis command: a revoked one
        leaves the request anonymous with its credentials refused, and counted by IP."""
        rt = context.rt
        session_id, context.unchecked_session = context.unchecked_session, None
        if session_id is not None:
            live = _limit_of(context.viewer, rt.settings)
            anonymous = _limit_of(ANONYMOUS.with_meta(context.viewer.meta), rt.settings)
            try:
                if live is None:  # nothing to count either way: the revocation alone
                    revoked, decision = await auth.is_session_revoked(rt, session_id), None
                else:
                    key = auth.REVOKED_KEY.format(session_id)
                    revoked, decision = await rt.rate_limiter.hit_unless_revoked(key, live, anonymous, window=60)
            except (RedisError, OSError):  # each on its own, each with its fallback (as without this command)
                revoked, decision = await auth.is_session_revoked_in_database(rt, session_id), None
            if revoked:
                context.session_revoked()
            if decision is not None or (revoked and anonymous is None):
                return _refusal(decision)
        found = _limit_of(context.viewer, rt.settings)
        if found is None:
            return None
        return _refusal(await rt.rate_limiter.hit(found.key, limit=found.limit, window=60))


def _limit_of(viewer: Viewer, settings: Settings) -> Limit | None:
    """The key a request of this viewer counts against: its subject's, else its IP's (None: neither)."""
    if viewer.is_affiliate and viewer.session_id is not None:
        # Per credential (an API token, or one portal sign-in), so one partner's busy integration is held
        # to its token's limit and does not starve its portal users (docs/affiliate-api.md).
        return Limit(f"req:affiliate:{viewer.session_id}", settings.affiliate_requests_per_minute)
    if viewer.id is not None:
        return Limit(f"req:{viewer.kind}:{viewer.id}", settings.requests_per_minute_per_subject)
    if viewer.meta.ip:
        return Limit(f"req:ip:{viewer.meta.ip}", settings.requests_per_minute_per_ip)
    return None


def _refusal(decision: Decision | None) -> GraphQLError | None:
    if decision is None or decision.allowed:
        return None
    return api_error(ApiErrorCode.RATE_LIMITED, "Too many requests.", retryAfter=decision.retry_after)


class FieldPermissions(SchemaExtension):
    """Casbin on every field, decided from the parent type and field name (never `info.path`,
    which carries the client's aliases). Denied: the field is null with a FORBIDDEN error
    (UNAUTHENTICATED when nobody is logged in, so a client knows to log in rather than give up).

    The decision is taken once per (document, roles and brand), before execution: the document's
    coordinates (schema/field_plan.py: every `Type.field` it can resolve, by field name, through every
    fragment) against the coordinates the viewer may use, both cached. Nothing denied: the request runs
    without this per-field hook. Something denied: the hook checks every field as it resolves, and the
    denied ones answer FORBIDDEN at their paths. Subscriptions keep the hook on every event (the
    viewer's roles are re-read while a subscription lives).

    A subscription's root field is resolved once per event, not when the subscription opens, so it is
    also checked here before the source stream starts: a subscription the viewer may not read is
    refused when asked for, whichever resolver serves it."""

    def __init__(self, *, plans: DecisionCache, decisions: DecisionCache) -> None:
        self.plans = plans  # (query text, operation name) → the document's coordinates
        self.decisions = decisions  # (query text, operation name, the viewer's allowed set) → denied ones
        self.middleware: DecidedMiddleware | None = None  # this request's (CroupierSchema hands it over)

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.operation_type == OperationType.SUBSCRIPTION and ctx.graphql_document is not None:
            context: Context = ctx.context
            for name in root_fields(ctx.graphql_document, ctx.operation_name):
                coordinate = f"Subscription.{name}"
                if coordinate not in context.allowed:
                    error = _denied(context, "Subscription", coordinate)
                    _refuse(self, GraphQLError(error.message, extensions=error.extensions))
        elif self.middleware is not None and ctx.graphql_document is not None and not self.denied():
            self.middleware.skip = True
        yield

    def denied(self) -> frozenset[str]:
        """The coordinates of this request's document the viewer may not use (cached)."""
        ctx = self.execution_context
        document = ctx.graphql_document
        assert document is not None
        allowed: frozenset[str] = ctx.context.allowed  # one per (roles, brand) and policy version
        if ctx.query is None:  # no text to key the caches on: decide afresh
            return coordinates(ctx.schema._schema, document, ctx.operation_name) - allowed
        key = (ctx.query, ctx.operation_name, allowed)
        found = self.decisions.get(key)
        if found is None:
            plan_key = (ctx.query, ctx.operation_name)
            wanted = self.plans.get(plan_key)
            if wanted is None:
                wanted = coordinates(ctx.schema._schema, document, ctx.operation_name)
                self.plans.put(plan_key, wanted)
            found = wanted - allowed
            self.decisions.put(key, found)
        return found

    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        type_name = info.parent_type.name
        if type_name.startswith("__") or info.field_name.startswith("__"):
            return _next(root, info, *args, **kwargs)
        coordinate = f"{type_name}.{info.field_name}"
        if coordinate not in info.context.allowed:
            raise _denied(info.context, type_name, coordinate)
        return _next(root, info, *args, **kwargs)


class DecidedMiddleware(MiddlewareManager):
    """The request's per-field hooks (strawberry builds one per request), which the permission decision
    switches off (`skip`) for a request whose every field is allowed: resolvers then run bare."""

    skip = False

    def get_field_resolver(self, field_resolver: Callable[..., Any]) -> Callable[..., Any]:
        return field_resolver if self.skip else super().get_field_resolver(field_resolver)


def _denied(context: Context, type_name: str, coordinate: str) -> ApiError:
    if context.viewer.kind == "anonymous":
        return ApiError(ApiErrorCode.UNAUTHENTICATED, f"Log in to {_verb(type_name)} {coordinate}.")
    return ApiError(ApiErrorCode.FORBIDDEN, f"Not allowed to {_verb(type_name)} {coordinate}.")


class InputLimits(SchemaExtension):
    """No text longer than its declared maximum reaches a resolver (schema/input_limits.py): the
    resolvers of every field with text arguments are wrapped when the schema is built
    (`limit_inputs`), so the check runs before the field resolves and after its permission check, and
    costs nothing on other fields. A subscription's root field resolves once per event, so its
    arguments are also checked here when it opens."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.operation_type == OperationType.SUBSCRIPTION and ctx.graphql_document is not None:
            found = _subscription_too_long(ctx.schema._schema, ctx.graphql_document, ctx.operation_name, ctx.variables)
            if found is not None:
                _refuse(self, api_error(ApiErrorCode.BAD_USER_INPUT, found.message, field=found.field))
        yield


def limit_inputs(schema: GraphQLSchema) -> None:
    """Wrap the resolver of every field with text arguments in the length check (schema/input_limits.py)."""
    for (type_name, field_name), field_plan in plan(schema).items():
        graphql_type = schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        field = graphql_type.fields[field_name]
        field.resolve = _within_limits(field.resolve or default_field_resolver, field_plan)


def _within_limits(resolve: Callable[..., Any], field_plan: FieldPlan) -> Callable[..., Any]:
    def resolve_within_limits(root: Any, info: Any, **kwargs: Any) -> Any:
        if kwargs and (found := first_too_long(field_plan, kwargs)):
            return refuse(field_plan, found)
        return resolve(root, info, **kwargs)

    return resolve_within_limits


def _subscription_too_long(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, raw: dict[str, Any] | None
) -> TooLong | None:
    """The first over-long argument of the subscription's root field (None also when the variables or
    the operation are wrong: execution reports those)."""
    operation = operation_to_run(document, operation_name)
    subscription = schema.subscription_type
    if operation is None or subscription is None:
        return None
    variables = get_variable_values(schema, operation.variable_definitions or (), raw or {})
    if isinstance(variables, list):
        return None
    for node in root_field_nodes(document, operation_name):
        field_plan = plan(schema).get(("Subscription", node.name.value))
        field = subscription.fields.get(node.name.value)
        if field_plan is None or field is None:
            continue
        try:
            found = first_too_long(field_plan, get_argument_values(field, node, variables))
        except GraphQLError:
            continue
        if found is not None:
            return found
    return None


def root_fields(document: DocumentNode, operation_name: str | None) -> list[str]:
    """The root fields the operation to run selects, through fragments (each fragment once)."""
    return [node.name.value for node in root_field_nodes(document, operation_name)]


def operation_to_run(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return next((o for o in operations if operation_name in (None, o.name and o.name.value)), None)


def root_field_nodes(document: DocumentNode, operation_name: str | None) -> list[FieldNode]:
    """The root field selections of the operation to run, through fragments (each fragment once)."""
    operation = operation_to_run(document, operation_name)
    if operation is None:
        return []
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    nodes: list[FieldNode] = []
    seen: set[str] = set()
    pending = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                if not selection.name.value.startswith("__"):
                    nodes.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                if selection.name.value in fragments:
                    pending.append(fragments[selection.name.value].selection_set)
    return nodes


def _verb(type_name: str) -> str:
    return "call" if type_name == "Mutation" else "read"


class DocumentValidation(SchemaExtension):
    """The validation step, bounded: the document's limits first (depth, aliases, query cost: linear in
    its size, schema/document_limits.py), then GraphQL's own rules (cached) for a document within them.

    A document over a limit is refused without running the rules; a request refused before parsing
    (the rate limit) is not validated at all. The thread CPU time the step takes is recorded in
    `croupier_graphql_validation_cpu_seconds`. The query cost uses the request's variables (`first: $n`),
    so it is computed for every request, cached document or not, and reported in `extensions.cost`.
    """

    def __init__(self, *, max_depth: int, max_aliases: int, max_cost: int, cache_size: int) -> None:
        self.max_depth = max_depth
        self.max_aliases = max_aliases
        self.max_cost = max_cost
        self.validate = _cached_validation(cache_size)
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.pre_execution_errors is None and ctx.graphql_document is not None:
            started = time.thread_time()
            ctx.pre_execution_errors = self.errors(ctx.graphql_document)
            VALIDATION_SECONDS.observe(time.thread_time() - started)
        yield

    def errors(self, document: DocumentNode) -> list[GraphQLError]:
        """The document's limits, then (within them) GraphQL's own rules: synchronous, no I/O."""
        errors = self._limit_errors(document)
        if not errors:
            ctx = self.execution_context
            errors = self.validate(ctx.schema._schema, document, ctx.validation_rules)
        return errors

    def _limit_errors(self, document: DocumentNode) -> list[GraphQLError]:
        ctx = self.execution_context
        try:
            analysis = analyse(document, ctx.variables or {}, ctx.operation_name)
        except FragmentCycle as cycle:
            return [api_error(ApiErrorCode.BAD_USER_INPUT, str(cycle))]
        errors = [
            api_error(ApiErrorCode.BAD_USER_INPUT, f"'{name}' exceeds maximum operation depth of {self.max_depth}")
            for name, depth in analysis.depths.items()
            if depth > self.max_depth
        ]
        if analysis.aliases > self.max_aliases:
            message = f"{analysis.aliases} aliases found. Allowed: {self.max_aliases}"
            errors.append(api_error(ApiErrorCode.BAD_USER_INPUT, message))
        self.cost = analysis.cost
        if self.cost is not None and self.cost > self.max_cost:
            message = f"Query cost {self.cost} exceeds the limit of {self.max_cost}."
            errors.append(api_error(ApiErrorCode.BAD_USER_INPUT, message, cost=self.cost, maximumCost=self.max_cost))
        return errors

    def get_results(self) -> dict[str, Any]:
        return {"cost": {"requested": self.cost, "maximum": self.max_cost}} if self.cost is not None else {}


@functools.cache
def _cached_validation(maxsize: int) -> Callable[..., list[GraphQLError]]:
    """GraphQL's rules, memoised per (schema, document, rules) across requests (the parser cache hands
    out the same document for the same text), as strawberry's ValidationCache does."""
    return functools.lru_cache(maxsize=maxsize)(validate_document)


def _is_expected(error: GraphQLError) -> bool:
    original = error.original_error
    return (
        original is None
        or isinstance(original, (ApiError, GraphQLError))
        or (type(original).__name__ in ("InvalidGlobalIDError", "StrawberryInputCoercionError"))
    )


class MaskUnexpectedErrors(MaskErrors):
    """Unexpected exceptions become `INTERNAL` with the request id; the original is logged."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not _is_expected(error), error_message="Internal error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return _masked(error, getattr(self.execution_context.context, "request_id", None))

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return super()._process_errors([_client_refusal(error) or error for error in errors])


# strawberry's refusals of the request's operation itself (no such operation name, several operations
# and none named, an operation type the transport does not allow, no query): the client's mistake, which
# HTTP already answers with a 4xx; over WebSocket they reached the masking as unexpected (INTERNAL).
_OPERATION_REFUSALS = (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError)


def _client_refusal(error: GraphQLError) -> GraphQLError | None:
    """The error as a BAD_USER_INPUT refusal when it is a refusal, not a failure: one of strawberry's
    refusals of the operation, or a service's `DomainError` raised where no payload carries `errors` (a
    query field, a subscription) — its code in `extensions.reason`, its field in `extensions.field`."""
    original = error.original_error
    if isinstance(original, DomainError):
        extensions = {"code": ApiErrorCode.BAD_USER_INPUT.value, "reason": original.code.value}
        if original.field:
            extensions["field"] = original.field
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )
    if not isinstance(original, _OPERATION_REFUSALS):
        return None
    message = error.message
    if isinstance(error.original_error, CannotGetOperationTypeError):
        message = error.original_error.as_http_error_reason()  # "Unknown operation named …"
    return api_error(ApiErrorCode.BAD_USER_INPUT, message)


def masked_errors(errors: list[GraphQLError], request_id: str | None) -> list[GraphQLError]:
    """The errors as MaskUnexpectedErrors leaves them (for results made outside strawberry's lifecycle)."""
    return [
        _client_refusal(error) or (error if _is_expected(error) else _masked(error, request_id)) for error in errors
    ]


def _masked(error: GraphQLError, request_id: str | None) -> GraphQLError:
    log.error(
        "graphql_unexpected_error", path=error.path, error=repr(error.original_error), exc_info=error.original_error
    )
    masked = GraphQLError(
        "Internal error.", nodes=error.nodes, source=error.source, positions=error.positions, path=error.path
    )
    masked.extensions = {"code": ApiErrorCode.INTERNAL.value, "requestId": request_id}
    return masked
