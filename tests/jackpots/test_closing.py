"""Closing a jackpot with money in its pots (issue 18): each pot back to the seed account through the ledger,
audited with its reason, the undropped pots' commitments revealed as void; the books, the commitments and the
history still check out; nothing moves afterwards (a late rollback takes nothing back)."""

from __future__ import annotations

import json
from typing import Any

from services.jackpots.admin import LevelSpec
from tests.jackpots.conftest import bet
from tests.ledger.test_ledger import run_ledger_verify
from tests.test_audit import run_cli

SEED = 1_000


async def _seed_account(jackpots: Any, jackpot_id: Any) -> int:
    """Derived: the sum of its postings."""
    balance: int = await jackpots.conn.fetchval(
        "SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id "
        "WHERE a.purpose = 'jackpot_seed' AND a.owner_id = $1",
        f"jackpot:{jackpot_id}",
    )
    return balance


async def test_closing_refunds_every_pot_to_the_seed_account_and_voids_its_commitment(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any, tmp_path: Any
) -> None:
    jackpot = await create(
        levels=[LevelSpec("grand", SEED, 100_000, "amount", 10**9), LevelSpec("mega", 500, 0, "provider")],
        brands=[brand.id],
    )
    grand, mega = jackpot.pools
    seat = await player_at_game(balance=100_000)
    undone = await bet(aggregator, seat, 5_000)  # 50.00 EUR at 10%: 5.00 to the grand pot
    await jackpots.drain()
    assert (await jackpots.pool(grand.id))["amount"] == SEED + 500
    seed_before = await _seed_account(jackpots, jackpot.id)

    code, out = await run_cli("jackpots", "configure", str(jackpot.id), "--status", "closed")
    assert code != 0, out  # closing moves money: it says why
    assert "reason" in out.lower(), out
    assert (await jackpots.pool(grand.id))["amount"] == SEED + 500
    code, out = await run_cli("jackpots", "configure", str(jackpot.id), "--status", "closed", "--reason", "season over")
    assert code == 0, out
    assert "grand\tpot 1 refunded 15.00 EUR\tcommitment void" in out
    assert out.strip().splitlines()[-1] == "grand-fortune closed"

    assert [(await jackpots.pool(p.id))["amount"] for p in (grand, mega)] == [0, 0]
    assert await _seed_account(jackpots, jackpot.id) == seed_before + SEED + 500 + 500
    refunds = await jackpots.conn.fetch("SELECT pool_id, generation, amount, reason FROM jackpot_refunds")
    assert {(r["pool_id"], r["generation"], r["amount"], r["reason"]) for r in refunds} == {
        (grand.id, 1, SEED + 500, "season over"),
        (mega.id, 1, 500, "season over"),
    }
    commitment = await jackpots.conn.fetchrow("SELECT revealed_at, voided_at FROM jackpot_commitments")
    assert commitment["voided_at"] is not None
    assert commitment["revealed_at"] == commitment["voided_at"]
    audit = await jackpots.conn.fetchrow(
        "SELECT reason, after FROM audit_log WHERE action = 'jackpot.close' AND target_id = $1", str(jackpot.id)
    )
    assert audit["reason"] == "season over"
    after = json.loads(audit["after"]) if isinstance(audit["after"], str) else audit["after"]
    assert sorted(r["amount"] for r in after["refunds"]) == [500, SEED + 500]
    topics = [r["topic"] for r in await jackpots.conn.fetch("SELECT topic FROM outbox_events ORDER BY id")]
    assert topics[-2:] == ["jackpot.commitment_revealed", "jackpot.closed"]

    # Nothing moves once closed: a late rollback of a bet whose pot was refunded takes nothing back.
    assert (await aggregator.call("transaction/rollback", seat.rollback(undone)))["status"] == "RS_OK"
    await jackpots.drain()
    assert (await jackpots.pool(grand.id))["amount"] == 0

    # The void commitment checks against what was published; the history adds up with the refund.
    code, out = await run_cli("jackpots", "verify", str(jackpot.id), "--json")
    assert code == 0, out
    [drop] = json.loads(out[out.index("[") :])
    assert (drop["level"], drop["void"], drop["ok"]) == ("grand", True, True)
    code, out = await run_cli("jackpots", "commitments", str(jackpot.id))
    assert "VOID (closed, never dropped)" in out
    code, out = await run_cli("jackpots", "history", str(jackpot.id))
    assert "adds up: NO" not in out, out
    assert "refund 1\t1500\tseason over" in out, out
    clean = run_ledger_verify()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    code, out = await run_cli("jackpots", "configure", str(jackpot.id), "--status", "active", "--reason", "again")
    assert code != 0  # a closed jackpot stays closed


async def test_a_win_report_for_a_closed_jackpot_is_refused(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    jackpot = await create(levels=[LevelSpec("mega", 500, 0, "provider")], brands=[brand.id], type_="fixed")
    [pool] = jackpot.pools
    code, out = await run_cli("jackpots", "configure", str(jackpot.id), "--status", "closed", "--reason", "withdrawn")
    assert code == 0, out
    seat = await player_at_game(balance=100)
    body = {"pool_id": str(pool.id), "user": str(seat.player_id), "reference": "late", "generation": 1}
    assert (await aggregator.call("jackpot/win", body))["status"] == "RS_ERROR_JACKPOT_REFUSED"
