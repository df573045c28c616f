"""An aggregator under faults: a mixed load of signed Hub88 bets, wins and rollbacks with retries, and the
client-side log of what was acknowledged.

Each player plays rounds one after another (as a real game client does); players play at once. A round
is one of: bet then win, bet then rollback, a bet alone, a rollback that arrives before its bet (the
late bet must be refused), or a bet whose retry races the original. Every call is retried, with the
same bytes, until it gets a definitive answer (HTTP 200 and a status other than RS_ERROR_UNKNOWN), as
the aggregator retries rollbacks; calls go round-robin over the given replicas.

Because one player's rounds are sequential, the client knows what each answer must say: the model
balance after every acknowledged call. A mismatch is recorded, never raised mid-load, and the test
asserts on the whole log at the end (tests/faults/books.py checks it against the database).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench import world
from bench.world import Seat, Signed

OK = "RS_OK"
UNKNOWN = "RS_ERROR_UNKNOWN"


@dataclass(frozen=True)
class Ack:
    """A definitive answer the aggregator received."""

    endpoint: str
    tx: str
    user: str
    amount: int  # minor units asked for
    status: str
    balance: int  # minor units in the answer


@dataclass
class Log:
    acks: list[Ack] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)  # non-definitive answers, by kind
    mismatches: list[str] = field(default_factory=list)
    model: dict[str, int] = field(default_factory=dict)  # user → cash the books must show, minor units

    def acked(self, endpoint: str, status: str = OK) -> list[Ack]:
        return [a for a in self.acks if a.endpoint == endpoint and a.status == status]


class Aggregator:
    def __init__(self, key: Any, replicas: list[httpx.AsyncClient], *, give_up_after: float = 120) -> None:
        self.key = key
        self.replicas = replicas
        self._next = itertools.cycle(range(len(replicas)))
        self.give_up_after = give_up_after
        self.log = Log()
        self.progress = asyncio.Event()
        self.wanted = 0

    async def aclose(self) -> None:
        for replica in self.replicas:
            await replica.aclose()

    async def send(self, call: Signed) -> dict[str, Any]:
        """Retry the same bytes until the answer is definitive; log the failures on the way."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.give_up_after
        while True:
            replica = self.replicas[next(self._next)]
            try:
                response = await replica.post(world.path(call.endpoint), content=call.raw, headers=call.headers)
                if response.status_code != 200:
                    self.log.failures[f"HTTP {response.status_code}"] += 1
                else:
                    answer: dict[str, Any] = response.json()
                    if answer.get("status") != UNKNOWN:
                        body = call.body
                        units = world.UNITS_PER_MINOR
                        self.log.acks.append(
                            Ack(
                                call.endpoint,
                                body["transaction_uuid"],
                                body["user"],
                                int(body.get("amount") or 0) // units,
                                str(answer["status"]),
                                int(answer["balance"]) // units,
                            )
                        )
                        if len(self.log.acks) >= self.wanted:
                            self.progress.set()
                        return answer
                    self.log.failures[UNKNOWN] += 1
            except httpx.TransportError as exc:
                self.log.failures[type(exc).__name__] += 1
            if loop.time() > deadline:
                raise TimeoutError(f"no definitive answer to {call.endpoint} within {self.give_up_after} s")
            await asyncio.sleep(0.1)

    async def acks_reach(self, count: int) -> None:
        """Wait until `count` calls have been acknowledged in all."""
        self.wanted = count
        if len(self.log.acks) < count:
            self.progress.clear()
            await self.progress.wait()

    def _expect(self, seat: Seat, what: str, answer: dict[str, Any], status: str) -> None:
        balance = int(answer["balance"]) // world.UNITS_PER_MINOR
        if answer["status"] != status or (status == OK and balance != self.log.model[seat.user]):
            self.log.mismatches.append(
                f"{what} for {seat.user}: got {answer['status']} {balance}, "
                f"expected {status} {self.log.model[seat.user]}"
            )

    async def play(self, seats: list[Seat], *, rounds: int, balance: int, seed: int = 1) -> Log:
        """Every seat plays `rounds` rounds; all seats at once. `balance` is what each seat starts with."""
        for seat in seats:
            self.log.model[seat.user] = balance
        await asyncio.gather(
            *(self._rounds(seat, rounds, random.Random(seed * 7919 + i)) for i, seat in enumerate(seats))
        )
        return self.log

    async def _rounds(self, seat: Seat, rounds: int, rng: random.Random) -> None:
        for number in range(rounds):
            round_ref = f"{seat.user[:8]}-{number}-{uuid.uuid4().hex[:6]}"
            kind = rng.choices(["win", "rollback", "alone", "rollback_first", "racing_retry"], weights=[5, 2, 2, 1, 1])[
                0
            ]
            stake = rng.randint(1, 5) * 100
            if rng.random() < 0.05:
                stake = self.log.model[seat.user] + 100  # more than the player has
            await self._round(seat, kind, stake, round_ref, rng)

    async def _round(self, seat: Seat, kind: str, stake: int, round_ref: str, rng: random.Random) -> None:
        model = self.log.model
        bet_tx = str(uuid.uuid4())
        bet = world.signed(self.key, "transaction/bet", world.bet(seat, stake, tx=bet_tx, round_ref=round_ref))
        if kind == "rollback_first":
            early = world.rollback(seat, tx=str(uuid.uuid4()), reference=bet_tx, round_ref=round_ref)
            self._expect(
                seat, "early rollback", await self.send(world.signed(self.key, "transaction/rollback", early)), OK
            )
            self._expect(seat, "late bet", await self.send(bet), "RS_ERROR_TRANSACTION_DOES_NOT_EXIST")
            return
        affordable = stake <= model[seat.user]
        if affordable:
            model[seat.user] -= stake
        expected = OK if affordable else "RS_ERROR_NOT_ENOUGH_MONEY"
        if kind == "racing_retry":  # the original and its retry (new request uuid, same transaction) at once
            retry = world.signed(self.key, "transaction/bet", {**bet.body, "request_uuid": str(uuid.uuid4())})
            for answer in await asyncio.gather(self.send(bet), self.send(retry)):
                self._expect(seat, "racing bet", answer, expected)
        else:
            self._expect(seat, "bet", await self.send(bet), expected)
        if not affordable or kind in ("alone", "racing_retry"):
            return
        if kind == "win":
            amount = rng.choice([0, 0, stake // 2, stake * 2, stake * 5])
            model[seat.user] += amount
            call = world.win(seat, amount, tx=str(uuid.uuid4()), reference=bet_tx, round_ref=round_ref)
            self._expect(seat, "win", await self.send(world.signed(self.key, "transaction/win", call)), OK)
        else:
            model[seat.user] += stake
            call = world.rollback(seat, tx=str(uuid.uuid4()), reference=bet_tx, round_ref=round_ref)
            self._expect(seat, "rollback", await self.send(world.signed(self.key, "transaction/rollback", call)), OK)
