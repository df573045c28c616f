"""The GraphQL WebSocket: graphql-transport-ws (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md)
on the raw ASGI connection, past Starlette's and strawberry's WebSocket layers.

A live subscription keeps a WebSocket open for hours, and whatever serves it is kept as long: here a
connection is one small object, the ASGI task uvicorn runs it in (waiting in `receive`), and the
connection_init deadline is a timer, not a task. A subscription whose document allows it
(schema/live_plan.py) is one task driving its resolver's generator and graphql-core's executor; any
other operation (a query or mutation sent over the socket, a refused or unusual document) runs through
strawberry's `Schema.stream`, exactly as strawberry's own handler ran it, so it is answered as before.

The protocol, as strawberry's handler spoke it (the clients and tests rely on each word):
- `connection_init` once, within `GRAPHQL_WS_INIT_SECONDS` (else close 4408), with an object payload,
  none or null (else 4400); `{"authorization": "Bearer …"}` authenticates (a bad token closes 4403); a second one
  closes 4429; the answer is `connection_ack`;
- `ping` → `pong`; a `pong` is ignored;
- `subscribe` before the ack closes 4401; an id in use closes 4409; past
  `GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION` operations the subscribe gets an `error`; a payload that is
  not a GraphQL request gets an `error` with BAD_USER_INPUT; results are `next`, then `complete`;
- `complete` from the client stops its operation (its id may be used again);
- a frame that is not text, not JSON (schema/wire.py) or not a message, and an unknown type, close 4400;
- only the `graphql-transport-ws` subprotocol: another (the legacy `graphql-ws`) is accepted and closed
  with 4406; a cross-origin browser the router does not allow is refused in the handshake (403).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from types import SimpleNamespace
from typing import Any, cast

from graphql import GraphQLError, GraphQLSyntaxError
from starlette.types import Message, Receive, Scope, Send
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.execution import ExecutionResult, PreExecutionError

from authz.viewer import still_valid
from core.errors import ApiErrorCode
from core.logging import get_logger
from schema.context import Context
from schema.live_plan import LivePlans, Opened, Refused
from schema.wire import MalformedJson, decode_json, request_problem

log = get_logger(__name__)
# How long a client's `complete` holds the connection's reader while its operation leaves the hub.
STOP_WAIT_SECONDS = 2.0


class Endpoint:
    """What every connection of the process shares: the router (authentication in connection_init,
    JSON encoding, the origin rule), the schema, the per-document plans and the limits."""

    def __init__(
        self,
        router: Any,
        make_context: Callable[[Scope], Awaitable[Context]],
        *,
        plans: LivePlans,
        max_operations: int,
        init_seconds: float,
    ) -> None:
        self.router = router
        self.schema = router.schema
        self.make_context = make_context
        self.plans = plans
        self.max_operations = max_operations
        self.init_seconds = init_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        if not self._origin_allowed(scope):
            await send({"type": "websocket.close", "code": 1008})  # before accepting: uvicorn answers 403
            return
        if GRAPHQL_TRANSPORT_WS_PROTOCOL not in (scope.get("subprotocols") or ()):
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 4406, "reason": "Subprotocol not acceptable"})
            return
        context = await self.make_context(scope)
        # Read (client address, user agent): nothing reads the handshake's headers again, and the scope
        # lives as long as the connection.
        scope["headers"] = []
        await send({"type": "websocket.accept", "subprotocol": GRAPHQL_TRANSPORT_WS_PROTOCOL})
        await Connection(self, send, context).run(receive)

    def _origin_allowed(self, scope: Scope) -> bool:
        """strawberry's rule for a browser's cross-origin handshake (the router's `allowed_origins`)."""
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope.get("headers", ())}
        return bool(self.router._check_websocket_origin(SimpleNamespace(headers=headers)))


