"""The GraphQL edge: depth, alias, token and cost limits, page sizes, GET, error codes and masking,
CSRF for cookie authentication, production hardening, schema drift, metrics and request ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from authz import passwords
from core.settings import Settings
from tests.conftest import PASSWORD, ROOT, TEST_ENV, error_codes

PLAYERS_QUERY = "{ players(first: 101) { edges { node { id } } } }"


def nested(depth: int) -> str:
    """A selection `depth` fields deep (`a { a { … { id } } }`); the depth rule runs whatever the fields."""
    return "{ " + "me { " * (depth - 1) + "id" + " }" * depth


def assert_every_error_has_a_code(body: dict[str, Any]) -> None:
    assert body.get("errors"), body
    for error in body["errors"]:
        assert error.get("extensions", {}).get("code"), error


# ---- depth, aliases, tokens ----------------------------------------------------------------------


async def test_depth_over_ten_is_refused(gql) -> None:
    body = await gql(nested(12))
    assert_every_error_has_a_code(body)
    assert any("exceeds maximum operation depth of 10" in e["message"] for e in body["errors"]), body
    assert body.get("data") is None


async def test_a_deep_but_allowed_query_is_not_refused_for_depth(gql) -> None:
    body = await gql("{ players(first: 1) { edges { node { sessions(first: 1) { edges { node { id } } } } } } }")
    assert not any("depth" in e["message"] for e in body.get("errors") or []), body


async def test_more_than_fifteen_aliases_are_refused(gql, brand) -> None:
    allowed = "{ " + " ".join(f"b{i}: brands {{ code }}" for i in range(15)) + " }"
    body = await gql(allowed)
    assert "errors" not in body, body
    assert body["data"]["b14"] == [{"code": "royal"}]

    refused = "{ " + " ".join(f"b{i}: brands {{ code }}" for i in range(16)) + " }"
    body = await gql(refused)
    assert_every_error_has_a_code(body)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "aliases" in body["errors"][0]["message"].lower(), body
    assert body.get("data") is None


def create_staff_with_roles(count: int) -> str:
    """A mutation of 26 + 5 * count tokens (each `{role: SUPPORT}` is five)."""
    roles = " ".join("{role: SUPPORT}" for _ in range(count))
    return (
        'mutation { createStaffUser(input: {email: "x@example.com", displayName: "x", password: "p", '
        f"roles: [{roles}]}}) {{ errors {{ code }} }} }}"
    )


async def test_more_than_two_thousand_tokens_are_refused(gql) -> None:
    body = await gql(create_staff_with_roles(394))  # 1996 tokens: parsed, then refused for anonymous
    assert_every_error_has_a_code(body)
    assert "BAD_USER_INPUT" not in error_codes(body), body
    assert not any("tokens" in e["message"] for e in body["errors"]), body

    body = await gql(create_staff_with_roles(395))  # 2001 tokens
    assert_every_error_has_a_code(body)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "more than 2000 tokens" in body["errors"][0]["message"], body
    assert body.get("data") is None


# ---- cost and page sizes -------------------------------------------------------------------------


async def test_query_cost_is_reported(gql, brand) -> None:
    body = await gql("{ brands { code name } }")
    assert "errors" not in body, body
    assert body["extensions"]["cost"] == {"requested": 3, "maximum": 5000}


async def test_query_over_the_maximum_cost_is_refused(gql, make_staff) -> None:
    staff = await make_staff("support")
    query = "{ players(first: 100) { edges { node { sessions(first: 100) { edges { node { id } } } } } } }"
    body = await gql(query, token=staff.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "exceeds the limit of 5000" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["maximumCost"] == 5000
    assert body["errors"][0]["extensions"]["cost"] > 5000
    assert body.get("data") is None
    assert body["extensions"]["cost"]["requested"] > 5000

    # The page size from a variable counts the same.
    by_variable = (
        "query($n: Int) { players(first: $n) { edges { node { sessions(first: $n) { edges { node { id } } } } } } }"
    )
    body = await gql(by_variable, {"n": 100}, token=staff.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await gql(by_variable, {"n": 5}, token=staff.token)
    assert "errors" not in body, body
    assert body["extensions"]["cost"]["requested"] <= 5000


async def test_fragments_do_not_hide_a_connection_from_the_cost(gql, make_staff) -> None:
    staff = await make_staff("support")
    inline = "{ players { edges { node { sessions { edges { node { id } } } } } } }"
    spread = (
        "{ players { ...Page } } fragment Page on PlayerConnection { edges { node { sessions { ...Ids } } } }"
        " fragment Ids on SessionConnection { ... on SessionConnection { edges { node { id } } } }"
    )
    costs = []
    for query in (inline, spread):
        body = await gql(query, token=staff.token)
        assert "errors" not in body, body
        costs.append(body["extensions"]["cost"]["requested"])
    assert costs[0] == costs[1] == 1 + 20 * 3 + 400 * 3  # default pages of 20, nested


async def test_page_size_over_one_hundred_is_refused(gql, client: httpx.AsyncClient, make_staff, make_player) -> None:
    await make_player()
    client.cookies.clear()  # registerPlayer's auth cookies would make the staff login cookie-authenticated
    staff = await make_staff("support")
    body = await gql(PLAYERS_QUERY, token=staff.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "first" in body["errors"][0]["message"]

    body = await gql(PLAYERS_QUERY.replace("101", "100"), token=staff.token)
    assert "errors" not in body, body
    assert len(body["data"]["players"]["edges"]) == 1


async def test_players_refuse_staff_fields_with_forbidden(gql, make_player) -> None:
    player = await make_player()
    body = await gql("{ players { edges { node { id } } } }", token=player.token)
    assert error_codes(body) == ["FORBIDDEN"], body


# ---- GET -----------------------------------------------------------------------------------------


async def test_get_runs_queries_but_never_mutations(client: httpx.AsyncClient, rt, brand) -> None:
    from models.players import Player

    response = await client.get("/graphql", params={"query": "{ brands { code } }"})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"brands": [{"code": "royal"}]}

    mutation = (
        'mutation { registerPlayer(input: {brand: "royal", email: "get@example.com", '
        'password: "correct-horse-9", dateOfBirth: "1990-01-01", country: "MT", currency: "EUR"}) '
        "{ player { id } errors { code } } }"
    )
    response = await client.get("/graphql", params={"query": mutation})
    if response.status_code == 200:
        body = response.json()
        assert_every_error_has_a_code(body)
        assert not (body.get("data") or {}).get("registerPlayer"), body
    else:  # the GraphQL-over-HTTP spec asks for 405; strawberry answers 400 with this message
        assert response.status_code in (400, 405), response.text
        assert "mutations are not allowed when using GET" in response.text
    async with rt.database.session() as db:
        assert await db.scalar(select(func.count()).select_from(Player)) == 0


# ---- error codes and masking ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ brands { code ", None, "BAD_USER_INPUT"),  # syntax
        ("{ brandz { code } }", None, "BAD_USER_INPUT"),  # validation
        ("query($c: String!) { brand(code: $c) { code } }", {"c": 5}, "BAD_USER_INPUT"),  # variable coercion
        ("query($c: String!) { brand(code: $c) { code } }", {}, "BAD_USER_INPUT"),  # missing variable
        ("{ players { edges { node { id } } } }", None, None),  # not allowed for anonymous
        ('{ node(id: "not-a-global-id") { id } }', None, None),  # bad global id: any code, but a code
        ("{ brands { code } }", None, "UNAUTHENTICATED"),  # a garbage token
    ],
)
async def test_every_error_carries_a_code(
    gql, brand, query: str, variables: dict[str, Any] | None, code: str | None
) -> None:
    token = "garbage.token.here" if code == "UNAUTHENTICATED" else None
    body = await gql(query, variables, token=token)
    assert_every_error_has_a_code(body)
    if code is not None:
        assert code in error_codes(body), body


async def test_unexpected_exception_is_masked_with_the_request_id(
    client: httpx.AsyncClient, brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services import brands

    async def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(brands, "list_brands", explode)
    response = await client.post("/graphql", json={"query": "{ brands { code } }"})
    assert response.status_code == 200, response.text
    body = response.json()
    request_id = response.headers["X-Request-ID"]
    assert request_id
    assert body["data"] == {"brands": None}
    [error] = body["errors"]
    assert error["message"] == "Internal error."
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert "secret" not in response.text

    # A request id chosen by the caller is the one reported.
    response = await client.post(
        "/graphql", json={"query": "{ brands { code } }"}, headers={"X-Request-ID": "trace-abc-123"}
    )
    assert response.headers["X-Request-ID"] == "trace-abc-123"
    assert response.json()["errors"][0]["extensions"]["requestId"] == "trace-abc-123"


async def test_a_services_refusal_in_a_query_field_is_bad_input_with_its_reason(
    client: httpx.AsyncClient, brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `DomainError` raised under a query field (no payload to carry it) is the caller's refusal, not
    INTERNAL: BAD_USER_INPUT with the service's code as `reason` and its field."""
    from core.errors import DomainError, ErrorCode
    from services import brands

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise DomainError("No such thing in this brand.", field="code", code=ErrorCode.NOT_FOUND)

    monkeypatch.setattr(brands, "list_brands", refuse)
    response = await client.post("/graphql", json={"query": "{ brands { code } }"})
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    assert error["message"] == "No such thing in this brand."
    assert error["path"] == ["brands"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "NOT_FOUND", "field": "code"}


