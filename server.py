"""The ASGI app: FastAPI with GraphQL (HTTP + graphql-transport-ws), health, metrics, the admin client and the
partner portal.

Start-up resolves the database and Redis (embedded ones when no URL is configured), builds the
runtime, and checks migrations: development applies pending ones, production refuses to start. Then
the background work starts: the RG and bonus workers, and the event pipeline, on a loop of its own in a
thread (core/loop_thread.py): the outbox relay and (unless EVENT_CONSUMERS is off) a runner per consumer
of the event stream (services/consumers.py); all are cancelled at shutdown.
"""

from __future__ import annotations

import asyncio
import gc
import json
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from cross_web import HTTPException
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.background import BackgroundTasks
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from authz.policy import Authorizer
from authz.subjects import ANONYMOUS, RequestMeta
from authz.viewer import ViewerRejected, viewer_for
from core import embedded, migrations
from core.errors import ApiErrorCode
from core.graphiql import graphiql_page
from core.logging import configure_logging, get_logger, request_id_var
from core.loop_thread import LoopThread
from core.outbox import Relay, asyncpg_dsn
from core.redis import create_redis
from core.runtime import Runtime
from core.settings import Settings, get_settings, is_private_host
from resolvers.common import ACCESS_COOKIE
from schema import uploads
from schema.context import Context
from schema.kept_answers import KeptAnswers
from schema.live_plan import LivePlans
from schema.persisted import PersistedQueries, PersistedQueryRefused
from schema.root import build_schema, schema_coordinates
from schema.transport_ws import Endpoint
from schema.wire import MalformedJson, decode_json, request_problem
from services import consumers, lobby_cache
from services.affiliates import fraud as affiliate_fraud
from services.affiliates.postbacks import worker as postback_worker
from services.bonuses import worker as bonus_worker
from services.cashier.crypto import sweeper as crypto_held_sweeper
from services.crm.channels import sender as crm_sender
from services.crm.journeys import clock as journey_clock
from services.crm.lobby import popular as lobby_popular
from services.crm.segments import sweep as crm_segments_sweep
from services.kyc import documents_expiry as kyc_expiry
from services.providers import catalogue_sync
from services.reports import schedule as report_schedule
from services.rg import worker as rg_worker
from services.risk import expiry as risk_expiry
from services.risk import rules as risk_rules
from services.risk.store import OnSession
from services.tournaments import worker as tournament_worker

log = get_logger(__name__)
access_log = get_logger("croupier.access")
ADMIN_DIR = Path(__file__).resolve().parent / "admin"

