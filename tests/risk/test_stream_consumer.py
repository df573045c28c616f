"""The `risk-rules` consumer as a consumer (core/consumers.py): a redelivered batch changes nothing, a rule
that cannot be read parks only this consumer's events of its kind (and `croupier events retry` evaluates
them once fixed), a replay is refused with nothing forgotten, and a batch's cost does not grow with its
number of events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from core import outbox
from core.consumers import Event, ReplayRefused, replay, retry_parked
from services import consumers
from tests.cashier.conftest import DemoPsp
from tests.risk.conftest import add_entry, registered
from tests.risk.stream_support import Stream
from tests.risk.test_stream_chargebacks import _charged_back
from tests.risk.test_stream_covering_bets import EUR, _bonus_holder, _round
from tests.test_audit import run_cli


async def _all_events(stream: Stream, above: int = 0) -> list[Event]:
    rows = await stream.conn.fetch(
        f"SELECT {outbox.ROW_COLUMNS} FROM outbox_events WHERE id > $1 ORDER BY id",
        above,
    )
    return [Event.of_row(row) for row in rows]


@pytest.fixture
def facts(
    rt: Any, gql: Any, make_staff: Any, make_player: Any, held: DemoPsp, client: Any, card_deposit: Any
) -> Callable[[], Awaitable[tuple[Any, Any]]]:
    """`await facts()`: a chargeback (restrictions, a flag, audit records) and a watch-list match (a
    contribution only); the charged-back player and the watched one."""
    return lambda: _facts(rt, gql, make_staff, make_player, held, client, card_deposit)


async def _facts(
    rt: Any, gql: Any, make_staff: Any, make_player: Any, held: DemoPsp, client: Any, card_deposit: Any
) -> tuple[Any, Any]:
    charged = await make_player()
    payment = await card_deposit(charged, "30.00")
    await _charged_back(rt, held, client, payment, "cb_once")
    analyst = await make_staff("risk_analyst")
    entry = await add_entry(gql, analyst.token, list="WATCH", kind="EMAIL_DOMAIN", value="watched.example")
    assert entry["errors"] == [], entry
    watched = await registered(gql, "w@watched.example")
    return charged, watched


async def test_a_redelivered_batch_changes_nothing(
    rt: Any, stream: Stream, facts: Callable[[], Awaitable[tuple[Any, Any]]]
) -> None:
    charged, watched = await facts()
    await stream.drain()
    before = await stream.state()
    assert [r.rule_code for r in (await stream.score(charged.uuid)).reasons] == ["chargeback-history"]
    assert [r.rule_code for r in (await stream.score(watched.uuid)).reasons] == ["watch-list"]

    # The stream delivers every event again (a crash before the XACK), and the sweep reads them too.
    assert await stream.runner.apply(stream.conn, await _all_events(stream)) == set()
    await stream.drain()

    assert await stream.state() == before


async def test_a_rule_that_cannot_be_read_parks_only_its_events_until_fixed(
    rt: Any, stream: Stream, facts: Callable[[], Awaitable[tuple[Any, Any]]]
) -> None:
    # Stored parameters the code no longer reads (a release that changed them, a hand edit).
    await stream.set_rule("chargeback-history", params={"count": "lots", "days": 365})
    charged, watched = await facts()

    for _ in range(4):  # the framework's attempts: the batch, then the event alone, until it parks
        await stream.drain()
    parked = await consumers.parked_events(stream.conn)
    assert [(p.consumer, p.type) for p in parked] == [("risk-rules", "payment.chargeback")]
    assert "chargeback_history" in parked[0].error
    assert "ChargebackHistoryParams" in parked[0].error
    # The rest of the consumer's events went on; the chargeback itself, and every other consumer, too.
    assert [r.rule_code for r in (await stream.score(watched.uuid)).reasons] == ["watch-list"]
    assert (await stream.score(charged.uuid)).value == 0
    assert (await stream.restrictions(charged.uuid)).actions == ()
    standing = {s.name: s for s in await consumers.status(stream.conn, rt.settings)}
    assert (standing["risk-rules"].parked, standing["risk-rules"].behind) == (1, 0)
    assert (standing["risk-signals"].parked, standing["risk-signals"].behind) == (0, 0)

    await stream.set_rule("chargeback-history", params={"count": 1, "days": 365})  # the fix
    retried = await retry_parked(stream.runner, stream.conn)

    assert (retried.applied, retried.parked) == (1, 0)
    assert [r.rule_code for r in (await stream.score(charged.uuid)).reasons] == ["chargeback-history"]
    assert (await stream.restrictions(charged.uuid)).bonuses_blocked
    assert await consumers.parked_events(stream.conn) == []


async def test_a_replay_is_refused_and_forgets_nothing(
    rt: Any, stream: Stream, facts: Callable[[], Awaitable[tuple[Any, Any]]]
) -> None:
    charged, _ = await facts()
    await stream.drain()
    # Staff lifted the chargeback rule's bonus block meanwhile: a replay would impose it again.
    await stream.conn.execute(
        "UPDATE risk_actions SET lifted_at = now(), lift_reason = 'reviewed' WHERE player_id = $1 "
        "AND kind = 'block_bonuses'",
        charged.uuid,
    )
    before = await stream.state()
    cursor = await stream.conn.fetchval("SELECT cursor FROM event_consumers WHERE name = 'risk-rules'")
    processed = await stream.conn.fetchval("SELECT count(*) FROM consumer_processed WHERE consumer = 'risk-rules'")

    with pytest.raises(ReplayRefused, match="lifted or dismissed"):
        await replay(stream.runner, stream.conn)

    assert await stream.state() == before
    assert not (await stream.restrictions(charged.uuid)).bonuses_blocked
    assert await stream.conn.fetchval("SELECT cursor FROM event_consumers WHERE name = 'risk-rules'") == cursor
    count = await stream.conn.fetchval("SELECT count(*) FROM consumer_processed WHERE consumer = 'risk-rules'")
    assert count == processed

    code, output = await run_cli("events", "replay", "risk-rules")
    assert code == 2, output
    assert "risk-rules cannot be replayed" in output
    assert "Traceback" not in output
    assert await stream.state() == before


async def test_a_batch_of_game_wins_costs_the_same_statements_whatever_its_size(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Any, stream: Stream
) -> None:
    await stream.set_rule("covering-bets", params={"rounds": 1000, "low_percent": 90, "high_percent": 110})
    seat = await _bonus_holder(rt, gql, make_player, hub88_provider, campaign)
    await stream.drain()
    counts = []
    for size in (2, 8):
        last = await stream.conn.fetchval("SELECT max(id) FROM outbox_events")
        for n in range(size):
            await _round(aggregator, seat, f"size{size}-{n}", [EUR, EUR], 2 * EUR)
        await stream.published()
        events = await _all_events(stream, last)
        assert sum(e.type == "ledger.game_win" for e in events) == size
        with stream.statements() as seen:
            assert await stream.runner.apply(stream.conn, events) == set()
        assert sum("FROM risk_rules" in s for s in seen) == 1  # one rule load for the batch's brand
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