async def test_text_with_a_nul_character_is_refused_before_it_reaches_the_database(gql, make_player) -> None:
    player = await make_player()
    login = """mutation($input: LoginInput!) { login(input: $input) { errors { code } } }"""
    body = await gql(login, {"input": {"brand": "royal", "email": "a\u0000@example.com", "password": PASSWORD}})
    assert (body["data"], error_codes(body)) == (None, ["BAD_USER_INPUT"])
    profile = 'mutation { updateProfile(input: {firstName: "A\\u0000B"}) { errors { code } } }'  # a literal
    body = await gql(profile, token=player.token)
    assert (body["data"], error_codes(body)) == (None, ["BAD_USER_INPUT"])


# ---- cookies and CSRF ----------------------------------------------------------------------------


async def test_cookie_authentication_needs_the_csrf_header(client: httpx.AsyncClient, make_player) -> None:
    player = await make_player()
    cookie = {"Cookie": f"croupier_access={player.token}"}
    query = {"query": "{ me { email } }"}

    response = await client.post("/graphql", json=query, headers=cookie)
    body = response.json()
    assert error_codes(body) == ["FORBIDDEN"], body
    assert "X-Croupier-CSRF" in body["errors"][0]["message"]
    assert not (body.get("data") or {}).get("me")

    response = await client.post("/graphql", json=query, headers={**cookie, "X-Croupier-CSRF": "1"})
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["me"] == {"email": player.email}