REQUESTS = Counter("croupier_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("croupier_http_request_seconds", "HTTP request latency", ["method", "route"])


def client_meta(connection: HTTPConnection, settings: Settings, request_id: str | None) -> RequestMeta:
    ip = connection.client.host if connection.client else None
    if settings.trusted_proxy_hops:
        hops = [part.strip() for part in connection.headers.get("x-forwarded-for", "").split(",") if part.strip()]
        if len(hops) >= settings.trusted_proxy_hops:
            ip = hops[-settings.trusted_proxy_hops]
    country = None
    if settings.country_header:
        raw = (connection.headers.get(settings.country_header) or "").strip().upper()
        country = raw if len(raw) == 2 and raw.isalpha() else None
    return RequestMeta(
        ip=ip,
        country=country,
        user_agent=connection.headers.get("user-agent"),
        request_id=request_id,
        device_id=(connection.headers.get("x-device-id") or "")[:256] or None,
    )


def arrived_privately(connection: HTTPConnection) -> bool:
    """Whether the request came in on a private or loopback address of this server (the socket's
    local end, which a client cannot forge)."""
    server = connection.scope.get("server")
    if not server:
        return False
    host = str(server[0])
    return host.startswith("/") or is_private_host(host)  # a unix socket is reachable from this machine only


def route_label(request: Request) -> str:
    """A bounded label for metrics: the route's template, never an unmatched raw path.

    Routes of an included router (GraphQL) carry a path relative to their prefix, so a matched one
    is labelled with the request path, which is then one of that router's few fixed paths.
    """
    route = request.scope.get("route")
    if route is None:
        return "unmatched"
    return str(getattr(route, "path", "") or request.url.path)


class RequestContext:
    """Request id, metrics and the access log for every HTTP request, and a JSON 500 for an unhandled error.

    Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs each request
    in an extra task with a re-streamed body, a cost every wallet call paid (bench/README.md).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                answered, status = True, message["status"]
                message.setdefault("headers", [])
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:  # the client left before its body arrived: no one to answer, nothing broke
            status = 499
            log.info("client_disconnected", path=scope["path"])
        except Exception:
            log.exception("unhandled_error", path=scope["path"])
            if answered:  # too late for a clean answer; the server closes the connection
                raise
            status = 500
            await JSONResponse(
                {"error": "internal", "requestId": request_id}, status_code=500, headers={"X-Request-ID": request_id}
            )(scope, receive, send)
        finally:
            path = route_label(Request(scope))
            elapsed = time.perf_counter() - started
            LATENCY.labels(scope["method"], path).observe(elapsed)
            REQUESTS.labels(scope["method"], path, str(status)).inc()
            access_log.info(
                "request", method=scope["method"], path=scope["path"], status=status, ms=round(elapsed * 1000, 2)
            )
            request_id_var.reset(token)


def bearer_token(connection: HTTPConnection) -> tuple[str | None, bool]:
    """The access token and whether it came from a cookie (which then needs the CSRF header)."""
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), False
    cookie = connection.cookies.get(ACCESS_COOKIE)
    return (cookie, True) if cookie else (None, False)


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
SUB_RESPONSE = "croupier.graphql_sub_response"  # the scope key of a fast-path request's sub-response
STATUS_FOR_CODE = {
    ApiErrorCode.UNAUTHENTICATED.value: 401,
    ApiErrorCode.FORBIDDEN.value: 403,
    ApiErrorCode.RATE_LIMITED.value: 429,
}
# (media type, status) of the GraphQL response being written; set and read within one request.
_response_format: ContextVar[tuple[str, int]] = ContextVar("graphql_response_format", default=("application/json", 200))


def preferred_media_type(accept: str | None) -> str:
    """GraphQL over HTTP: `application/graphql-response+json` when the client asks for it first."""
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if media in ("application/json", "*/*", "application/*"):
            return "application/json"
    return "application/json"


class CroupierGraphQLRouter(GraphQLRouter[Context, None]):
    """strawberry's router, with the request read strictly (schema/wire.py) and every refusal before
    execution answered as GraphQL over HTTP: a 4xx with `errors` and `extensions.code`, never plain
    text and never a 500."""

    ide_page: str | None = None  # our GraphiQL page (core/graphiql.py); strawberry's CDN page when unset
    persisted: PersistedQueries | None = None  # the registry of persisted queries (set at start-up)
    kept: KeptAnswers | None = None  # finished answers of catalogue reads (schema/kept_answers.py)
    settings: Settings | None = None  # multipart uploads: their preflight header and size bound

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(self.ide_page or self.graphql_ide_html)

    async def get_sub_response(self, request: Request) -> Response:
        """The response a resolver sets cookies on: the request's own (`serve_http`), not strawberry's one
        attribute of the router, which a concurrent request could replace while this one awaits."""
        own: Response | None = request.scope.get(SUB_RESPONSE)
        return own if own is not None else await super().get_sub_response(request)

    async def serve_http(
        self, scope: Scope, receive: Receive, send: Send, context_getter: Callable[[HTTPConnection], Awaitable[Context]]
    ) -> None:
        """A GET or POST to the endpoint, as the routes strawberry's router declares do it, without
        FastAPI's routing and dependency injection around it (their share of a small read's CPU was
        about a third; bench/README.md § 7): the same context, the same sub-response for cookies, the
        same background tasks, the same plain-text answer to an HTTPException that escapes `run`."""
        request = Request(scope, receive)
        sub_response = Response()
        del sub_response.headers["content-length"]
        sub_response.status_code = None  # type: ignore[assignment]  # as FastAPI's: unset until a resolver sets it
        scope[SUB_RESPONSE] = sub_response
        context = await context_getter(request)
        background = BackgroundTasks()
        context.request, context.response, context.background_tasks = request, sub_response, background
        lookup = await self.kept.look_up(request, context, self.persisted) if self.kept is not None else None
        if lookup is not None and lookup.body is not None:  # a catalogue read answered before (schema/kept_answers.py)
            await lookup.response(preferred_media_type(request.headers.get("accept")))(scope, receive, send)
            return
        try:
            response = await self.run(request, context, None)
        except HTTPException as exc:
            response = PlainTextResponse(exc.reason, status_code=exc.status_code)
        if lookup is not None:
            lookup.keep_if_clean(response, sub_response, background, context.rt)
        if response.background is None and background.tasks:
            response.background = background
        try:
            await response(scope, receive, send)
        finally:
            await request.close()  # a multipart upload's spooled files (FastAPI's routing did this)

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:
        if self.is_websocket_request(request):
            return await super().run(request, context, root_value)
        try:
            if request.method == "GET":
                try:
                    unquote_to_bytes(request.scope["query_string"].replace(b"+", b" ")).decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise HTTPException(400, "The request's parameters are not UTF-8.") from exc
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            return self._refusal(request, exc.reason, ApiErrorCode.BAD_USER_INPUT, exc.status_code)
        except PersistedQueryRefused as exc:
            # Apollo's and urql's links read the code from a 200 (application/json); GraphQL over HTTP's
            # own media type gets a 400 (the request never reached execution).
            media = preferred_media_type(request.headers.get("accept"))
            return self._refusal(request, exc.message, exc.code, 400 if media == GRAPHQL_RESPONSE_JSON else 200)

    def _refusal(self, request: Any, message: str, code: ApiErrorCode, status: int) -> Response:
        media = preferred_media_type(request.headers.get("accept"))
        error = {"message": message, "extensions": {"code": code.value}}
        return Response(self.encode_json({"errors": [error]}), status_code=status, media_type=f"{media}; charset=utf-8")

    async def parse_http_body(self, request: Any) -> Any:
        content_type = parse_content_type(request.content_type or "")[0]
        if request.method == "POST" and content_type == "multipart/form-data" and self.settings is not None:
            # A file upload (GraphQL multipart request spec), admitted as safely as JSON (schema/uploads.py).
            uploads.check_multipart(
                request.headers,
                csrf_header=self.settings.csrf_header,
                max_file_bytes=self.settings.kyc_document_max_bytes,
            )
            await uploads.read_form(request)
        elif request.method == "POST" and "application/json" not in content_type:
            raise HTTPException(415, "Send GraphQL requests as application/json (or multipart/form-data for uploads).")
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and self.persisted is not None:
            persisted = (data.extensions or {}).get("persistedQuery")
            if persisted is not None:
                data.query = await self.persisted.document(data.query, persisted)
        return data

    def encode_json(self, data: object) -> str:
        """Every answer, over HTTP and WebSocket (text: graphql-transport-ws sends text frames). orjson
        is several times faster than the standard library on a page of results; what it cannot encode
        (an integer beyond 64 bits, a key that is not a string, in a JSON scalar) goes the standard way."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    def decode_json(self, data: str | bytes) -> object:
        """Every JSON the endpoint reads (WebSocket messages too: a MalformedJson closes with 4400)."""
        return decode_json(data)

    def parse_json(self, data: str | bytes) -> Any:
        """A POST body: one GraphQL request."""
        try:
            request = decode_json(data)
        except MalformedJson as exc:
            raise HTTPException(400, exc.reason) from exc
        if (problem := request_problem(request)) is not None:
            raise HTTPException(400, problem)
        return request

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        """GET: `variables` and `extensions` are JSON objects in the query string."""
        request: dict[str, Any] = dict(params)
        for key in ("variables", "extensions"):
            if request.get(key):
                try:
                    request[key] = decode_json(request[key])
                except MalformedJson as exc:
                    raise HTTPException(400, f"`{key}`: {exc.reason}") from exc
            else:
                request.pop(key, None)
        if (problem := request_problem(request)) is not None:
            raise HTTPException(400, problem)
        return request

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """graphql-transport-ws: authenticate with `{"authorization": "Bearer …"}` in connection_init."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        context.connection_params = None  # the viewer is what the token proved; the socket keeps no credential
        raw = str(params.get("authorization") or params.get("Authorization") or params.get("token") or "")
        token = raw.partition(" ")[2] if raw.lower().startswith("bearer ") else raw or None
        brand = params.get("brand")
        if brand is not None and not isinstance(brand, str):
            raise ConnectionRejectionError({"code": ApiErrorCode.BAD_USER_INPUT.value})
        try:
            context.viewer = await viewer_for(context.rt, token, brand_code=brand, meta=context.viewer.meta)
        except ViewerRejected as exc:
            raise ConnectionRejectionError({"code": ApiErrorCode.UNAUTHENTICATED.value}) from exc
        return None

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute_operation(*args, **kwargs)
        except HTTPException as exc:
            if exc.status_code == 400 and "not allowed when using GET" in exc.reason:
                raise HTTPException(405, exc.reason) from exc  # GraphQL over HTTP: 405 for GET mutations
            raise

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        errors: list[dict[str, Any]] = response.get("errors") or []  # type: ignore[assignment]
        for error in errors:
            error.setdefault("extensions", {}).setdefault("code", ApiErrorCode.BAD_USER_INPUT.value)
        media = preferred_media_type(request.headers.get("accept"))
        status = 200
        # A request that never reached execution (malformed, invalid, refused) has no `data`; with
        # the GraphQL response media type that is a 4xx (application/json stays 200, as the spec says).
        if (
            media == GRAPHQL_RESPONSE_JSON
            and response.get("data") is None
            and errors
            and not any("path" in error for error in errors)
        ):
            response.pop("data", None)
            status = STATUS_FOR_CODE.get(errors[0]["extensions"]["code"], 400)
        _response_format.set((media, status))
        return response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        media, status = _response_format.get()
        response.headers["content-type"] = f"{media}; charset=utf-8"
        if response.status_code == 200:
            response.status_code = status
        return response


class CroupierApp(FastAPI):
    """FastAPI, with the GraphQL endpoint (`/graphql`) handed straight to our own handlers.

    A WebSocket stays open for as long as its subscriptions live, and every layer it passes through
    keeps its frame for all that time: FastAPI's and Starlette's middleware and routing held ~12 KiB
    per connection, strawberry's handler and operation machinery ~25 KiB per subscription
    (bench/README.md § 3), and none of them does anything for a WebSocket here (RequestContext and
    the body limit are for HTTP): it goes to our graphql-transport-ws endpoint (schema/transport_ws.py).
    A GET or POST goes through RequestContext (request id, metrics, access log, the JSON 500) and
    straight to the router's `serve_http`: FastAPI's middleware stack, routing and dependency injection
    cost a small read about as much CPU as its execution. Every other path and method takes the full
    stack as before.
    """

    graphql_websocket: ASGIApp | None = None
    graphql_http: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("path") == GRAPHQL_PATH:
            kind = scope["type"]
            if kind == "http" and scope["method"] in ("GET", "POST") and self.graphql_http is not None:
                scope["app"] = self  # as Starlette sets it: the context reads the runtime from app.state
                await self.graphql_http(scope, receive, send)
                return
            if kind == "websocket" and self.graphql_websocket is not None:
                scope["app"] = self
                await self.graphql_websocket(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


GRAPHQL_PATH = "/graphql"
BACKGROUND_STOP_SECONDS = 5.0
# Allocations (net, of container objects) between two young collections; CPython's default is 700.
GC_YOUNG_THRESHOLD = 10_000
_gc_tuned = False


def tune_garbage_collector() -> None:
    """Once start-up is done: what it built (the schema, the models, the policy) lives as long as the
    process, so the cyclic collector stops walking it (`gc.freeze`), and it runs less often.

    Every live subscription keeps ~300 objects the collector tracks, and CPython collects everything
    whenever the long-lived objects grew by a quarter: while 5,000 clients connected at once, the
    server spent ~9 s of its ~12 s of CPU walking the same growing heap again and again (gc callbacks;
    bench/README.md § 3). With young collections every 10,000 allocations instead of 700, that was
    ~3 s of ~8 s. Cyclic garbage waits a little longer to be freed; anything without cycles is still
    freed at once.

    Once per process: a process that builds several apps (the tests do) would otherwise freeze, and
    never collect, the cyclic garbage the earlier ones left.
    """
    global _gc_tuned
    if _gc_tuned:
        return
    _gc_tuned = True
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, oldest)


async def _stop_background(tasks: tuple[asyncio.Task[Any], ...]) -> None:
    """Cancel the background loops and wait for them, at most `BACKGROUND_STOP_SECONDS`: a loop that does
    not stop by then (a client library that swallowed the cancellation, say) is named in the log and
    left behind, rather than holding up the shutdown."""
    for task in tasks:
        task.cancel()
    _, lingering = await asyncio.wait(tasks, timeout=BACKGROUND_STOP_SECONDS)
    for task in lingering:
        log.warning("background_task_did_not_stop", task=task.get_name(), seconds=BACKGROUND_STOP_SECONDS)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.warning("background_task_failed", task=task.get_name(), error=repr(task.exception()))


async def _event_pipeline(settings: Settings, database_url: str, redis_url: str) -> None:
    """The outbox relay and (unless EVENT_CONSUMERS is off) the consumers, on the pipeline's own loop
    (core/loop_thread.py), with a Redis client of that loop."""
    redis = create_redis(redis_url)
    try:
        runners = consumers.runners(settings, database_url, redis) if settings.event_consumers else []
        tasks = [asyncio.create_task(Relay(database_url, redis).run(), name="outbox-relay")]
        tasks += [asyncio.create_task(runner.run(), name=f"consumer-{runner.name}") for runner in runners]
        if settings.event_consumers:  # the postbacks the `affiliate-postbacks` consumer enqueues
            worker = postback_worker.Worker.from_settings(settings, asyncpg_dsn(database_url))
            tasks.append(asyncio.create_task(worker.run(), name="affiliate-postbacks-worker"))
        await asyncio.gather(*tasks)
    finally:
        await redis.aclose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    schema = build_schema(settings)
    authorizer = Authorizer(schema_coordinates(schema))

    def _reload_policy() -> None:
        authorizer.reload()
        log.info("authz_policy_reloaded")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database_url = await asyncio.to_thread(embedded.resolve_database_url, settings)
        redis_url = await asyncio.to_thread(embedded.resolve_redis_url, settings)
        rt = Runtime.build(settings, database_url, create_redis(redis_url))
        pending = await migrations.pending_revisions(rt.database.engine, database_url)
        if pending:
            if settings.is_production:
                await rt.close()
                raise RuntimeError(f"pending migrations {pending}: run `croupier migrate` before serving")
            log.info("applying_migrations", revisions=pending)
            await asyncio.to_thread(migrations.upgrade, database_url)
        async with rt.database.transaction() as db:  # reference data staff then edit (services/risk/rules.py)
            await risk_rules.install_defaults(OnSession(db))
        try:
            settings.check_production_secrets()  # the demo PSP secrets would let anyone sign a webhook
            settings.check_production_password_cost()
        except RuntimeError:
            await rt.close()
            raise
        app.state.rt = rt
        app.state.persisted_queries = graphql.persisted = PersistedQueries(
            rt.redis, seconds=settings.graphql_persisted_query_seconds, local_size=settings.graphql_cache_size
        )
        pipeline = LoopThread("event-pipeline", lambda: _event_pipeline(settings, database_url, redis_url))
        pipeline.start()
        app.state.event_pipeline = pipeline
        rg_task = asyncio.create_task(rg_worker.run(rt), name="rg-worker")
        bonus_task = asyncio.create_task(bonus_worker.run(rt), name="bonus-worker")
        tournament_task = asyncio.create_task(tournament_worker.run(rt), name="tournament-clock")
        export_task = asyncio.create_task(report_schedule.run(rt), name="report-exports")
        catalogue_task = asyncio.create_task(lobby_cache.follow_changes(rt), name="catalogue-changes")
        kyc_expiry_task = asyncio.create_task(kyc_expiry.run(rt), name="kyc-document-expiry")
        risk_expiry_task = asyncio.create_task(risk_expiry.run(rt), name="risk-action-expiry")
        fraud_task = asyncio.create_task(affiliate_fraud.run(rt), name="affiliate-fraud-sweep")
        segments_task = asyncio.create_task(crm_segments_sweep.run(rt), name="crm-segments-sweep")
        lobby_popular_task = asyncio.create_task(lobby_popular.run(rt), name="crm-lobby-popular")
        catalogue_sync_task = asyncio.create_task(catalogue_sync.run(rt), name="catalogue-sync")
        crypto_held_task = asyncio.create_task(crypto_held_sweeper.run(rt), name="crypto-held-sweep")
        # The CRM's sender (services/crm/channels/sender.py) and the journeys' clock (the runs the `crm-journeys`
        # consumer decides, and the time triggers): where the event consumers run.
        crm_tasks = (
            [
                asyncio.create_task(crm_sender.run(rt), name="crm-sender"),
                asyncio.create_task(journey_clock.run(rt), name="crm-journeys-clock"),
            ]
            if settings.event_consumers
            else []
        )
        with suppress(NotImplementedError, RuntimeError, ValueError):  # not on every platform / thread
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, _reload_policy)
        tune_garbage_collector()
        log.info("croupier_started", env=settings.env)
        try:
            yield
        finally:  # also when the app's user (a test, an embedding program) fails inside the lifespan
            await _stop_background(
                (
                    rg_task,
                    bonus_task,
                    tournament_task,
                    export_task,
                    catalogue_task,
                    kyc_expiry_task,
                    risk_expiry_task,
                    fraud_task,
                    segments_task,
                    lobby_popular_task,
                    catalogue_sync_task,
                    crypto_held_task,
                    *crm_tasks,
                )
            )
            if rt.live_events is not None:  # the pub/sub pump of subscriptions and catalogue changes
                await rt.live_events.close()
            if not await pipeline.stop(wait_seconds=BACKGROUND_STOP_SECONDS):
                log.warning("background_task_did_not_stop", task="event-pipeline", seconds=BACKGROUND_STOP_SECONDS)
            await rt.close()

    # Production describes its API only through the GraphQL schema it allows (introspection off):
    # no OpenAPI document, no Swagger or ReDoc pages.
    app = CroupierApp(
        title="Croupier",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url=None if settings.is_production else "/openapi.json",
        docs_url=None if settings.is_production else "/docs",
        redoc_url=None,
    )
    app.state.authorizer = authorizer
    app.state.schema = schema

    async def get_context(connection: HTTPConnection) -> Context:
        rt: Runtime = connection.app.state.rt
        request_id = request_id_var.get()
        meta = client_meta(connection, settings, request_id)
        token, from_cookie = bearer_token(connection)
        context = Context(rt, authorizer, ANONYMOUS.with_meta(meta), request_id=request_id)
        if connection.scope["type"] == "websocket":
            return context  # authenticated in connection_init
        if from_cookie and not connection.headers.get(settings.csrf_header):
            context.csrf_error = f"Cookie-authenticated requests must send the {settings.csrf_header} header."
            return context
        # The session's revocation is checked by RequestGate, before anything uses the viewer, in one Redis
        # command with the request's rate-limit hit (a request that never reaches the gate — a malformed
        # body — uses no viewer and is not counted, as before).
        try:
            context.viewer = await viewer_for(
                rt, token, brand_code=connection.headers.get("x-croupier-brand"), meta=meta, revocation_later=True
            )
            context.unchecked_session = context.viewer.session_id
        except ViewerRejected as exc:
            if exc.bad_input:
                context.brand_error = exc.message
            else:
                context.auth_error = exc.message
            context.unchecked_session = exc.unchecked_session
        return context

    graphql = CroupierGraphQLRouter(
        schema,
        context_getter=get_context,
        graphql_ide=None if settings.is_production else "graphiql",
        allow_queries_via_get=True,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=settings.graphql_max_subscriptions_per_connection,
        multipart_uploads_enabled=True,  # KYC documents; bounded and preflighted in parse_http_body
    )
    graphql.settings = settings
    app.state.kept_answers = graphql.kept = KeptAnswers(schema._schema, max_tokens=settings.graphql_max_tokens)
    if not settings.is_production:
        graphql.ide_page = graphiql_page(
            ADMIN_DIR / "node_modules", "/admin/node_modules", csrf_header=settings.csrf_header
        )
        if graphql.ide_page is None:
            log.warning("graphiql_assets_missing", hint="run scripts/install.sh (npm): GraphiQL falls back to a CDN")
    app.include_router(graphql, prefix=GRAPHQL_PATH)

    async def websocket_context(scope: Scope) -> Context:
        return await get_context(HTTPConnection(scope))

    app.graphql_websocket = Endpoint(
        graphql,
        websocket_context,
        plans=LivePlans(schema, settings),
        max_operations=settings.graphql_max_subscriptions_per_connection,
        init_seconds=settings.graphql_ws_init_seconds,
    )
    # A route of the router, so metrics label the fast path's requests as they labelled the routed ones.
    graphql_route = graphql.routes[0]

    async def graphql_http(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = graphql_route
        await graphql.serve_http(scope, receive, send, get_context)

    app.graphql_http = RequestContext(graphql_http)
    from integrations import webhooks

    app.include_router(webhooks.router)  # PSP webhooks and the browser's return from a PSP
    from integrations import idv_webhooks

    app.include_router(idv_webhooks.router)  # identity-verification provider webhooks
    from integrations import hub88, pragmatic, softswiss

    app.include_router(hub88.router)  # the provider wallet, Hub88 protocol
    app.include_router(softswiss.router)  # the provider wallet, SoftSwiss-style protocol
    app.include_router(pragmatic.router)  # the provider wallet, Pragmatic Play's seamless wallet
    from integrations import jackpot_wins

    app.include_router(jackpot_wins.router)  # a provider reports a jackpot win (services/jackpots)
    from integrations import kyc_documents

    app.include_router(kyc_documents.router)  # KYC documents: signed upload links, content for KYC officers
    from integrations import affiliate_clicks

    app.include_router(affiliate_clicks.router)  # `/a/{code}`: an affiliate link's click, then its landing page
    from integrations import crm_tracking

    app.include_router(crm_tracking.router)  # `/crm/o/…`, `/crm/c/…`: opens and clicks of CRM emails
    from integrations import crm_unsubscribe

    app.include_router(crm_unsubscribe.router)  # `/crm/unsubscribe/{token}`: a message's unsubscribe link

    app.add_middleware(RequestContext)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        rt: Runtime = request.app.state.rt
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(rt.database.ping(), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001  (any failure means not ready)
            checks["database"] = f"error: {type(exc).__name__}"
        try:
            await asyncio.wait_for(rt.redis.ping(), timeout=2)
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if settings.metrics_token:
            if request.headers.get("authorization") != f"Bearer {settings.metrics_token}":
                return Response(status_code=401)
        elif settings.is_production and not arrived_privately(request):
            return Response(status_code=404)  # `croupier serve` refuses this set-up; another ASGI server may not
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/.well-known/jwks.json", include_in_schema=False)
    async def jwks(request: Request) -> dict[str, Any]:
        rt: Runtime = request.app.state.rt
        return rt.keyring.public_jwks()

    if ADMIN_DIR.is_dir() and (ADMIN_DIR / "index.html").exists():
        if not (ADMIN_DIR / "node_modules" / "lit").is_dir():
            log.warning("admin_modules_missing", hint="run scripts/install.sh (npm) for the back office at /admin")
        app.mount("/admin", StaticFiles(directory=ADMIN_DIR, html=True), name="admin")
        # The partner portal: its own pages at /portal/, the back office's modules (lit, the GraphQL client,
        # ui.js) from /admin, so both clients share one copy of them.
        app.mount("/portal", StaticFiles(directory=ADMIN_DIR / "portal", html=True), name="portal")

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/graphql")

    return app
