"""A bonus holder's bets, wins and rollbacks racing each other and their retries (the aggregator's 1 s
timeouts, rollback storms): each ledger write touches two tracked accounts (cash and bonus) in one statement;
what the provider last saw is what the books hold, each transaction moved money at most once, and the books
verify (the autouse fixture)."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from tests.bonuses.conftest import bonus_balance
from tests.bonuses.test_bonuses import EUR, _holder
from tests.providers.conftest import Aggregator


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_a_bonus_holders_racing_bets_wins_and_rollbacks_move_money_once(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator, seed: int
) -> None:
    seat, _ = await _holder(rt, gql, make_player, hub88_provider, campaign, cash=500)  # 5 EUR cash, 10 EUR bonus
    rng = random.Random(seed)
    bets = [seat.bet(rng.choice([1, 2]) * EUR, round_ref=f"r-{i}") for i in range(12)]
    answers = await asyncio.gather(
        *(aggregator.call("transaction/bet", {**b, "request_uuid": str(uuid.uuid4())}) for b in bets for _ in range(3))
    )
    sent = [b for b in bets for _ in range(3)]
    accepted = {b["transaction_uuid"] for b, a in zip(sent, answers, strict=True) if a["status"] == "RS_OK"}
    calls: list[tuple[str, dict[str, Any]]] = []
    for b in bets:
        if b["transaction_uuid"] not in accepted:
            continue
        if rng.random() < 0.5:
            calls += [("transaction/rollback", seat.rollback(b["transaction_uuid"], round_ref=b["round"]))] * 3
        else:
            calls += [("transaction/win", seat.win(EUR, b["transaction_uuid"], round_ref=b["round"]))] * 3
    rng.shuffle(calls)
    await asyncio.gather(
        *(aggregator.call(endpoint, {**body, "request_uuid": str(uuid.uuid4())}) for endpoint, body in calls)
    )
    cash, bonus = await bonus_balance(rt, seat.player_id)
    last = await aggregator.call("user/balance", seat.base(token=seat.token))
    assert last["balance"] == (cash + bonus) * 1000
    async with rt.database.session() as db:
        twice = (
            await db.execute(
                text(
                    "SELECT count(*) FROM (SELECT reference_id FROM ledger_transactions WHERE status = 'committed' "
                    "AND reference_type = 'provider_transaction' GROUP BY reference_id HAVING count(*) > 1) d"
                )
            )
        ).scalar_one()
        negative = (await db.execute(text("SELECT count(*) FROM ledger_accounts WHERE balance < 0"))).scalar_one()
    assert (twice, negative) == (0, 0)