# ---- production hardening ------------------------------------------------------------------------


def production_settings(key_dir: Path) -> Settings:
    from authz.jwt import generate_key

    generate_key(key_dir)
    return Settings(
        env="production",
        database_url=TEST_ENV["DATABASE_URL"],
        redis_url=TEST_ENV["REDIS_URL"],
        data_dir=Path(TEST_ENV["DATA_DIR"]),
        jwt_key_dir=key_dir,
        log_level="WARNING",
        psp_secrets={psp: f"production-secret-of-{psp}-0123456789" for psp in ("cardpay", "swiftpay", "bankwire")},
        idv_secret_key="production-idv-api-secret-0123456789",
        idv_webhook_secret="production-idv-webhook-secret-0123456789",
        crm_link_secret="production-crm-link-secret-0123456789",
        crm_webhook_secret="production-crm-webhook-secret-0123456789",
        crm_unsubscribe_secret="production-crm-unsubscribe-secret-0123456789",
        argon2_time_cost=2,  # OWASP's floor: production refuses the suite's cheaper cost
        argon2_memory_kib=19 * 1024,
        argon2_parallelism=1,
    )


async def test_production_disables_introspection_and_suggestions(rt, brand, tmp_path: Path) -> None:
    from server import create_app

    app = create_app(production_settings(tmp_path / "jwt-keys"))
    try:
        await _introspection_and_suggestions_refused(app)
    finally:  # the production app set the process's password cost: back to the suite's
        passwords.configure(
            time_cost=rt.settings.argon2_time_cost,
            memory_kib=rt.settings.argon2_memory_kib,
            parallelism=rt.settings.argon2_parallelism,
        )


async def _introspection_and_suggestions_refused(app: Any) -> None:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://croupier.test") as http:
            response = await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})
            body = response.json()
            assert body.get("data") is None, body
            assert_every_error_has_a_code(body)
            assert any("introspection" in e["message"].lower() for e in body["errors"]), body

            response = await http.post("/graphql", json={"query": '{ __type(name: "Player") { name } }'})
            assert response.json().get("data") is None, response.text

            response = await http.post("/graphql", json={"query": "{ brandz { code } }"})
            body = response.json()
            assert_every_error_has_a_code(body)
            assert "Cannot query field 'brandz'" in body["errors"][0]["message"]
            assert "Did you mean" not in response.text

            response = await http.post("/graphql", json={"query": "{ brands { code } }"})
            assert response.json()["data"] == {"brands": [{"code": "royal"}]}

            ide = await http.get("/graphql", headers={"Accept": "text/html"})
            assert "graphiql" not in ide.text.lower(), ide.text


async def test_development_keeps_introspection_and_suggestions(gql) -> None:
    body = await gql('{ __type(name: "Player") { name } }')
    assert body["data"] == {"__type": {"name": "Player"}}
    body = await gql("{ brandz { code } }")
    assert "Did you mean" in body["errors"][0]["message"], body
    assert "'brands'" in body["errors"][0]["message"], body


