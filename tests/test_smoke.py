"""The platform starts, answers health checks and serves GraphQL."""

from __future__ import annotations


async def test_health_and_readiness(client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "redis": "ok"}


async def test_register_then_me(gql, make_player) -> None:
    player = await make_player(email="Alice@Example.com")
    body = await gql("{ me { id email brand { code } } }", token=player.token)
    assert body["data"]["me"] == {"id": player.id, "email": "alice@example.com", "brand": {"code": "royal"}}