class Connection:
    """One WebSocket's protocol state and operations."""

    __slots__ = (
        "_acknowledged",
        "_closed",
        "_closing",
        "_endpoint",
        "_init_timer",
        "_initialised",
        "_send",
        "_stopping",
        "context",
        "operations",
    )

    def __init__(self, endpoint: Endpoint, send: Send, context: Context) -> None:
        self._endpoint = endpoint
        self._send = send
        self.context = context
        self.operations: dict[str, asyncio.Task[None]] = {}
        self._stopping: set[asyncio.Task[None]] = set()  # completed by the client, still winding down
        self._initialised = self._acknowledged = self._closed = False
        self._init_timer: asyncio.TimerHandle | None = None
        self._closing: asyncio.Task[None] | None = None  # the close of a connection_init that never came

    async def run(self, receive: Receive) -> None:
        self._init_timer = asyncio.get_running_loop().call_later(self._endpoint.init_seconds, self._init_timed_out)
        try:
            while not self._closed:
                if not await self._on_event(await receive()):
                    break
        finally:
            self._closed = True
            await self._shutdown()

    async def _on_event(self, event: Message) -> bool:
        """One ASGI event (its own frame: nothing of a message stays referenced while the socket waits);
        False once the connection is over."""
        if event["type"] == "websocket.disconnect":
            return False
        if event["type"] != "websocket.receive":
            return True
        text = event.get("text")
        if text is None:
            await self.close(4400, "WebSocket message type must be text")
            return False
        try:
            message = decode_json(text)
        except MalformedJson:
            await self.close(4400, "WebSocket message must be valid JSON")
            return False
        await self._handle(message)
        return True

    async def _shutdown(self) -> None:
        if self._init_timer is not None:
            self._init_timer.cancel()
        tasks = [*self.operations.values(), *self._stopping]
        self.operations.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:  # let each leave the hub (its `finally`) before the connection is gone
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task

    async def send(self, message: Mapping[str, object]) -> None:
        if self._closed:
            return
        try:
            await self._send({"type": "websocket.send", "text": self._endpoint.router.encode_json(message)})
        except (OSError, RuntimeError):  # the client is gone; the receive loop ends on its disconnect
            self._closed = True

    async def close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError, RuntimeError):
            await self._send({"type": "websocket.close", "code": code, "reason": _close_frame_reason(reason)})

    def _init_timed_out(self) -> None:
        if not self._initialised and not self._closed:
            self._closing = asyncio.get_running_loop().create_task(
                self.close(4408, "Connection initialisation timeout")
            )

    async def _handle(self, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.close(4400, "A message is a JSON object with a string `type`.")
            return
        kind = message["type"]
        if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
            await self.close(4400, "An operation message needs a string `id`.")
            return
        if kind == "connection_init":
            payload = message.get("payload")
            await self._connection_init({} if payload is None else payload)  # PROTOCOL.md: an object, or null
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            await self._subscribe(message["id"], message.get("payload"))
        elif kind == "complete":
            await self._stop(message["id"])
        else:
            await self.close(4400, f"Unknown message type: {kind}")

    async def _stop(self, operation_id: str) -> None:
        """The client's `complete`: the operation is cancelled and awaited before the next message is
        read, so it has left the hub (its `finally`) by then, and an operation still winding down can
        never stand beside a new one the limit let in for it."""
        task = self.operations.pop(operation_id, None)
        if task is None:
            return
        task.cancel()
        # Bounded: an operation stuck leaving (its hub join waiting on a hung Redis) must not stop this
        # connection's pings and messages; it still counts against the limit until it has ended.
        await asyncio.wait({task}, timeout=STOP_WAIT_SECONDS)  # never raises the operation's end
        if not task.done():
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    async def _connection_init(self, payload: Any) -> None:
        if self._closing is not None:
            return
        if self._init_timer is not None:
            self._init_timer.cancel()
        if not isinstance(payload, dict):
            await self.close(4400, "Invalid connection init payload")
            return
        if self._initialised:
            await self.close(4429, "Too many initialisation requests")
            return
        self._initialised = True
        self.context.connection_params = payload
        try:
            acknowledgement = await self._endpoint.router.on_ws_connect(self.context)
        except ConnectionRejectionError:
            await self.close(4403, "Forbidden")
            return
        await self.send({"type": "connection_ack", "payload": acknowledgement})
        self._acknowledged = True

    async def _subscribe(self, operation_id: str, payload: Any) -> None:
        if self._acknowledged:
            problem = request_problem(payload)
            if problem is None and not isinstance(cast(Mapping[str, Any], payload).get("query"), str):
                problem = "A subscribe payload needs a `query`."
            if problem is not None:
                error = GraphQLError(problem, extensions={"code": ApiErrorCode.BAD_USER_INPUT.value})
                await self.send({"id": operation_id, "type": "error", "payload": [error.formatted]})
                return
        if not self._acknowledged:
            await self.close(4401, "Unauthorized")
            return
        if operation_id in self.operations:
            await self.close(4409, f"Subscriber for {operation_id} already exists")
            return
        if len(self.operations) + len(self._stopping) >= self._endpoint.max_operations:
            error = GraphQLError("Subscription limit reached")
            await self.send({"id": operation_id, "type": "error", "payload": [error.formatted]})
            return
        query: str = payload["query"]
        variables: dict[str, Any] | None = payload.get("variables")
        operation_name: str | None = payload.get("operationName")
        self.operations[operation_id] = asyncio.get_running_loop().create_task(
            self._operation(operation_id, query, variables, operation_name), name="graphql-operation"
        )

    async def _operation(
        self, operation_id: str, query: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> None:
        try:
            # The viewer was proved once, at connection_init: each operation checks it again (a revoked API
            # token, a closed partner, a logout or an expiry ends what a socket may run, as it ends HTTP).
            current = await still_valid(self.context.rt, self.context.viewer)
            if current is None:
                ended = GraphQLError(
                    "The session has ended: sign in again.", extensions={"code": ApiErrorCode.UNAUTHENTICATED.value}
                )
                await self._last(operation_id, _error(operation_id, [ended]))
                return
            self.context.viewer = current
            plan = self._endpoint.plans.plan(query, operation_name)
            opened = await self._endpoint.plans.open(plan, query, variables, self.context) if plan else None
            if isinstance(opened, Refused):
                await self._last(operation_id, _error(operation_id, opened.errors))
                return
            if isinstance(opened, Opened):
                # Closed when the loop ends in any way: cancelled while a `next` is being sent, the
                # generator is suspended at its `yield`, and only closing it runs its `finally` (leaving
                # the hub) now rather than whenever the collector finds it.
                async with contextlib.aclosing(opened.payloads()) as payloads:
                    async for payload in payloads:
                        await self._next(operation_id, payload)
            elif not await self._through_strawberry(operation_id, query, variables, operation_name):
                return
            await self._last(operation_id, {"id": operation_id, "type": "complete"})
        except Exception:
            log.exception("graphql_ws_operation_failed")
            with contextlib.suppress(Exception):
                await self._last(operation_id, {"id": operation_id, "type": "complete"})

    async def _through_strawberry(
        self, operation_id: str, query: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> bool:
        """Run the operation as strawberry's graphql-transport-ws handler does; False when it ended the
        operation (or the connection) itself, True when a `complete` is due."""
        source = await self._endpoint.schema.stream(
            query, variable_values=variables, context_value=self.context, operation_name=operation_name
        )
        try:
            first = True
            async for result in _parse_errors_returned(source):
                if first and isinstance(result, PreExecutionError):
                    assert result.errors
                    reason = _close_reason(result.errors[0])
                    if reason is not None:
                        self.operations.pop(operation_id, None)
                        await self.close(4400, reason)
                    else:
                        await self._last(operation_id, _error(operation_id, result.errors))
                    return False
                if not isinstance(result, ExecutionResult):
                    error = GraphQLError("Incremental delivery is not supported over graphql-transport-ws")
                    await self._last(operation_id, _error(operation_id, [error]))
                    return False
                await self._next(operation_id, _payload(result))
                first = False
        finally:
            await source.aclose()
        return True

    async def _next(self, operation_id: str, payload: dict[str, Any]) -> None:
        if self.operations.get(operation_id) is asyncio.current_task():
            await self.send({"id": operation_id, "type": "next", "payload": payload})

    async def _last(self, operation_id: str, message: dict[str, Any]) -> None:
        """`complete` or `error`: the operation ends, and its id is free before the client hears it."""
        if self.operations.get(operation_id) is asyncio.current_task():
            del self.operations[operation_id]
            await self.send(message)


async def _parse_errors_returned(source: Any) -> Any:
    """strawberry's stream, with the syntax error its parser cache raises (from the parsing hook, outside
    the stream's own error handling) turned into the pre-execution error it stands for; raised, it
    ended the operation with a bare `complete`, the client never told why."""
    try:
        async for result in source:
            yield result
    except GraphQLSyntaxError as error:
        yield PreExecutionError(data=None, errors=[error])


def _error(operation_id: str, errors: list[GraphQLError]) -> dict[str, Any]:
    return {"id": operation_id, "type": "error", "payload": [error.formatted for error in errors]}


def _payload(result: ExecutionResult) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


def _close_reason(error: GraphQLError) -> str | None:
    """A document that cannot be parsed, or names no operation to run, closes the socket (as strawberry)."""
    if isinstance(error, GraphQLSyntaxError):
        return error.message
    if isinstance(error.original_error, CannotGetOperationTypeError):
        return error.original_error.as_http_error_reason()
    return None


MAX_CLOSE_REASON_BYTES = 123  # RFC 6455 § 5.5: a control frame's payload is 125 bytes, 2 of them the code


def _close_frame_reason(reason: str) -> str:
    """The reason cut to what a close frame carries (it may quote the client's text: a type, a document,
    an operation name); a longer one makes the close itself fail and leaves the socket half open."""
    encoded = reason.encode()
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return reason
    return encoded[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."