async def test_suggestions_at_schema_level() -> None:
    from schema.root import build_schema

    production = await build_schema(Settings(env="production")).execute("{ brandz { code } }")
    development = await build_schema(Settings(env="development")).execute("{ brandz { code } }")
    assert production.errors
    assert development.errors
    assert "Did you mean" not in production.errors[0].message
    assert "Did you mean" in development.errors[0].message

    introspection = await build_schema(Settings(env="production")).execute("{ __schema { queryType { name } } }")
    assert introspection.errors
    assert introspection.data is None


# ---- schema drift, metrics, request ids ----------------------------------------------------------


def test_checked_in_schema_matches_the_code(settings: Settings) -> None:
    from schema.root import build_schema

    checked_in = (ROOT / "schema.graphql").read_text()
    assert build_schema(settings).as_str() + "\n" == checked_in, (
        "schema.graphql is out of date: run `croupier export-schema` and commit it"
    )


async def test_metrics_count_requests(client: httpx.AsyncClient) -> None:
    await client.post("/graphql", json={"query": "{ __typename }"})
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "croupier_http_requests_total" in response.text
    assert 'croupier_http_requests_total{method="POST",route=' in response.text
    assert 'croupier_http_requests_total{method="GET",route="/metrics",status="200"}' in (
        (await client.get("/metrics")).text
    )


async def test_metrics_label_graphql_requests_with_their_route(client: httpx.AsyncClient) -> None:
    await client.post("/graphql", json={"query": "{ __typename }"})
    response = await client.get("/metrics")
    assert 'croupier_http_requests_total{method="POST",route="/graphql",status="200"}' in response.text


async def test_responses_carry_a_request_id(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/healthz"),
        await client.post("/graphql", json={"query": "{ __typename }"}),
        await client.get("/no-such-page"),
    ):
        assert len(response.headers.get("X-Request-ID", "")) >= 16, response.headers
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    echoed = await client.get("/healthz", headers={"X-Request-ID": "my-trace-1"})
    assert echoed.headers["X-Request-ID"] == "my-trace-1"


async def test_login_sets_auth_cookies_only_for_clients_that_opt_into_cookie_mode(
    client: httpx.AsyncClient, make_player
) -> None:
    """GraphiQL and API clients get tokens in the payload only; a browser client that sends the CSRF
    header gets HttpOnly cookies and can then work from them alone."""
    player = await make_player()
    login = {
        "query": """mutation($i: LoginInput!) { login(input: $i) { errors { code } } }""",
        "variables": {"i": {"brand": "royal", "email": player.email, "password": PASSWORD}},
    }
    client.cookies.clear()
    plain = await client.post("/graphql", json=login)
    assert "set-cookie" not in plain.headers
    anonymous = await client.post("/graphql", json={"query": "{ brands { code } }"})
    assert anonymous.json()["data"] == {"brands": [{"code": "royal"}]}  # no cookie got in the way

    cookie_mode = await client.post("/graphql", json=login, headers={"X-Croupier-CSRF": "1"})
    set_cookies = cookie_mode.headers.get_list("set-cookie")
    assert any(c.startswith("croupier_access=") and "HttpOnly" in c for c in set_cookies)
    assert any(c.startswith("croupier_refresh=") and "HttpOnly" in c for c in set_cookies)
    me = await client.post("/graphql", json={"query": "{ me { email } }"}, headers={"X-Croupier-CSRF": "1"})
    assert me.json()["data"] == {"me": {"email": player.email}}

    refresh = {"query": "mutation { refreshToken { tokens { accessToken } errors { code } } }"}
    refused = await client.post("/graphql", json=refresh)  # the refresh cookie, but no CSRF header
    assert error_codes(refused.json()) == ["FORBIDDEN"]
    refreshed = await client.post("/graphql", json=refresh, headers={"X-Croupier-CSRF": "1"})
    assert refreshed.json()["data"]["refreshToken"]["errors"] == []
    assert any(c.startswith("croupier_refresh=") for c in refreshed.headers.get_list("set-cookie"))


async def test_an_unhandled_error_is_a_json_500_with_the_request_id(settings: Any) -> None:
    from server import create_app

    app = create_app(settings)

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://croupier.test") as http:
        response = await http.get("/boom", headers={"X-Request-ID": "trace-500"})
    assert response.status_code == 500
    assert response.json() == {"error": "internal", "requestId": "trace-500"}
    assert response.headers["X-Request-ID"] == "trace-500"
