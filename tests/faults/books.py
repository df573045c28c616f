"""How every fault test ends: `croupier ledger verify` clean (which checks, among the rest, that each game
ledger transaction has exactly one provider transaction and each OK one its ledger transaction:
services/ledger_checks.py), and the aggregator's log of acknowledged calls checked against the database.

- every acknowledged call is recorded once, with the status the aggregator was told;
- every acknowledged bet or win that moved money has exactly one committed ledger transaction;
- nothing is half-applied: no ledger transaction without its outbox event, and round totals equal the
  calls they add up;
- each player's cash is what the acknowledged answers add up to.
"""

from __future__ import annotations

import os
from collections import Counter

import asyncpg

from bench import world
from tests import cli_process
from tests.faults.load import OK, Log


def ledger_verify(database_url: str, redis_url: str) -> str:
    """Run the real command; return its output, raise if it is not clean."""
    done = cli_process.run(
        "ledger", "verify", env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}, timeout=120
    )
    assert done.returncode == 0, f"croupier ledger verify failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


async def problems(database_url: str, log: Log) -> list[str]:
    """Everything the database says that the log of acknowledged calls contradicts."""
    found = list(log.mismatches)
    conn = await asyncpg.connect(database_url)
    try:
        recorded = {
            row["transaction_uuid"]: row
            for row in await conn.fetch(
                "SELECT transaction_uuid, kind, status, ledger_transaction_id, amount FROM provider_transactions"
            )
        }
        ledger = Counter(
            row["idempotency_key"]
            for row in await conn.fetch("SELECT idempotency_key FROM ledger_transactions WHERE status = 'committed'")
        )
        for ack in log.acks:
            row = recorded.get(ack.tx)
            if row is None:
                found.append(f"acknowledged {ack.endpoint} {ack.tx} ({ack.status}) is not recorded")
                continue
            if row["status"] != ack.status:
                found.append(f"{ack.tx}: acknowledged {ack.status}, recorded {row['status']}")
            moved = ack.status == OK and ack.endpoint != "transaction/rollback" and ack.amount > 0
            booked = ledger[f"provider:{world.PROVIDER}:{ack.tx}"]
            if moved and booked != 1:
                found.append(f"{ack.tx}: acknowledged, {booked} ledger transactions")
        unacknowledged = set(recorded) - {ack.tx for ack in log.acks}
        found += [f"{tx} is recorded but was never acknowledged" for tx in sorted(unacknowledged)]
        found += [
            f"ledger transaction {row['id']} has {row['n']} outbox events"
            for row in await conn.fetch("""
            SELECT t.id, count(o.id) AS n FROM ledger_transactions t
            LEFT JOIN outbox_events o ON o.payload->>'transaction_id' = t.id::text
            WHERE t.status = 'committed' AND t.player_id IS NOT NULL GROUP BY t.id HAVING count(o.id) <> 1""")
        ]
        found += [
            f"round {row['id']}: totals {row['total_bet']}/{row['total_win']}, calls {row['bets']}/{row['wins']}"
            for row in await conn.fetch("""
            SELECT r.id, r.total_bet, r.total_win,
                   coalesce(sum(p.amount) FILTER (WHERE p.kind = 'bet'), 0) AS bets,
                   coalesce(sum(p.amount) FILTER (WHERE p.kind = 'win'), 0) AS wins
            FROM game_rounds r LEFT JOIN provider_transactions p ON p.round_id = r.id AND p.status = 'RS_OK'
                 AND NOT p.rolled_back AND p.kind IN ('bet', 'win')
            GROUP BY r.id HAVING r.total_bet <> coalesce(sum(p.amount) FILTER (WHERE p.kind = 'bet'), 0)
                              OR r.total_win <> coalesce(sum(p.amount) FILTER (WHERE p.kind = 'win'), 0)""")
        ]
        cash = {
            row["owner_id"]: row["balance"]
            for row in await conn.fetch(
                "SELECT owner_id, balance FROM ledger_accounts WHERE owner_type = 'player' AND purpose = 'cash'"
            )
        }
        found += [
            f"player {user}: cash {cash.get(user)}, acknowledged calls add up to {expected}"
            for user, expected in log.model.items()
            if cash.get(user) != expected
        ]
    finally:
        await conn.close()
    return found
