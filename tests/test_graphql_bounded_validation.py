"""Validation costs time linear in the document: fragment bombs, cycles and deep or wide documents are
refused in milliseconds, the server stays responsive meanwhile, and every request counts against the
rate limit, an invalid one too."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import DocumentNode, GraphQLError, parse

from schema.extensions import DocumentValidation
from tests.conftest import error_codes

VALIDATION_SUM = "croupier_graphql_validation_cpu_seconds_sum"
BOMB_LEAF = "code name"


def fragment_bomb(levels: int) -> str:
    """`fragment F1 on Brand { ...F0 ...F0 }` … : under 1.2 KB at 29 levels, 2^levels selections expanded."""
    fragments = [f"fragment F0 on Brand {{ {BOMB_LEAF} }}"]
    fragments += [f"fragment F{i} on Brand {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return f"{{ brands {{ ...F{levels} }} }} " + " ".join(fragments)


def validation_seconds_in(metrics_text: str) -> float | None:
    match = re.search(rf"^{VALIDATION_SUM} (\S+)$", metrics_text, re.MULTILINE)
    return float(match.group(1)) if match else None


async def test_a_fragment_bomb_is_refused_in_milliseconds_while_the_server_stays_responsive(live_server: str) -> None:
    loop = asyncio.get_running_loop()
    health_latencies: list[float] = []
    done = asyncio.Event()

    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:

        async def probe_health() -> None:
            while not done.is_set():
                started = loop.time()
                response = await http.get("/healthz")
                health_latencies.append(loop.time() - started)
                assert response.status_code == 200
                await asyncio.sleep(0.02)

        prober = asyncio.create_task(probe_health())
        try:
            for levels in (20, 29):
                spent_before = validation_seconds_in((await http.get("/metrics")).text)
                started = loop.time()
                response = await http.post("/graphql", json={"query": fragment_bomb(levels)}, timeout=10)
                elapsed = loop.time() - started
                spent_after = validation_seconds_in((await http.get("/metrics")).text)

                assert elapsed < 3, f"{levels} levels answered in {elapsed:.1f} s"
                assert response.status_code == 200, response.text
                body = response.json()
                assert body.get("data") is None, body
                assert error_codes(body) == ["BAD_USER_INPUT"], body
                assert "Query cost" in body["errors"][0]["message"], body
                assert body["errors"][0]["extensions"]["cost"] > 2**levels
                assert spent_before is not None, "the validation time is not exported"
                assert spent_after is not None
                # Milliseconds in fact; the bound leaves room for a garbage collection landing here.
                spent = spent_after - spent_before
                assert spent < 0.5, f"{levels} levels: {spent * 1000:.1f} ms of CPU in validation"
        finally:
            done.set()
            await prober
    assert health_latencies, "no /healthz probe completed"
    assert max(health_latencies) < 1.5, f"/healthz waited {max(health_latencies):.2f} s"


async def test_a_cycle_of_fragments_is_refused_with_a_code(gql, brand) -> None:
    body = await gql("{ brands { ...A } } fragment A on Brand { code ...B } fragment B on Brand { ...A }")
    assert body.get("data") is None, body
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert "within itself" in body["errors"][0]["message"]


async def test_depth_aliases_and_cost_count_through_fragments(gql, make_staff) -> None:
    """The limits see through fragments: each fragment is summarised once, spreads add up."""
    staff = await make_staff("support")
    deep = "{ ...L0 } " + " ".join(f"fragment L{i} on Query {{ me {{ ...L{i + 1} }} }}" for i in range(11))
    deep += " fragment L11 on Query { me { id } }"
    body = await gql(deep, token=staff.token)
    assert any("exceeds maximum operation depth of 10" in e["message"] for e in body["errors"]), body

    aliases = "{ brands { ...A2 } } fragment A0 on Brand { a: code b: name } "
    aliases += "fragment A1 on Brand { ...A0 ...A0 } fragment A2 on Brand { ...A1 ...A1 c: code d: name }"  # 10
    body = await gql(aliases)
    assert "errors" not in body, body
    body = await gql(aliases.replace("c: code d: name", "c: code d: name e: id f: minimumAge x: countries"))  # 13
    assert "errors" not in body, body
    body = await gql(aliases.replace("...A1 ...A1", "...A1 ...A1 ...A1"))  # 14
    assert "errors" not in body, body
    body = await gql(aliases.replace("...A0 ...A0", "...A0 ...A0 ...A0"))  # 14
    assert "errors" not in body, body
    body = await gql(aliases.replace("...A0 ...A0", "...A0 ...A0 ...A0 ...A0"))  # 18
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["message"] == "18 aliases found. Allowed: 15"

    page = "query($n: Int) { players(first: $n) { ...Page } } fragment Page on PlayerConnection { edges { node "
    page += "{ ...Ids } } } fragment Ids on Player { sessions(first: $n) { edges { node { id } } } }"
    body = await gql(page, {"n": 40}, token=staff.token)
    assert "errors" not in body, body
    assert body["extensions"]["cost"]["requested"] == 1 + 40 * (3 + 40 * 3)
    body = await gql(page, {"n": 41}, token=staff.token)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["cost"] == 1 + 41 * (3 + 41 * 3)


# ---- a generated corpus: cycles, deep nesting, exponential and wide fragment graphs -------------


def corpus(seed: int, count: int) -> Iterator[str]:
    """Documents of the shapes that made validation exponential or quadratic, within the token limit."""
    rng = random.Random(seed)
    shapes = [_exponential, _circular, _deep, _wide_dag, _same_field_many_times, _mixed]
    produced = 0
    while produced < count:
        document = rng.choice(shapes)(rng)
        try:
            parse(document, max_tokens=2000)
        except GraphQLError:
            continue  # over the token or nesting limit: refused while parsing, not a validation case
        produced += 1
        yield document


def _exponential(rng: random.Random) -> str:
    levels, fan = rng.randint(8, 60), rng.randint(2, 4)
    leaf = rng.choice(["code", "a: code b: name", "code ...F1", "id"])
    fragments = [f"fragment F0 on Brand {{ {leaf} }}"]
    for i in range(1, levels + 1):
        spreads = " ".join(f"...F{i - 1}" for _ in range(fan))
        fragments.append(f"fragment F{i} on Brand {{ {spreads} }}")
    return f"{{ brands {{ ...F{levels} }} }} " + " ".join(fragments)


def _circular(rng: random.Random) -> str:
    count = rng.randint(2, 40)
    fragments = []
    for i in range(count):
        targets = rng.sample(range(count), rng.randint(1, min(count, 4)))
        spreads = " ".join(f"...C{t}" for t in targets)
        fragments.append(f"fragment C{i} on Query {{ brands {{ code }} {spreads} }}")
    return "{ ...C0 } " + " ".join(fragments)


def _deep(rng: random.Random) -> str:
    levels = rng.randint(20, 190)
    opener = rng.choice(["me { ", "... on Query { ", "players { edges { node { ", 'brand(code: "royal") { '])
    closer = "} " * opener.count("{")
    body = opener * levels + "id " + closer * levels
    if rng.random() < 0.5:  # and through a chain of fragments
        chain = rng.randint(2, 30)
        fragments = " ".join(f"fragment D{i} on Query {{ ...D{i + 1} }}" for i in range(chain))
        return f"{{ ...D0 }} {fragments} fragment D{chain} on Query {{ {body} }}"
    return "{ " + body + "}"


def _wide_dag(rng: random.Random) -> str:
    count = rng.randint(10, 70)
    fragments = ["fragment W0 on Query { brands { code name } }"]
    for i in range(1, count):
        targets = [rng.randrange(i) for _ in range(rng.randint(1, 5))]
        fields = rng.choice(["", "me { id } ", "x: brands { code } "])
        fragments.append(f"fragment W{i} on Query {{ {fields}" + " ".join(f"...W{t}" for t in targets) + " }")
    return f"{{ ...W{count - 1} }} " + " ".join(fragments)


def _same_field_many_times(rng: random.Random) -> str:
    times = rng.randint(50, 490)
    selection = rng.choice(["brands { code } ", "brands { code name } ", "code ", "...S "])
    if selection == "...S ":
        return "{ brands { " + selection * times + "} } fragment S on Brand { code }"
    if selection == "code ":
        return "{ brands { " + selection * times + "} }"
    return "{ " + selection * min(times, 1900 // (selection.count(" ") + 1)) + "}"


def _mixed(rng: random.Random) -> str:
    return rng.choice([_exponential, _circular, _wide_dag])(rng).replace("{ brands", "{ me { id } brands", 1)


@contextlib.contextmanager
def counting_validation_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the Python function calls each request's validation step makes (the document's limits and
    GraphQL's rules): a measure of its work that, unlike time, is the same on a busy machine."""
    counts: list[int] = []
    measured = DocumentValidation.errors

    def counted(self: DocumentValidation, document: DocumentNode) -> list[GraphQLError]:
        calls = 0

        def count(_frame: Any, event: str, _arg: Any) -> None:
            nonlocal calls
            if event == "call":
                calls += 1

        sys.setprofile(count)
        try:
            return measured(self, document)
        finally:
            sys.setprofile(None)
            counts.append(calls)

    monkeypatch.setattr(DocumentValidation, "errors", counted)
    yield counts


