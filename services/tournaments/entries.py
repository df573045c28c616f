"""Joining a tournament: opt in (free), buy in, or re-buy — the player's own command.

In one transaction: the tournament (locked against a concurrent cancel or settle), the RG gate a game launch
passes (services/rg/gates.py `check_launch`: an excluded or timed-out player never enters, nor one missing a
limit their jurisdiction requires), brand, currency and jurisdiction; the entry row, locked; then the buy-in
through the ledger — the player's cash to the tournament's pool, keyed `tournament:<id>:buy_in:<player>:<n>`
(the n-th buy-in of the player: a retry of the same join is the same transaction, never a second charge).

A re-buy is a further buy-in by an entrant, when the tournament allows re-buys and has a rounds cap: it buys
another `rounds_cap` rounds (services/tournaments/scoring.py). The player says which re-buy it is (1 for the
first): a retry of the n-th re-buy after it went through finds `rebuys >= n` and answers the entry as it is,
charging nothing (the ledger key is per n as well); asking for the n-th before the (n-1)-th is refused.
Opt-in and buy-in are open while the tournament is scheduled or running (and not past its end); an automatic
tournament needs no joining.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.ledger import TransactionKind
from models.players import Player
from models.tournaments import EntryMode, EntryStatus, Tournament, TournamentEntry, TournamentState
from services import ledger, wallet
from services.rg import gates as rg_gates
from services.tournaments import definitions, rounds
from services.tournaments.lifecycle import pool_account

JOINABLE = (TournamentState.SCHEDULED.value, TournamentState.RUNNING.value)


async def _eligible(db: AsyncSession, rt: Runtime, t: Tournament, player: Player) -> None:
    if t.brand_id != player.brand_id:
        raise NotFound("No such tournament.", field="tournamentId")
    if t.state not in JOINABLE or t.ends_at <= clock.now():
        raise DomainError("The tournament is not open to joining.", code=ErrorCode.TOURNAMENT_CLOSED)
    rules = definitions.parse(t.definition)
    if t.currency != player.currency:
        raise DomainError(f"The tournament plays in {t.currency}.", code=ErrorCode.TOURNAMENT_NOT_ELIGIBLE)
    if rules.jurisdictions and player.jurisdiction not in rules.jurisdictions:
        raise DomainError("The tournament is not offered where you play.", code=ErrorCode.TOURNAMENT_NOT_ELIGIBLE)
    await rg_gates.check_launch(db, rt, player, None)


async def join(
    rt: Runtime, viewer: Viewer, tournament_id: uuid.UUID, *, rebuy_number: int | None = None
) -> TournamentEntry:
    """Enter the tournament (paying its buy-in, if any), or make the entrant's `rebuy_number`-th re-buy."""
    rebuy = rebuy_number is not None
    if rebuy_number is not None and rebuy_number < 1:
        raise DomainError("Re-buys count from 1.", code=ErrorCode.INVALID_INPUT, field="rebuyNumber")
    if not viewer.is_player or viewer.id is None:
        raise DomainError("Only players join tournaments.", code=ErrorCode.NOT_ALLOWED)
    async with rt.database.transaction() as db:
        t = await db.scalar(
            select(Tournament)
            .where(Tournament.id == tournament_id)  # type: ignore[arg-type]
            .with_for_update(read=True)  # FOR SHARE: a cancel or settle waits, other joins do not
        )
        # The player's row locked (NO KEY UPDATE: bets referencing it do not wait): two joins of the same player
        # (a double click) run one after the other, and the second finds the first's entry.
        player = (await wallet.lock_player_money(db, viewer.id, standing=True)).player
        if t is None or player is None:
            raise NotFound("No such tournament.", field="tournamentId")
        await _eligible(db, rt, t, player)
        if t.entry_mode == EntryMode.AUTOMATIC.value:
            raise DomainError(
                "Everyone eligible is entered by playing: no need to join.", code=ErrorCode.TOURNAMENT_ALREADY_JOINED
            )
        rules = definitions.parse(t.definition)
        entry: TournamentEntry | None = await db.scalar(
            select(TournamentEntry)
            .where(TournamentEntry.tournament_id == t.id, TournamentEntry.player_id == player.id)  # type: ignore[arg-type]
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if rebuy:
            if entry is None:
                raise DomainError("Join the tournament before re-buying.", code=ErrorCode.TOURNAMENT_REBUY_NOT_ALLOWED)
            assert rebuy_number is not None
            if rebuy_number <= entry.rebuys:
                return entry  # a retry of a re-buy that went through: nothing more to buy
            if rebuy_number != entry.rebuys + 1:
                raise DomainError(
                    f"This would be re-buy {rebuy_number}; you have made {entry.rebuys}.",
                    code=ErrorCode.TOURNAMENT_REBUY_NOT_ALLOWED,
                    field="rebuyNumber",
                )
            if entry.rebuys >= rules.max_rebuys:
                raise DomainError("No re-buys left.", code=ErrorCode.TOURNAMENT_REBUY_NOT_ALLOWED)
            entry.rebuys += 1
            how = "rebuy"
        else:
            if entry is not None:
                raise DomainError("You are already in this tournament.", code=ErrorCode.TOURNAMENT_ALREADY_JOINED)
            entry = TournamentEntry(
                tournament_id=t.id, player_id=player.id, status=EntryStatus.ACTIVE.value, joined_at=clock.now()
            )
            db.add(entry)
            how = "buy_in" if t.buy_in else "opt_in"
        if t.buy_in:
            entry.buy_ins += 1
            await _buy_in(db, t, player, entry.buy_ins)
        await db.flush()
        await outbox.emit(
            db,
            "tournament.entry_joined",
            f"player:{player.id}",
            {"tournament_id": str(t.id), "player_id": str(player.id), "how": how, "buy_ins": entry.buy_ins},
            brand_id=t.brand_id,
        )
        if rebuy:
            # The cap grew: rounds beyond the old cap may count now. Rescored here, under the entry's lock (the
            # consumer locks the entries it rescores, so it waits and then reads the new cap).
            await rounds.rescore(await rounds.driver(db), [(t.id, player.id)])
            await db.refresh(entry)
    return entry


async def _buy_in(db: AsyncSession, t: Tournament, player: Player, n: int) -> None:
    accounts = await wallet.player_accounts(db, player.id, player.brand_id, t.currency)
    pool = await pool_account(db, t)
    result = await ledger.record(
        db,
        ledger.Entry(
            idempotency_key=f"tournament:{t.id}:buy_in:{player.id}:{n}",
            kind=TransactionKind.TOURNAMENT_BUY_IN.value,
            legs=(ledger.Leg(accounts.cash, -t.buy_in), ledger.Leg(pool, t.buy_in)),
            actor_type="player",
            actor_id=player.id,
            brand_id=t.brand_id,
            player_id=player.id,
            reference_type="tournament",
            reference_id=str(t.id),
            details={"buy_in": n},
        ),
    )
    # A refusal rolls the whole join back (the key is ours, derived: a later join is a fresh attempt).
    result.raise_if_refused()
