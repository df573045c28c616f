"""Balances re-read for live subscriptions, gathered into as few statements as the load allows.

Every `balanceChanged` subscription reads its player's balances when it opens and after every money
movement. When thousands of clients connect at once (a deploy, a network blip), thousands of snapshot
reads arrive together, and one statement each cost most of the time it took to open them (bench/README.md
§ 3). Here a read that finds no statement running goes out at once, alone, as it always did; reads that
arrive while one runs wait for it and then go out together, in one `wallet.balances_of` statement (as
group commit gathers transactions). An idle process adds no delay; a stampede costs a statement per
round trip, not one per subscriber.

Each caller gets the balances of the player it asked for and no other: the statement selects the
accounts of every asked-for player, and the answers are handed out by owner.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from core.runtime import Runtime
from services import wallet

MAX_PLAYERS_PER_STATEMENT = 1000


class BalanceReader:
    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._waiting: dict[uuid.UUID, list[asyncio.Future[list[wallet.Balance]]]] = {}
        self._running: asyncio.Task[None] | None = None
        self.statements = 0  # how many statements it ran (tests and benchmarks read it)

    async def balances(self, player_id: uuid.UUID) -> list[wallet.Balance]:
        future: asyncio.Future[list[wallet.Balance]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(player_id, []).append(future)
        if self._running is None or self._running.done():
            self._running = asyncio.get_running_loop().create_task(self._read_while_asked(), name="live-balances")
        return await future

    async def _read_while_asked(self) -> None:
        while self._waiting:
            players = list(self._waiting)[:MAX_PLAYERS_PER_STATEMENT]
            batch = {player: self._waiting.pop(player) for player in players}
            try:
                async with self._rt.database.statement() as db:
                    found = await wallet.balances_of(db, players)
                self.statements += 1
            except Exception as exc:  # noqa: BLE001  (every caller of this statement gets its failure)
                _settle(batch, error=exc)
            else:
                _settle(batch, found=found)


def _settle(
    batch: dict[uuid.UUID, list[asyncio.Future[list[wallet.Balance]]]],
    *,
    found: dict[uuid.UUID, list[wallet.Balance]] | None = None,
    error: BaseException | None = None,
) -> None:
    for player, futures in batch.items():
        for future in futures:
            if future.done():  # its subscriber left meanwhile
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result((found or {}).get(player, []))


def reader_of(rt: Runtime) -> BalanceReader:
    if rt.balance_reader is None:
        rt.balance_reader = BalanceReader(rt)
    reader: Any = rt.balance_reader
    assert isinstance(reader, BalanceReader)
    return reader
