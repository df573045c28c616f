"""The issue's "done when": a bet placed through the Hub88 API shows up exactly once in the JetStream
subject, in the daily projection and in the GGR report — with the server's own consumers running (the
reports projection and the NATS sink, EVENT_CONSUMERS on), nothing driven by hand."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import asyncpg
import nats.js.errors

from core.clock import clock
from core.settings import Settings
from tests.events.nats_server import NatsServer
from tests.events.tally import dsn, until
from tests.events.test_nats_sink import stored
from tests.providers import conftest as providers
from tests.providers.conftest import Aggregator

aggregator, aggregator_key, hub88_provider, seat = (
    providers.aggregator,
    providers.aggregator_key,
    providers.hub88_provider,
    providers.seat,
)
GGR = """query($day: Date!) { reportFigures(start: $day, end: $day) { byCurrency { currency turnover { amount }
  ggr { amount } activePlayers } } }"""


async def test_a_hub88_bet_reaches_jetstream_the_projection_and_the_ggr_report_once(
    rt: Any, settings: Settings, gql: Any, make_staff: Any, nats_server: NatsServer, aggregator: Aggregator, seat: Any
) -> None:
    from server import create_app

    tag = uuid.uuid4().hex[:8]
    serving = settings.model_copy(
        update={
            "event_consumers": True,
            "nats_url": nats_server.url,
            "nats_stream": f"E2E_{tag}",
            "nats_subject_prefix": f"croupier.e2e{tag}.events",
        }
    )
    finance = await make_staff("finance")
    app = create_app(serving)
    async with app.router.lifespan_context(app):
        player = await seat(balance=10_000)
        bet = player.bet(2_500_000, round_ref="round-e2e")  # 25.00 EUR
        assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
        assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"  # the provider retries it
        conn = await asyncpg.connect(dsn(rt))
        try:
            [bet_event] = await conn.fetch(
                "SELECT id FROM outbox_events WHERE topic = 'ledger.game_bet' AND payload->>'player_id' = $1",
                player.user,
            )
            day = clock.now().date()

            async def in_jetstream() -> bool:
                try:
                    messages = await stored(nats_server.url, serving.nats_stream)
                except nats.js.errors.NotFoundError:  # the sink has not made its stream yet
                    return False
                return any(m.headers.get("Nats-Msg-Id") == str(bet_event["id"]) for m in messages)

            async def projected() -> bool:
                return bool(
                    await conn.fetchval(
                        "SELECT stakes_cash FROM report_game_days WHERE day = $1 AND game = $2", day, bet["game_code"]
                    )
                )

            await until(in_jetstream, "the bet in JetStream")
            await until(projected, "the bet in the daily projection")
            report = await gql(GGR, {"day": day.isoformat()}, token=finance.token)
            rows = await conn.fetch(
                "SELECT stakes_cash, bet_count FROM report_game_days WHERE day = $1 AND game = $2",
                day,
                bet["game_code"],
            )
        finally:
            await conn.close()
    messages = await stored(nats_server.url, serving.nats_stream)
    bets = [m for m in messages if m.subject == f"{serving.nats_subject_prefix}.ledger.game_bet"]
    assert Counter(m.headers["Nats-Msg-Id"] for m in bets) == Counter({str(bet_event["id"]): 1})
    assert bets[0].event["data"]["game"] == bet["game_code"]
    assert [tuple(r) for r in rows] == [(2500, 1)]
    assert report["data"]["reportFigures"] == [
        {
            "byCurrency": [
                {"currency": "EUR", "turnover": {"amount": "25.00"}, "ggr": {"amount": "25.00"}, "activePlayers": 1}
            ]
        }
    ]
