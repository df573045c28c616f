"""The held-deposit sweep runs by itself in the server (services/cashier/crypto/sweeper.py): every
CRYPTO_HELD_SWEEP_SECONDS it releases the held deposits whose gates pass and refunds those held too long, with no
command run; 0 turns it off."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from core.clock import clock
from services.cashier.crypto import sweeper
from tests.crypto.conftest import Chain, address_of, cash, transfers_seen
from tests.crypto.test_holds import SENDER, held_deposit, suspense
from tests.kyc.conftest import fully_verified


async def until(check: Any, seconds: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the worker did not get there"
        await asyncio.sleep(0.05)


async def test_the_server_runs_the_sweep_among_its_workers(rt: Any) -> None:
    """The test session's server (its lifespan ran) has the worker waiting for its interval (an hour in tests)."""
    [task] = [t for t in asyncio.all_tasks() if t.get_name() == "crypto-held-sweep"]
    assert not task.done()


async def test_the_worker_releases_and_refunds_held_deposits_by_itself(
    rt: Any,
    gql: Any,
    chain: Chain,
    crypto_brand: Any,
    make_player: Any,
    make_staff: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cleared = await make_player(brand_code="satoshi", currency="BTC")
    waiting = await make_player(brand_code="satoshi", currency="BTC")
    for player in (cleared, waiting):
        address = await address_of(gql, player, "BTC")
        assert (await held_deposit(gql, chain, player, "0.10000000", address["address"]))["results"][-1] == "held"
    await fully_verified(rt, cleared.uuid)  # its gate passes now; the other's never does
    clock.advance(timedelta(days=rt.settings.crypto_held_refund_after_days, seconds=1))
    assert await suspense(rt, "BTC") == 20_000_000
    finance = await make_staff(("finance", "satoshi"))  # signed in after the clock moved

    monkeypatch.setattr(rt.settings, "crypto_held_sweep_seconds", 0.05)
    worker = asyncio.create_task(sweeper.run(rt))
    try:

        async def decided() -> bool:
            return {t["status"] for t in await transfers_seen(gql, finance.token)} == {"credited", "refunded"}

        await until(decided)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert await cash(rt, cleared, "BTC") == 10_000_000
    assert await cash(rt, waiting, "BTC") == 0
    assert await suspense(rt, "BTC") == 0
    [payout] = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    assert (payout["address"], payout["amount"]) == (SENDER, "0.10000000")


async def test_the_worker_is_off_at_zero(rt: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rt.settings, "crypto_held_sweep_seconds", 0)
    await asyncio.wait_for(sweeper.run(rt), timeout=2)  # returns at once: no loop
