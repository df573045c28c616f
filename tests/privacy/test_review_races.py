"""Review of erasure against money moving at the same time (issue 16 item 9)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.kyc.conftest import deposit
from tests.privacy.test_erasure import erase


async def test_review_a_deposit_that_read_the_player_before_their_erasure_does_not_pay_into_the_erased_account(
    rt: Any, gql: Any, psp: Any, make_player: Any, dpo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.cashier import deposits

    player = await make_player()
    real_payer = deposits._payer
    reads: list[str] = []

    async def erased_right_after_the_read(db: Any, viewer: Any, currency: str) -> Any:
        found = await real_payer(db, viewer, currency)
        reads.append(found[0].status)
        if len(reads) == 2:  # the deposit's own transaction read an active player: the officer erases now
            assert (await erase(gql, dpo, player))["errors"] == []
        return found

    monkeypatch.setattr(deposits, "_payer", erased_right_after_the_read)
    answer = await deposit(gql, psp, player, "25.00")

    assert reads == ["active", "active"]
    assert answer["payment"] is None, answer
    assert [e["code"] for e in answer["errors"]] == ["ACCOUNT_BLOCKED"], answer
    async with rt.database.session() as db:
        payments = await db.scalar(text("SELECT count(*) FROM payments WHERE player_id = :p"), {"p": player.uuid})
        money = await db.scalar(
            text("SELECT coalesce(sum(balance), 0) FROM ledger_accounts WHERE owner_type = 'player' AND owner_id = :p"),
            {"p": str(player.uuid)},
        )
    assert (payments, money) == (0, 0)
