"""Report fixtures: the `reports` consumer drained on demand against the test database, snapshots of its
projections, and the after-test check every report test ends with (the projections agree with the
ledger, as `croupier reports verify` says). Play, deposits and bonuses come from the fixtures of
tests/providers, tests/cashier and tests/bonuses."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
import pytest

from core import outbox
from core.consumers import Event, Runner, replay
from services.reports.projection import TABLES, ReportsProjection
from tests.bonuses.conftest import campaign  # noqa: F401  (fixtures)
from tests.cashier.conftest import card_deposit, psp  # noqa: F401
from tests.conftest import DATABASE_URL
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    Aggregator,
    Seat,
    aggregator,
    aggregator_key,
    hub88_provider,
    open_session,
)

EUR = 100_000  # one euro in Hub88 units (the ledger's minor unit is 1_000 of them)


async def seated(rt: Any, provider: Any, player: Any, currency: str = "EUR") -> Seat:
    """A registered player at the Hub88 table (a game session good for a month of test time)."""
    token = await open_session(rt, provider, player.uuid, currency=currency, ttl=timedelta(days=31))
    return Seat(str(player.uuid), player.uuid, token, currency)


async def play(wallet: Aggregator, at: Seat, stake: int, win: int | None = None, **round_: Any) -> dict[str, Any]:
    """A bet of `stake` Hub88 units (and a win on it); returns the bet as sent."""
    bet = at.bet(stake, **round_)
    assert (await wallet.call("transaction/bet", bet))["status"] == "RS_OK"
    if win is not None:
        answer = await wallet.call("transaction/win", at.win(win, bet["transaction_uuid"], **round_))
        assert answer["status"] == "RS_OK"
    return bet


async def roll_back(wallet: Aggregator, at: Seat, transaction: dict[str, Any]) -> None:
    answer = await wallet.call(
        "transaction/rollback", at.rollback(transaction["transaction_uuid"], **_round(transaction))
    )
    assert answer["status"] == "RS_OK", answer


def _round(transaction: dict[str, Any]) -> dict[str, Any]:
    return {"round_ref": transaction["round"]} if transaction.get("round") else {}


_ORDER = {
    "report_game_days": "day, brand_id, currency, provider, game, jurisdiction",
    "report_player_days": "player_id, day, currency",
    "report_cashier_days": "day, brand_id, currency",
    "report_players": "player_id",
    "report_player_gaps": "day, brand_id, currency, previous",
    "report_cohort_days": "registered_on, brand_id, day",
    "report_cohort_ngr": "registered_on, brand_id, day, currency",
}


@dataclass
class Reports:
    """The `reports` consumer, run by the tests when they choose (as the server's runner would)."""

    runner: Runner
    conn: asyncpg.Connection

    async def drain(self) -> int:
        """Apply every event committed so far (the stream, then the outbox table)."""
        return await self.runner.drain(self.conn)

    async def replay(self) -> int:
        """Forget the projections and rebuild them from the outbox table."""
        return await replay(self.runner, self.conn)

    async def events(self) -> list[Event]:
        """Every event of the outbox, in id order (as a replay reads them)."""
        rows = await self.conn.fetch(f"SELECT {outbox.ROW_COLUMNS} FROM outbox_events ORDER BY id")
        return [Event.of(outbox.envelope_of(row)) for row in rows]

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every projection row, in key order."""
        return {
            table: [dict(row) for row in await self.conn.fetch(f"SELECT * FROM {table} ORDER BY {_ORDER[table]}")]
            for table in TABLES
        }

    async def rows(self, table: str, **where: Any) -> list[dict[str, Any]]:
        conditions = " AND ".join(f"{column} = ${n}" for n, column in enumerate(where, 1)) or "true"
        found = await self.conn.fetch(
            f"SELECT * FROM {table} WHERE {conditions} ORDER BY {_ORDER[table]}", *where.values()
        )
        return [dict(row) for row in found]

    async def days(self) -> tuple[date, date] | None:
        """The first and last UTC day of anything written (the outbox's events)."""
        row = await self.conn.fetchrow(
            "SELECT (min(created_at) AT TIME ZONE 'UTC')::date AS first, "
            "(max(created_at) AT TIME ZONE 'UTC')::date AS last FROM outbox_events"
        )
        return (row["first"], row["last"]) if row and row["first"] else None


@pytest.fixture
def noon() -> date:
    """The platform clock moved to noon UTC of the next day: a test's activity all falls on that day,
    whenever the test runs (even a minute before midnight)."""
    from core.clock import clock

    moment = datetime.combine(clock.now().date() + timedelta(days=1), time(12), UTC)
    clock.advance(moment - clock.now())
    return moment.date()


@pytest.fixture
async def reports(rt: Any) -> AsyncIterator[Reports]:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        yield Reports(Runner(ReportsProjection(), DATABASE_URL, rt.redis, member=f"test-{uuid.uuid4().hex[:6]}"), conn)
    finally:
        await conn.close()


@pytest.fixture(autouse=True)
async def projections_match_the_ledger(
    request: pytest.FixtureRequest, clean_state: None, rt: Any, reports: Reports
) -> AsyncIterator[None]:
    """After each test (unless it tampers on purpose): drained, the projections agree with the ledger.
    (It asks for `clean_state` so that it ends before the tables are emptied.)"""
    yield
    if request.node.get_closest_marker("tampers") is not None:
        return
    await reports.drain()
    days = await reports.days()
    if days is None:
        return
    from services.reports import verify

    async with rt.database.session() as db:
        result = await verify.verify(db, start=days[0], end=days[1])
    assert result.ok, f"reports verify found: {result.differences}"
    assert (result.unapplied_events, result.parked_events) == (0, 0), result
