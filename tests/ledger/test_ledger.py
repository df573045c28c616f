"""The ledger's guarantees: balanced, never overdrawn, idempotent under racing retries, append-only,
verifiable, and announced through the outbox exactly once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.errors import DomainError
from models.ledger import LedgerPosting, LedgerTransaction
from services import ledger, wallet
from services.ledger import Entry, Leg
from services.wallet import Actor
from tests import cli_process
from tests.conftest import TEST_ENV, fund

SYSTEM = Actor("system")


async def deposit(
    rt: Any, player_id: uuid.UUID, amount: int, *, payment_id: uuid.UUID | None = None, currency: str = "EUR"
) -> ledger.Result:
    """The deposit command under test (its payment id is its idempotency key); to only give a player
    money, `make_player(balance=...)` or `fund`."""
    async with rt.database.transaction() as db:
        return await wallet.credit_deposit(
            db,
            player_id=player_id,
            currency=currency,
            amount=amount,
            psp="demo",
            payment_id=payment_id or uuid.uuid4(),
            actor=SYSTEM,
        )


async def cash(rt: Any, player_id: uuid.UUID, currency: str = "EUR") -> int:
    async with rt.database.session() as db:
        found = {b.currency: b for b in await wallet.balances(db, player_id)}
    return found[currency].cash if currency in found else 0


async def assert_ledger_clean(rt: Any) -> None:
    async with rt.database.session() as db:
        result = await ledger.verify(db)
    assert result.ok, result.discrepancies


async def test_a_deposit_is_one_balanced_transaction(rt, make_player) -> None:
    player = await make_player()
    result = await deposit(rt, player.uuid, 12_50)
    assert result.committed
    assert sum(p.amount for p in result.postings) == 0
    assert await cash(rt, player.uuid) == 12_50
    cash_posting = next(p for p in result.postings if p.balance_after is not None)
    assert cash_posting.balance_after == 12_50
    house_posting = next(p for p in result.postings if p.balance_after is None)  # derived: no stored balance
    assert house_posting.amount == -12_50
    await assert_ledger_clean(rt)


async def test_an_unbalanced_transaction_is_refused_before_and_by_the_database(rt, make_player) -> None:
    player = await make_player()
    async with rt.database.transaction() as db:
        accounts = await wallet.player_accounts(
            db, player.uuid, (await db.get(__import__("models").Player, player.uuid)).brand_id, "EUR"
        )
    with pytest.raises(DomainError, match="Unbalanced"):
        async with rt.database.transaction() as db:
            await ledger.record(
                db,
                Entry(
                    "k-unbalanced", "adjustment", (Leg(accounts.cash, 5), Leg(accounts.bonus, -4)), actor_type="system"
                ),
            )
    # Around the service: the deferred trigger refuses the commit.
    with pytest.raises((IntegrityError, DBAPIError), match="does not balance"):
        async with rt.database.transaction() as db:
            tx_id = uuid.uuid4()
            db.add(
                LedgerTransaction(
                    id=tx_id,
                    idempotency_key="raw",
                    request_hash="x",
                    kind="raw",
                    status="committed",
                    actor_type="system",
                )
            )
            await db.flush()
            db.add(LedgerPosting(transaction_id=tx_id, account_id=accounts.cash, currency="EUR", amount=100))
            await db.flush()
    assert await cash(rt, player.uuid) == 0


async def test_the_ledger_is_append_only(rt, make_player) -> None:
    player = await make_player()
    result = await deposit(rt, player.uuid, 100)
    for statement in (
        "UPDATE ledger_postings SET amount = amount * 2",
        f"DELETE FROM ledger_transactions WHERE id = '{result.transaction_id}'",
        "TRUNCATE ledger_postings CASCADE",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with rt.database.transaction() as db:
                await db.execute(text(statement))
    await assert_ledger_clean(rt)


async def test_insufficient_funds_is_refused_remembered_and_moves_nothing(rt, make_player) -> None:
    player = await make_player(balance="10.00 EUR")
    payment = uuid.uuid4()
    for attempt in range(2):
        async with rt.database.transaction() as db:
            result, hold = await wallet.hold_withdrawal(
                db, player_id=player.uuid, currency="EUR", amount=10_01, payment_id=payment, actor=SYSTEM
            )
        assert not result.committed
        assert hold is None
        assert result.refusal_code == "INSUFFICIENT_FUNDS"
        assert result.replayed is (attempt == 1)
        with pytest.raises(DomainError) as refused:
            result.raise_if_refused()
        assert refused.value.code == "INSUFFICIENT_FUNDS"
    await fund(rt, player, "5.00 EUR")
    async with rt.database.transaction() as db:  # same key: still refused, although it would fit now
        again, _ = await wallet.hold_withdrawal(
            db, player_id=player.uuid, currency="EUR", amount=10_01, payment_id=payment, actor=SYSTEM
        )
    assert not again.committed
    assert await cash(rt, player.uuid) == 15_00
    await assert_ledger_clean(rt)


async def test_same_key_with_different_content_is_refused(rt, make_player) -> None:
    player = await make_player()
    payment = uuid.uuid4()
    await deposit(rt, player.uuid, 10_00, payment_id=payment)
    with pytest.raises(ledger.IdempotencyConflict):
        await deposit(rt, player.uuid, 99_00, payment_id=payment)
    replay = await deposit(rt, player.uuid, 10_00, payment_id=payment)
    assert replay.replayed
    assert await cash(rt, player.uuid) == 10_00


async def test_racing_retries_with_one_key_move_money_once(rt, make_player) -> None:
    player = await make_player()
    payment = uuid.uuid4()
    results = await asyncio.gather(*(deposit(rt, player.uuid, 7_00, payment_id=payment) for _ in range(20)))
    assert len({r.transaction_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert await cash(rt, player.uuid) == 7_00
    async with rt.database.session() as db:
        count = await db.scalar(
            text("SELECT count(*) FROM ledger_transactions WHERE reference_id = :p"), {"p": str(payment)}
        )
    assert count == 1
    await assert_ledger_clean(rt)


async def test_concurrent_deposits_holds_and_adjustments_never_overdraw(rt, make_player) -> None:
    """Many concurrent commands on one player: the balance never goes below zero, and the final
    balance equals the sum of what was acknowledged."""
    player = await make_player(balance="100.00 EUR")
    expected = 100_00

    async def hold(amount: int) -> int:
        async with rt.database.transaction() as db:
            result, _ = await wallet.hold_withdrawal(
                db, player_id=player.uuid, currency="EUR", amount=amount, payment_id=uuid.uuid4(), actor=SYSTEM
            )
        return -amount if result.committed else 0

    async def debit(amount: int) -> int:
        async with rt.database.transaction() as db:
            result = await wallet.adjust(
                db,
                player_id=player.uuid,
                currency="EUR",
                amount=-amount,
                adjustment_id=uuid.uuid4(),
                actor=SYSTEM,
                reason="test",
            )
        return -amount if result.committed else 0

    async def credit(amount: int) -> int:
        return amount if (await deposit(rt, player.uuid, amount)).committed else 0

    commands = [command for _ in range(12) for command in (hold(17_00), debit(9_00), credit(3_00))]
    moved = await asyncio.gather(*commands)
    expected += sum(moved)
    assert any(m == 0 for m in moved)  # some were refused: the race was real
    assert await cash(rt, player.uuid) == expected >= 0
    await assert_ledger_clean(rt)


async def test_a_hold_is_posted_or_voided_exactly_once(rt, make_player) -> None:
    player = await make_player(balance="50.00 EUR")
    async with rt.database.transaction() as db:
        _, first = await wallet.hold_withdrawal(
            db, player_id=player.uuid, currency="EUR", amount=20_00, payment_id=uuid.uuid4(), actor=SYSTEM
        )
        _, second = await wallet.hold_withdrawal(
            db, player_id=player.uuid, currency="EUR", amount=10_00, payment_id=uuid.uuid4(), actor=SYSTEM
        )
    assert first is not None
    assert second is not None
    async with rt.database.session() as db:
        (balance,) = await wallet.balances(db, player.uuid)
    assert (balance.cash, balance.withdrawal_pending) == (20_00, 30_00)

    paid_payment = uuid.uuid4()
    async with rt.database.transaction() as db:
        paid = await wallet.pay_withdrawal(db, hold_id=first.id, psp="demo", payment_id=paid_payment, actor=SYSTEM)
    async with rt.database.transaction() as db:  # the same request again: the first result
        replay = await wallet.pay_withdrawal(db, hold_id=first.id, psp="demo", payment_id=paid_payment, actor=SYSTEM)
    assert replay.transaction_id == paid.transaction_id
    assert replay.replayed
    with pytest.raises(DomainError, match="already posted"):
        async with rt.database.transaction() as db:
            await wallet.void_withdrawal(db, hold_id=first.id, payment_id=uuid.uuid4(), actor=SYSTEM, reason="x")
    async with rt.database.transaction() as db:
        await wallet.void_withdrawal(db, hold_id=second.id, payment_id=uuid.uuid4(), actor=SYSTEM, reason="x")
    async with rt.database.session() as db:
        (balance,) = await wallet.balances(db, player.uuid)
    assert (balance.cash, balance.withdrawal_pending) == (30_00, 0)
    await assert_ledger_clean(rt)


async def test_concurrent_post_and_void_of_one_hold_resolve_it_once(rt, make_player) -> None:
    player = await make_player(balance="10.00 EUR")
    async with rt.database.transaction() as db:
        _, hold = await wallet.hold_withdrawal(
            db, player_id=player.uuid, currency="EUR", amount=10_00, payment_id=uuid.uuid4(), actor=SYSTEM
        )
    assert hold is not None

    async def post() -> str:
        async with rt.database.transaction() as db:
            await wallet.pay_withdrawal(db, hold_id=hold.id, psp="demo", payment_id=uuid.uuid4(), actor=SYSTEM)
        return "posted"

    async def void() -> str:
        async with rt.database.transaction() as db:
            await wallet.void_withdrawal(db, hold_id=hold.id, payment_id=uuid.uuid4(), actor=SYSTEM, reason="x")
        return "voided"

    outcomes = await asyncio.gather(post(), void(), post(), void(), return_exceptions=True)
    done = [o for o in outcomes if isinstance(o, str)]
    assert len(done) == 1, outcomes
    assert all(isinstance(o, DomainError) for o in outcomes if not isinstance(o, str))
    assert await cash(rt, player.uuid) == (0 if done == ["posted"] else 10_00)
    await assert_ledger_clean(rt)


def run_ledger_verify(*options: str) -> subprocess.CompletedProcess[str]:
    return cli_process.run("ledger", "verify", *options, env={**os.environ, **TEST_ENV}, timeout=60)


@pytest.mark.tampers
async def test_ledger_verify_finds_a_tampered_balance_and_a_forged_posting(rt, make_player) -> None:
    player = await make_player(balance="10.00 EUR")
    clean = run_ledger_verify()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "OK" in clean.stdout
    async with rt.database.transaction() as db:
        await db.execute(text("SET LOCAL session_replication_role = replica"))  # past the triggers, as an intruder
        await db.execute(
            text("UPDATE ledger_accounts SET balance = balance + 1 WHERE owner_id = :p AND purpose = 'cash'"),
            {"p": str(player.uuid)},
        )
        tx = (await db.execute(text("SELECT transaction_id, account_id FROM ledger_postings LIMIT 1"))).one()
        await db.execute(
            text(
                "INSERT INTO ledger_postings (transaction_id, account_id, currency, amount, created_at)"
                " VALUES (:t, :a, 'EUR', 5, now())"
            ),
            {"t": tx[0], "a": tx[1]},
        )
    tampered = run_ledger_verify()
    assert tampered.returncode == 1
    assert "account balance differs from the sum of its postings" in tampered.stdout
    assert "transaction does not balance" in tampered.stdout


async def test_outbox_events_exist_only_for_committed_changes(rt, make_player) -> None:
    player = await make_player()
    await deposit(rt, player.uuid, 1_00)
    with pytest.raises(RuntimeError):
        async with rt.database.transaction() as db:
            await wallet.credit_deposit(
                db,
                player_id=player.uuid,
                currency="EUR",
                amount=2_00,
                psp="demo",
                payment_id=uuid.uuid4(),
                actor=SYSTEM,
            )
            raise RuntimeError("crash before commit")
    async with rt.database.session() as db:
        rows = (
            await db.execute(
                text(
                    "SELECT payload->>'kind', payload->'balances'->>'cash' FROM outbox_events "
                    "WHERE topic LIKE 'ledger.%'"
                )
            )
        ).all()
    assert rows == [("deposit", "100")]


async def test_the_relay_publishes_each_event_once_even_after_a_crash(rt, make_player) -> None:
    """Killed between publishing and marking: the next relay skips what Redis already has."""
    import asyncpg

    from core.outbox import STREAM, Relay, asyncpg_dsn

    player = await make_player()
    for amount in (3_00, 4_00, 5_00):
        await deposit(rt, player.uuid, amount)
    relay = Relay(rt.database.url, rt.redis)
    conn = await asyncpg.connect(asyncpg_dsn(rt.database.url))
    try:
        await relay.publish_batch(conn)  # the running relay may have published already: either way once
        await conn.execute("UPDATE outbox_events SET published_at = NULL")  # as if the mark was lost
        await relay.publish_batch(conn)
        await relay.publish_batch(conn)
        unpublished = await conn.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
        event_ids = {row["id"] for row in await conn.fetch("SELECT id FROM outbox_events")}
    finally:
        await conn.close()
    assert unpublished == 0
    entries = await rt.redis.xrange(STREAM)
    published_ids = [int(fields["id"]) for _, fields in entries]
    assert sorted(published_ids) == sorted(event_ids)  # every event, none twice
    assert published_ids == sorted(published_ids)  # in commit order, a batch at a time


async def test_balances_and_transactions_through_graphql(gql, rt, make_player) -> None:
    player = await make_player()
    await deposit(rt, player.uuid, 25_00)
    await deposit(rt, player.uuid, 5_50)
    body = await gql(
        """{ me { wallet { currency cash { amount currency } withdrawalPending { amount } }
        transactions(first: 10) { edges { node { kind changes { account amount { amount } balanceAfter { amount } }
        postings { amount { amount } } } } } } }""",
        token=player.token,
    )
    me = body["data"]["me"]
    assert me["wallet"] == [
        {"currency": "EUR", "cash": {"amount": "30.50", "currency": "EUR"}, "withdrawalPending": {"amount": "0.00"}}
    ]
    nodes = [edge["node"] for edge in me["transactions"]["edges"]]
    assert [
        (n["kind"], n["changes"][0]["amount"]["amount"], n["changes"][0]["balanceAfter"]["amount"]) for n in nodes
    ] == [("deposit", "5.50", "30.50"), ("deposit", "25.00", "25.00")]
    # The house side of a transaction is not the player's business.
    assert all(n["postings"] is None for n in nodes)
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}


async def test_replaying_a_hold_resolution_with_another_destination_is_refused(rt, make_player) -> None:
    player = await make_player(balance="10.00 EUR")
    async with rt.database.transaction() as db:
        _, hold = await wallet.hold_withdrawal(
            db, player_id=player.uuid, currency="EUR", amount=10_00, payment_id=uuid.uuid4(), actor=SYSTEM
        )
    assert hold is not None
    payment = uuid.uuid4()
    async with rt.database.transaction() as db:
        await wallet.pay_withdrawal(db, hold_id=hold.id, psp="demo", payment_id=payment, actor=SYSTEM)
    with pytest.raises(ledger.IdempotencyConflict):  # same key, another PSP's clearing account
        async with rt.database.transaction() as db:
            await wallet.pay_withdrawal(db, hold_id=hold.id, psp="other", payment_id=payment, actor=SYSTEM)
