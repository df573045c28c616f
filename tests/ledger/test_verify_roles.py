"""`croupier ledger verify` run as a role of its own, without pg_read_all_stats, while the application writes
as another role. Settling (services/ledger_verify/settle.py) waits for this database's transactions in
progress, found through pg_stat_activity: PostgreSQL shows every session's database, pid, role and
transaction ids (`backend_xid`, `backend_xmin`) to every role and hides only the rest (the query, the
state, the client) from a role that lacks pg_read_all_stats or the session's role's privileges. So a
least-privileged verifier waits for the application's writers exactly as their own role would; these tests
pin that, so that a PostgreSQL that hid the transaction id would fail here and not in the books."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.db import Database
from services import ledger_verify, wallet
from services.ledger_verify.settle import settle
from services.wallet import Actor
from tests.ledger.test_ledger import deposit
from tests.ledger.test_verify_incremental import FORGE, posting_ids

SYSTEM = Actor("system")


@asynccontextmanager
async def verifier(rt: Any) -> AsyncIterator[Database]:
    """A login role that can run the verify and nothing more: read the tables, write the checkpoint and the
    stored balances, create its temporary tables. Not a superuser, not in pg_read_all_stats, not a member
    of the application's role. Dropped afterwards (roles are the cluster's, not the test database's)."""
    role = f"croupier_verifier_{uuid.uuid4().hex[:12]}"
    async with rt.database.transaction() as db:
        await db.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOINHERIT'))
        await db.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"'))
        await db.execute(text(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}"'))
        await db.execute(text(f'GRANT INSERT ON ledger_verify_checkpoints TO "{role}"'))
        await db.execute(text(f'GRANT INSERT, UPDATE, DELETE ON ledger_verify_balances TO "{role}"'))
    url = make_url(rt.database.url).set(username=role, password=None)
    database = Database(url.render_as_string(hide_password=False), pool_size=3)
    try:
        yield database
    finally:
        await database.dispose()
        async with rt.database.transaction() as db:
            await db.execute(text(f'DROP OWNED BY "{role}"'))  # its privileges here
            await db.execute(text(f'DROP ROLE "{role}"'))


async def test_a_role_without_pg_read_all_stats_sees_another_roles_transaction_id(rt) -> None:
    """The premise, as PostgreSQL states it: the writer's query is hidden from the verifier, its
    transaction id is not; and settling as the verifier waits for that transaction."""
    async with verifier(rt) as database, rt.database.transaction() as writer:
        xid = str((await writer.execute(text("SELECT pg_current_xact_id()"))).scalar_one())
        pid = int((await writer.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        async with database.engine.connect() as conn:
            seen = (
                await conn.execute(
                    text(
                        "SELECT query, CAST(backend_xid AS text) AS xid, pg_has_role('pg_read_all_stats', 'USAGE') "
                        "AS all_stats FROM pg_stat_activity WHERE pid = :pid"
                    ),
                    {"pid": pid},
                )
            ).one()
        assert seen.query == "<insufficient privilege>"
        assert not seen.all_stats
        assert seen.xid == xid
        with pytest.raises(TimeoutError, match=xid):
            await settle(database, 0.3)


@pytest.mark.tampers
async def test_a_verifier_role_waits_for_a_transaction_of_the_applications_role(rt, make_player) -> None:
    """As test_verify_incremental's late commit, with the verify run as its own least-privileged role:
    transaction A (the application's role) draws posting ids and stays open, B draws larger ones and
    commits; the verifier's run must wait for A and find what A broke, not record a checkpoint past it."""
    early, late = await make_player(), await make_player()
    for player in (early, late):
        await deposit(rt, player.uuid, 1_00)
    async with verifier(rt) as database:
        first = await ledger_verify.verify_books(database, full=True)
        assert first.ok, first.discrepancies
        assert first.checkpoint_written

        a_open, a_may_commit = asyncio.Event(), asyncio.Event()
        a_transaction: list[uuid.UUID] = []

        async def transaction_a() -> None:
            async with rt.database.transaction() as db:
                await db.execute(text("SET LOCAL session_replication_role = replica"))  # so it can commit broken
                result = await wallet.credit_deposit(
                    db,
                    player_id=early.uuid,
                    currency="EUR",
                    amount=2_00,
                    psp="demo",
                    payment_id=uuid.uuid4(),
                    actor=SYSTEM,
                )
                await db.execute(text(FORGE), {"tx": result.transaction_id})
                a_transaction.append(result.transaction_id)
                a_open.set()
                await a_may_commit.wait()

        a = asyncio.create_task(transaction_a())
        await asyncio.wait_for(a_open.wait(), 10)
        b = await asyncio.wait_for(deposit(rt, late.uuid, 1_00), 10)

        verify = asyncio.create_task(ledger_verify.verify_books(database, full=False))
        await asyncio.sleep(0.3)  # the verifier has read the highest visible posting id (B's) by now
        assert not verify.done()  # and waits for A
        a_may_commit.set()
        await asyncio.wait_for(a, 10)
        result = await asyncio.wait_for(verify, 30)

    assert max(await posting_ids(rt, a_transaction[0])) < min(await posting_ids(rt, b.transaction_id))
    assert result.mode == "incremental"
    assert ("transaction does not balance", str(a_transaction[0])) in {
        (d.check, d.subject) for d in result.discrepancies
    }
    assert not result.checkpoint_written


async def test_settling_waits_for_the_newest_transaction_of_all(rt) -> None:
    """The newest transaction in progress is at or above the snapshot's xmax (one past the newest completed
    one) when nothing newer has completed since, so the snapshot's own list of running transactions
    (pg_snapshot_xip) leaves it out; settling reads pg_stat_activity and waits for it all the same."""
    async with rt.database.transaction() as writer:
        xid = str((await writer.execute(text("SELECT pg_current_xact_id()"))).scalar_one())
        with pytest.raises(TimeoutError, match=xid):
            await settle(rt.database, 0.3)