# The corpus's worst document (300 copies of one field: GraphQL's overlapping-fields rule compares them
# pairwise) takes about 116,000 calls to validate, some 50 ms of CPU; the bound leaves twice that.
MAX_VALIDATION_CALLS = 250_000


async def test_no_generated_document_costs_validation_more_than_a_bounded_number_of_calls(
    client: httpx.AsyncClient, brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    worst: list[tuple[int, str]] = []
    with counting_validation_calls(monkeypatch) as counts:
        for document in corpus(seed=12, count=150):
            before = len(counts)
            response = await client.post("/graphql", json={"query": document})
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            for error in body.get("errors") or []:
                assert error.get("extensions", {}).get("code") not in (None, "INTERNAL"), (error, document[:200])
            assert len(counts) == before + 1, "the request was not validated"
            worst.append((counts[-1], document[:120]))
    worst.sort(reverse=True)
    assert worst[0][0] <= MAX_VALIDATION_CALLS, f"validation made {worst[0][0]:,} calls for {worst[0][1]!r}"


# ---- the rate limit counts every request -------------------------------------------------------


async def test_invalid_documents_count_against_the_rate_limit(client: httpx.AsyncClient, rt, brand) -> None:
    key = "req:ip:203.0.113.7"  # the test client's address
    before = (await rt.rate_limiter.peek(key)).count
    for document in ("{ brandz { code } ", "{ brandz { code } }"):  # a syntax error, a validation error
        response = await client.post("/graphql", json={"query": document})
        assert error_codes(response.json()) == ["BAD_USER_INPUT"], response.text
    assert (await rt.rate_limiter.peek(key)).count == before + 2

    limit = rt.settings.requests_per_minute_per_ip
    await rt.rate_limiter.hit(key, limit=limit, window=60, cost=limit)  # the minute is spent
    for document in ("{ brandz { code } }", "{ brands { code } }", fragment_bomb(29)):
        started = time.monotonic()
        response = await client.post(
            "/graphql", json={"query": document}, headers={"Accept": "application/graphql-response+json"}
        )
        assert time.monotonic() - started < 3
        assert response.status_code == 429, response.text
        body = response.json()
        assert error_codes(body) == ["RATE_LIMITED"], body  # refused before validation, whatever the document
        assert body.get("data") is None
