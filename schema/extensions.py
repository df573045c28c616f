"""Schema extensions: the request gate, field permissions, query cost, error masking.

They are passed to the schema as classes or factories, so every request gets fresh instances.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.types.graphql import OperationType

from core.errors import ApiError, ApiErrorCode
from core.logging import get_logger
from schema.context import Context

log = get_logger(__name__)

CONNECTION_ARGS = ("first", "last")
DEFAULT_LIST_SIZE = 20  # core.pagination.DEFAULT_PAGE: what a connection returns without first/last


def api_error(code: ApiErrorCode, message: str, **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code.value, **extra})


def _refuse(extension: SchemaExtension, error: GraphQLError) -> None:
    """Skip execution and answer with this error. Queries and mutations: strawberry runs nothing when a
    result is set. Subscriptions: strawberry ignores a set result, but answers an error raised from
    `on_execute` with that error (and never starts the source stream)."""
    if extension.execution_context.operation_type == OperationType.SUBSCRIPTION:
        raise error
    extension.execution_context.result = GraphQLExecutionResult(data=None, errors=[error])


def _carries_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_carries_nul(key) or _carries_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_carries_nul(item) for item in value)
    return False


class _NulInDocument(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if "\x00" in node.value:
            self.found = True
            return BREAK
        return None


def carries_nul(query: str | None, document: DocumentNode | None, variables: dict[str, Any] | None) -> bool:
    """Does the request hold text with a NUL character (in a variable or a literal, \\u0000)? PostgreSQL
    stores no such text, so it would fail wherever it reached the database. A literal holds one only
    through a unicode escape, so a document without one is not walked."""
    if _carries_nul(variables or {}):
        return True
    if document is None or (query is not None and "\\u" not in query):
        return False
    visitor = _NulInDocument()
    visit(document, visitor)
    return visitor.found


class RequestGate(SchemaExtension):
    """Before anything runs: bad credentials, CSRF, the per-subject / per-IP rate limits, and text that
    cannot be stored (a NUL character)."""

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
        elif carries_nul(
            self.execution_context.query, self.execution_context.graphql_document, self.execution_context.variables
        ):
            _refuse(self, api_error(ApiErrorCode.BAD_USER_INPUT, "Text may not contain the NUL character (\\u0000)."))
        else:
            await self._rate_limit(context)
        yield

    async def _rate_limit(self, context: Context) -> None:
        settings = context.rt.settings
        viewer = context.viewer
        if viewer.id is not None:
            key, limit = f"req:{viewer.kind}:{viewer.id}", settings.requests_per_minute_per_subject
        elif viewer.meta.ip:
            key, limit = f"req:ip:{viewer.meta.ip}", settings.requests_per_minute_per_ip
        else:
            return
        decision = await context.rt.rate_limiter.hit(key, limit=limit, window=60)
        if not decision.allowed:
            _refuse(self, api_error(ApiErrorCode.RATE_LIMITED, "Too many requests.", retryAfter=decision.retry_after))


class FieldPermissions(SchemaExtension):
    """Casbin on every field, decided from the parent type and field name (never `info.path`,
    which carries the client's aliases). Denied: the field is null with a FORBIDDEN error
    (UNAUTHENTICATED when nobody is logged in, so a client knows to log in rather than give up)."""

    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        type_name = info.parent_type.name
        if type_name.startswith("__") or info.field_name.startswith("__"):
            return _next(root, info, *args, **kwargs)
        coordinate = f"{type_name}.{info.field_name}"
        if coordinate not in info.context.allowed:
            if info.context.viewer.kind == "anonymous":
                raise ApiError(ApiErrorCode.UNAUTHENTICATED, f"Log in to {_verb(type_name)} {coordinate}.")
            raise ApiError(ApiErrorCode.FORBIDDEN, f"Not allowed to {_verb(type_name)} {coordinate}.")
        return _next(root, info, *args, **kwargs)


def _verb(type_name: str) -> str:
    return "call" if type_name == "Mutation" else "read"


class QueryCost(SchemaExtension):
    """A static cost per operation: one per field, times the page size under connections.

    Computed after validation with the request's variables (a cached document still has its cost
    computed, since `first: $n` differs per request), refused above the limit, and reported in the
    response's `extensions.cost` either way.
    """

    def __init__(self, *, maximum: int) -> None:
        self.maximum = maximum
        self.cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.result is None:
            fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            operation = next((op for op in operations if ctx.operation_name in (None, op.name and op.name.value)), None)
            if operation is not None:
                self.cost = _selection_cost(operation.selection_set, fragments, ctx.variables or {}, 1, set())
                if self.cost > self.maximum:
                    _refuse(
                        self,
                        api_error(
                            ApiErrorCode.BAD_USER_INPUT,
                            f"Query cost {self.cost} exceeds the limit of {self.maximum}.",
                            cost=self.cost,
                            maximumCost=self.maximum,
                        ),
                    )
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": {"requested": self.cost, "maximum": self.maximum}} if self.cost is not None else {}


def _page_size(field: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value in CONNECTION_ARGS:
            value = argument.value
            raw = variables.get(value.name.value) if isinstance(value, VariableNode) else getattr(value, "value", None)
            try:
                return max(int(raw), 1) if raw is not None else None
            except (TypeError, ValueError):
                return None
    return None


def _is_connection(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> bool:
    """Whether a field's selection reads `edges` or `pageInfo`, also through fragments (a fragment must
    not hide a default-sized page from the cost)."""
    for child in selection_set.selections if selection_set else ():
        if isinstance(child, FieldNode) and child.name.value in ("edges", "pageInfo"):
            return True
        if isinstance(child, InlineFragmentNode) and _is_connection(child.selection_set, fragments, seen):
            return True
        if isinstance(child, FragmentSpreadNode) and child.name.value in fragments and child.name.value not in seen:
            name = child.name.value
            if _is_connection(fragments[name].selection_set, fragments, seen | {name}):
                return True
    return False


def _selection_cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    multiplier: int,
    seen: set[str],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            total += multiplier
            size = _page_size(selection, variables)
            if size is None and _is_connection(selection.selection_set, fragments):
                size = DEFAULT_LIST_SIZE
            inner = multiplier if size is None else multiplier * size
            total += _selection_cost(selection.selection_set, fragments, variables, inner, seen)
        elif isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, fragments, variables, multiplier, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                total += _selection_cost(fragments[name].selection_set, fragments, variables, multiplier, seen | {name})
    return total


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
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None)
        log.error(
            "graphql_unexpected_error", path=error.path, error=repr(error.original_error), exc_info=error.original_error
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": ApiErrorCode.INTERNAL.value, "requestId": request_id}
        return masked
