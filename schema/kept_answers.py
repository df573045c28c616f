"""Finished answers of catalogue reads, kept per (document, variables, permissions, audience) until the
catalogue changes: a repeated `{ brands { code name } }` or game-by-id is answered without GraphQL.

A small read cost ~3.5 ms of our CPU, most of it strawberry's execution with its extensions and the
ORM read (bench/README.md § 7). Some reads depend on nothing but the catalogue and the request: the
brand list, a brand, a game as an audience sees it. Their whole answer is kept, as the lobby is
(services/lobby_cache.py), and dropped with it: every catalogue change (games, providers, switches,
categories and now brands) bumps the lobby cache's generation here and in every other process, and an
entry of an older generation is never served; entries also expire after `lobby_cache_seconds`.

An answer is served from here only when it cannot differ from what GraphQL would answer now:
- the document's operation is a query whose every coordinate (`Type.field` by field *name*, through
  fragments: schema/field_plan.py, so an alias changes nothing) is one of `KEPT`, whose values are a
  function of the catalogue, the field's arguments and the audience alone;
- the key holds the query text, the operation name, the variables as sent, the set of coordinates the
  viewer may use (so the permission decision is the same one FieldPermissions takes) and, for each
  `game` root field, the audience its resolver would compute (a player's brand, country and currency;
  an anonymous visitor's brand and country; staff's scope);
- the request passed what GraphQL checks about the viewer: no credential, CSRF or brand error (those
  requests go to GraphQL and get its refusal), and the rate limit, counted here once for the request
  (`Context.rate_limit_decided`: GraphQL's gate then uses this decision instead of counting again);
- the kept answer is GraphQL's own for the same key: a 200 without errors, cookies or background work,
  read while the catalogue's generation stayed the same.
Anything else, and every first request of a key, goes to GraphQL as before.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    VariableNode,
    parse,
)
from starlette.background import BackgroundTasks
from starlette.requests import Request
from starlette.responses import Response
from strawberry.http.parse_content_type import parse_content_type

from schema.context import Context
from schema.extensions import RequestGate
from schema.field_plan import coordinates
from schema.wire import MalformedJson, decode_json, request_problem
from services import lobby_cache

# Coordinates whose value is a function of the catalogue, the field's arguments and the audience only.
# (`Game.brandSwitch` is left out: staff only, and its type reaches further.)
KEPT = frozenset(
    {
        "Query.brands",
        "Query.brand",
        "Query.game",
        *(
            f"Brand.{name}"
            for name in ("id", "code", "name", "minimumAge", "defaultCurrency", "countries", "currencies")
        ),
        *(
            f"Game.{name}"
            for name in (
                "id",
                "code",
                "title",
                "type",
                "rtp",
                "volatility",
                "contributionCategory",
                "demoAvailable",
                "imageUrl",
                "tags",
                "provider",
                "minBet",
                "maxBet",
                "enabledForMe",
            )
        ),
        "GameProvider.code",
        "GameProvider.name",
        "Money.amount",
        "Money.currency",
    }
)
MAX_ANSWERS = 2000  # keys in use; past it the store starts over
MAX_PLANS = 1000
NOT_KEPT = object()  # a (document, operation) judged not keepable


@dataclass(frozen=True)
class Plan:
    """What a keepable operation needs per request: the coordinates it reads, and for each `game` root
    field where its `brand` argument comes from (None: absent or null; ("=", code); ("$", variable))."""

    coordinates: frozenset[str]
    brand_sources: tuple[tuple[str, str] | None, ...]


def plan_of(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Plan | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) != 1:
            return None
        operation = operations[0]
    else:
        operation = next((o for o in operations if o.name and o.name.value == operation_name), None)  # type: ignore[assignment]
        if operation is None:
            return None
    if operation.operation != OperationType.QUERY:
        return None
    wanted = coordinates(schema, document, operation.name.value if operation.name else None)
    if not wanted or not wanted <= KEPT:
        return None
    defaults = {d.variable.name.value: d.default_value for d in operation.variable_definitions or () if d.default_value}
    sources: list[tuple[str, str] | None] = []
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None  # a fragment at the root: its `game` fields' arguments are not read here
        if selection.name.value != "game":
            continue
        argument = next((a.value for a in selection.arguments or () if a.name.value == "brand"), None)
        if argument is None or isinstance(argument, NullValueNode):
            sources.append(None)
        elif isinstance(argument, StringValueNode):
            sources.append(("=", argument.value))
        elif isinstance(argument, VariableNode) and argument.name.value not in defaults:
            sources.append(("$", argument.name.value))
        else:
            return None
    return Plan(wanted, tuple(sources))


class KeptAnswers:
    """The answers of one process (see the module docstring)."""

    def __init__(self, schema: GraphQLSchema, *, max_tokens: int) -> None:
        self.schema = schema
        self.max_tokens = max_tokens
        self.hits = 0
        self.kept = 0
        self._plans: OrderedDict[tuple[str, str | None], Any] = OrderedDict()
        self._answers: dict[tuple[Any, ...], tuple[int, float, bytes]] = {}
        self._lock = Lock()

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        key = (query, operation_name)
        with self._lock:
            found = self._plans.get(key)
        if found is None:
            try:
                document = parse(query, max_tokens=self.max_tokens)
                found = plan_of(self.schema, document, operation_name) or NOT_KEPT
            except GraphQLError:
                found = NOT_KEPT
            with self._lock:
                self._plans[key] = found
                while len(self._plans) > MAX_PLANS:
                    self._plans.popitem(last=False)
        return found if isinstance(found, Plan) else None

    async def look_up(self, request: Request, context: Context, persisted: Any) -> Lookup | None:
        """The request's key and, when kept, its answer; None when the request is not one to keep."""
        if request.method != "POST" or context.auth_error or context.csrf_error or context.brand_error:
            return None
        rt = context.rt
        if rt.settings.lobby_cache_seconds <= 0:
            return None
        if "application/json" not in parse_content_type(request.headers.get("content-type") or "")[0]:
            return None
        try:
            data = decode_json(await request.body())
        except MalformedJson:
            return None
        if request_problem(data) is not None:
            return None
        query, operation_name, variables = data.get("query"), data.get("operationName"), data.get("variables")
        extensions = data.get("extensions") or {}
        if set(extensions) - {"persistedQuery"}:
            return None
        if extensions:
            if query is not None or persisted is None:  # registering a document: GraphQL's path does it
                return None
            try:
                query = await persisted.document(None, extensions["persistedQuery"])
            except Exception:  # noqa: BLE001  (refused or unknown: GraphQL's path answers it)
                return None
        if not isinstance(query, str):
            return None
        # Counted once here, whatever follows: GraphQL's gate takes this decision if the request goes there.
        # The session's revocation is checked with it (a revoked one: GraphQL's path refuses the credentials).
        context.rate_limit_refusal = await RequestGate.rate_limit(context)
        context.rate_limit_decided = True
        if context.rate_limit_refusal is not None or context.auth_error:
            return None
        plan = self.plan(query, operation_name)
        if plan is None:
            return None
        allowed = context.allowed
        if not plan.coordinates <= allowed:
            return None  # GraphQL answers the denied fields
        audiences: list[Any] = []
        for source in plan.brand_sources:
            brand = None if source is None else source[1] if source[0] == "=" else (variables or {}).get(source[1])
            if brand is not None and not isinstance(brand, str):
                return None
            try:
                audiences.append(await context.loaders.games.audience(context.viewer, brand, alone=True))
            except Exception:  # noqa: BLE001  (a bad brand, the database away: GraphQL's path answers it, coded)
                return None
        generation = lobby_cache.cache_of(rt).generation
        key = (query, operation_name, orjson.dumps(variables, option=orjson.OPT_SORT_KEYS), allowed, tuple(audiences))
        found = self._answers.get(key)
        if found is not None and found[0] == generation and found[1] > time.monotonic():
            self.hits += 1
            return Lookup(self, key, generation, found[2])
        return Lookup(self, key, generation, None)

    def keep(self, key: tuple[Any, ...], generation: int, body: bytes, seconds: float) -> None:
        if len(self._answers) >= MAX_ANSWERS:
            self._answers.clear()
        self._answers[key] = (generation, time.monotonic() + seconds, body)
        self.kept += 1

    def clear(self) -> None:
        self._answers.clear()


@dataclass
class Lookup:
    answers: KeptAnswers
    key: tuple[Any, ...]
    generation: int
    body: bytes | None

    def response(self, media_type: str) -> Response:
        assert self.body is not None
        return Response(self.body, status_code=200, media_type=f"{media_type}; charset=utf-8")

    def keep_if_clean(self, response: Response, sub_response: Response, background: BackgroundTasks, rt: Any) -> None:
        """Keep GraphQL's answer to this key: a 200 with data and no errors, no cookie or header of its own,
        no background work, read while the catalogue stayed as it was when the request began."""
        body = getattr(response, "body", None)
        if (
            response.status_code != 200
            or not isinstance(body, bytes)
            or background.tasks
            or sub_response.headers.get("set-cookie")
            or b'"errors"' in body
            or lobby_cache.cache_of(rt).generation != self.generation
        ):
            return
        self.answers.keep(self.key, self.generation, body, rt.settings.lobby_cache_seconds)
