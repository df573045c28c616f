"""Persisted queries by hash (schema/persisted.py): an unknown hash is a structured refusal the client
answers by sending the text once; a known hash runs its own document, with the same checks as text."""

from __future__ import annotations

import json
from typing import Any

import httpx

from schema.persisted import sha256_of

BRANDS = "query PersistedBrands { brands { code name } }"


def persisted(query: str | None, digest: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}, **extra}
    if query is not None:
        body["query"] = query
    return body


async def test_an_unknown_hash_is_refused_with_persisted_query_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=persisted(None, sha256_of("{ brands { code } } # never sent")))
    assert response.status_code == 200
    assert response.json() == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }
    strict = await client.post(
        "/graphql",
        json=persisted(None, sha256_of("{ brands { name } } # never sent")),
        headers={"Accept": "application/graphql-response+json"},
    )
    assert strict.status_code == 400
    assert strict.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_the_text_sent_once_with_its_hash_is_then_run_by_hash_alone(
    client: httpx.AsyncClient, brand: Any
) -> None:
    digest = sha256_of(BRANDS)
    first = await client.post("/graphql", json=persisted(BRANDS, digest))
    assert first.json()["data"] == {"brands": [{"code": "royal", "name": brand.name}]}
    again = await client.post("/graphql", json=persisted(None, digest))
    assert again.json() == first.json()
    params = {"extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})}
    by_get = await client.get("/graphql", params=params, headers={"Accept": "application/json"})
    assert by_get.json() == first.json()


async def test_another_replica_finds_the_document_in_redis(app: Any, client: httpx.AsyncClient, brand: Any) -> None:
    query = "query ReplicaBrands { brands { code } }"
    digest = sha256_of(query)
    await client.post("/graphql", json=persisted(query, digest))
    app.state.persisted_queries.forget_local()  # as a process that never saw the text
    answer = await client.post("/graphql", json=persisted(None, digest))
    assert answer.json()["data"] == {"brands": [{"code": "royal"}]}


async def test_a_text_that_is_not_its_hash_is_refused_and_not_registered(client: httpx.AsyncClient) -> None:
    other = sha256_of("{ me { email } }")
    refused = await client.post("/graphql", json=persisted(BRANDS, other))
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "data" not in refused.json() or refused.json()["data"] is None
    unknown = await client.post("/graphql", json=persisted(None, other))
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_malformed_persisted_query_extension_is_bad_input(client: httpx.AsyncClient) -> None:
    for extension in ({"version": 2, "sha256Hash": "0" * 64}, {"version": 1, "sha256Hash": "XYZ"}, "abc"):
        body = {"extensions": {"persistedQuery": extension}}
        answer = await client.post("/graphql", json=body)
        assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (extension, answer.json())


async def test_a_persisted_document_is_authorised_like_its_text(
    client: httpx.AsyncClient, make_player: Any, make_staff: Any
) -> None:
    target = await make_player()
    support = await make_staff("support")
    query = "query Contact($id: ID!) { player(id: $id) { email dob: dateOfBirth } }"
    headers = {"Authorization": f"Bearer {support.token}"}
    digest = sha256_of(query)
    await client.post("/graphql", json=persisted(query, digest, variables={"id": target.id}), headers=headers)
    body = (
        await client.post("/graphql", json=persisted(None, digest, variables={"id": target.id}), headers=headers)
    ).json()
    assert body["data"]["player"] == {"email": target.email, "dob": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["player", "dob"], "FORBIDDEN")]
