"""Card deposits racing their own PSP webhooks: every deposit is answered truthfully (never INTERNAL, as
a deadlock between the two would make it), credited once, every webhook accepted, the books clean."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.cashier.conftest import DemoPsp, balances, deliver, ledger_count
from tests.cashier.test_graphql import DEPOSIT
from tests.risk.inline_support import disable_rule

DEPOSITS = 10
ROUNDS = 12


class Courier:
    """Delivers each webhook the PSP writes the moment it appears: the PSP writes it as it takes the
    charge, before it answers, so the webhook reaches the payment together with the cascade's answer."""

    def __init__(self, psp: DemoPsp, client: Any) -> None:
        self.psp, self.client = psp, client
        self.sent: set[str] = set()
        self.answers: list[int] = []
        self.deliveries: list[asyncio.Task[None]] = []

    async def run(self, until: asyncio.Event) -> None:
        # One last pass after the stop: on a busy machine the last read may have begun before the round's last
        # webhook was written (the round had 49 of its 50 deliveries once, under a load of 10 on two cores).
        while True:
            stopping = until.is_set()
            for delivery in await self.psp.webhooks(psp="cardpay"):
                if delivery["event_id"] not in self.sent:
                    self.sent.add(delivery["event_id"])
                    self.deliveries.append(asyncio.create_task(self.send(delivery)))
            if stopping:
                return
            await asyncio.sleep(0.002)

    async def send(self, delivery: dict[str, Any]) -> None:
        self.answers.append((await deliver(self.client, delivery)).status_code)


async def test_card_deposits_racing_their_webhooks_are_answered_truthfully_and_credited_once(
    rt: Any, gql: Any, client: Any, psp: DemoPsp, make_player: Any
) -> None:
    await psp.configure("cardpay", webhook="hold")  # the PSP writes its webhooks; the courier delivers them
    await disable_rule(rt, "deposits-per-player")  # twelve deposits each in a minute: a burst risk would hold
    players = [await make_player() for _ in range(DEPOSITS)]
    tokens = {player.uuid: await psp.tokenise() for player in players}

    async def deposit(player: Any) -> dict[str, Any]:
        variables = {"input": {"currency": "EUR", "method": "CARD", "amount": "10.00", "pspToken": tokens[player.uuid]}}
        body: dict[str, Any] = await gql(DEPOSIT, variables, token=player.token)
        return body

    courier = Courier(psp, client)
    for round_number in range(1, ROUNDS + 1):
        done = asyncio.Event()
        running = asyncio.create_task(courier.run(done))
        answers = await asyncio.gather(*(deposit(player) for player in players))
        await asyncio.sleep(0.05)  # the last webhooks written
        done.set()
        await running
        await asyncio.gather(*courier.deliveries)
        for answer in answers:
            assert "errors" not in answer, answer  # a deadlock's victim answers INTERNAL here
            payload = answer["data"]["deposit"]
            assert payload["errors"] == [], payload
            assert payload["payment"]["status"] == "SUCCEEDED", payload
        assert len(courier.answers) == DEPOSITS * round_number, f"round {round_number}: {courier.answers}"
        assert set(courier.answers) == {200}, courier.answers  # and a deadlock's victim here answers 500

    for player in players:  # what each player was told is what the books hold: credited once per deposit
        assert await balances(rt, player.uuid) == (ROUNDS * 10_00, 0)
        assert await ledger_count(rt, player.uuid, "deposit") == ROUNDS
