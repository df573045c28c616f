"""The Hub88 adapter's provider cache (integrations/hub88.py `_PROVIDERS`), from every endpoint: a provider
disabled after it was cached is refused everywhere (money commands, reads, demo play), nothing moves, and it
serves again once re-enabled; two Hub88 providers never share an entry (each is checked with its own key)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from tests.providers.conftest import Aggregator, _insert_provider, _keypair, cash

EUR = 100_000


async def _enable(rt: Any, provider_id: uuid.UUID, enabled: bool) -> None:
    async with rt.database.transaction() as db:
        await db.execute(
            text("UPDATE game_providers SET enabled = :on WHERE id = :id"), {"on": enabled, "id": provider_id}
        )


async def test_a_disabled_provider_is_refused_on_every_endpoint_then_serves_again(
    aggregator: Aggregator, seat: Any, rt: Any, hub88_provider: Any
) -> None:
    player = await seat(balance=1_000)
    bet = player.bet(EUR, round_ref="a")
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"  # cached from here
    await _enable(rt, hub88_provider.id, False)
    calls = [
        ("user/info", player.base()),
        ("user/balance", player.base(token=player.token)),
        ("transaction/bet", player.bet(EUR, round_ref="b")),
        ("transaction/win", player.win(3 * EUR, bet["transaction_uuid"], round_ref="a")),
        ("transaction/rollback", player.rollback(bet["transaction_uuid"], round_ref="a")),
        ("user/balance", {"request_uuid": str(uuid.uuid4()), "currency": "XXX", "user": None, "token": None}),
    ]
    for endpoint, body in calls:
        assert (await aggregator.call(endpoint, body))["status"] == "RS_ERROR_INVALID_PARTNER", endpoint
    assert await cash(rt, player.player_id) == 900
    await _enable(rt, hub88_provider.id, True)
    answer = await aggregator.call("transaction/rollback", player.rollback(bet["transaction_uuid"], round_ref="a"))
    assert answer["status"] == "RS_OK"
    assert await cash(rt, player.player_id) == 1_000


async def test_two_hub88_providers_are_cached_and_checked_apart(
    aggregator: Aggregator, seat: Any, rt: Any, hub88_provider: Any
) -> None:
    other_key, other_pem = _keypair()
    other = await _insert_provider(rt, "hub88-two", "hub88", other_pem)
    player = await seat(balance=1_000)
    second = await seat(balance=1_000, provider=other)
    other_aggregator = Aggregator(aggregator.http, other_key, code="hub88-two")
    assert (await aggregator.call("transaction/bet", player.bet(EUR)))["status"] == "RS_OK"
    assert (await other_aggregator.call("transaction/bet", second.bet(EUR)))["status"] == "RS_OK"
    # Each provider's key is its own, cached or not: the other's signature is refused.
    crossed = await other_aggregator.call("transaction/bet", second.bet(EUR), key=aggregator.key)
    assert crossed["status"] == "RS_ERROR_INVALID_SIGNATURE"
    crossed = await aggregator.call("transaction/bet", player.bet(EUR), key=other_key)
    assert crossed["status"] == "RS_ERROR_INVALID_SIGNATURE"
    # Disabling one leaves the other serving.
    await _enable(rt, other.id, False)
    assert (await other_aggregator.call("transaction/bet", second.bet(EUR)))["status"] == "RS_ERROR_INVALID_PARTNER"
    assert (await aggregator.call("transaction/bet", player.bet(EUR)))["status"] == "RS_OK"
    assert (await cash(rt, player.player_id), await cash(rt, second.player_id)) == (800, 900)


async def test_a_provider_changing_under_both_attempts_is_an_unknown_error_in_protocol(
    aggregator: Aggregator, seat: Any, rt: Any, hub88_provider: Any, monkeypatch: Any
) -> None:
    """The cached read and the fresh one both found stale by the command: HTTP 200, RS_ERROR_UNKNOWN (the
    aggregator retries), nothing written."""
    from dataclasses import replace

    from integrations import hub88

    player = await seat(balance=1_000)
    real = hub88._provider

    async def always_stale(rt: Any, code: str, *, fresh: bool) -> Any:
        ref, pem, cached = await real(rt, code, fresh=fresh)
        return replace(ref, version="0"), pem, cached

    monkeypatch.setattr(hub88, "_provider", always_stale)
    tx = str(uuid.uuid4())
    answer = await aggregator.call("transaction/bet", player.bet(EUR, tx=tx))
    assert answer["status"] == "RS_ERROR_UNKNOWN"
    assert answer["user"] == player.user
    async with rt.database.session() as db:
        stored = (
            await db.execute(
                text("SELECT count(*) FROM provider_transactions WHERE transaction_uuid = :tx"), {"tx": tx}
            )
        ).scalar_one()
    assert (stored, await cash(rt, player.player_id)) == (0, 1_000)
