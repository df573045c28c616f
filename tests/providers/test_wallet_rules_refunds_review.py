"""Review of the two branches merged together (Pragmatic Play's per-player refund keys, the catalogue's bet rules in
wallet_play_v2): where they meet, driven through the public routes (signed Hub88 calls, Pragmatic Play forms)
against the real database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from integrations import pragmatic as pragmatic_adapter
from integrations.pragmatic_wire import transaction_id
from models.games import ProviderTransaction
from tests.providers.conftest import cash
from tests.providers.pragmatic_fixtures import PRAGMATIC, PragmaticProvider


def _previous_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refunds keyed as the release before per-player keys keyed them: `refund:<reference>`."""
    monkeypatch.setattr(pragmatic_adapter, "refund_key", lambda player, reference: f"refund:{reference}")


async def _refunds_of(rt: Any, reference: str) -> int:
    async with rt.database.session() as db:
        found: int = await db.scalar(
            select(func.count())
            .select_from(ProviderTransaction)
            .where(
                col(ProviderTransaction.kind) == "rollback",
                col(ProviderTransaction.reference_transaction_uuid) == reference,
            )
        )
    return found


async def test_a_refund_answered_before_the_per_player_keys_is_the_same_transaction_when_retried_after(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refund the previous release answered (keyed `refund:<reference>`), retried after the deploy, is the same
    transaction: its first answer's code and transaction id ("the same on every retry", docs/providers-pragmatic.md),
    nothing moved and nothing more recorded. It was a new transaction under the per-player key: another id, so PP's
    reconciliation saw two refunds of one bet."""
    player = await pp_seat(balance=1_000)
    bet = player.bet("2.00", round_id="r-1")
    assert (await pragmatic.call("bet", bet))["error"] == 0
    with monkeypatch.context() as before:
        _previous_release(before)
        first = await pragmatic.call("refund", player.refund(bet["reference"]))
    assert (first["error"], first["transactionId"]) == (0, transaction_id(PRAGMATIC, f"refund:{bet['reference']}"))

    retried = await pragmatic.call("refund", player.refund(bet["reference"]))
    assert (retried["error"], retried["transactionId"]) == (0, first["transactionId"])
    assert await cash(rt, player.player_id) == 1_000  # the stake back once
    assert await _refunds_of(rt, bet["reference"]) == 1


async def test_a_refund_of_a_bet_never_seen_answered_before_the_deploy_keeps_its_id_and_still_refuses_the_bet(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    player = await pp_seat(balance=1_000)
    bet = player.bet("2.00", round_id="r-1")
    with monkeypatch.context() as before:
        _previous_release(before)
        first = await pragmatic.call("refund", player.refund(bet["reference"]))
    assert first["error"] == 0

    retried = await pragmatic.call("refund", player.refund(bet["reference"]))
    assert (retried["error"], retried["transactionId"]) == (0, first["transactionId"])
    assert (await pragmatic.call("bet", bet))["error"] == 3  # refunded before it arrived: refused, nothing moves
    assert await cash(rt, player.player_id) == 1_000
    assert await _refunds_of(rt, bet["reference"]) == 1


async def test_a_misdirected_refund_retried_after_the_bet_arrived_gets_its_first_answer(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    """A refund answered 0 (a bet nobody placed yet, under the wrong userId) is recorded; its retry is the same
    transaction and gets its first answer, 0 with its transaction id, even once the reference's real owner has bet
    (it answered 7 then: the "another player's bet" check ran before the retry was recognised). Nothing moves."""
    owner = await pp_seat(balance=1_000)
    stranger = await pp_seat(balance=1_000)
    bet = owner.bet("2.00", round_id="r-1")
    first = await pragmatic.call("refund", stranger.refund(bet["reference"]))
    assert first["error"] == 0
    assert (await pragmatic.call("bet", bet))["error"] == 0
    retried = await pragmatic.call("refund", stranger.refund(bet["reference"]))
    assert (retried["error"], retried["transactionId"]) == (0, first["transactionId"])
    assert (await cash(rt, owner.player_id), await cash(rt, stranger.player_id)) == (800, 1_000)
    assert await _refunds_of(rt, bet["reference"]) == 1
    # a refund of that bet the stranger never sent before is still refused, not recorded
    other = await pp_seat(balance=1_000)
    assert (await pragmatic.call("refund", other.refund(bet["reference"])))["error"] == 7
    assert await _refunds_of(rt, bet["reference"]) == 1
