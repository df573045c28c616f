"""Settling a finished tournament, once: prizes paid, the pool emptied, the results published.

In one transaction, the tournament locked:
1. refused while the `tournaments` consumer still has game events to apply that can change these standings (the
   brand's, placed before the end, or an entrant's rollback: TOURNAMENT_SCORES_PENDING): they would be missed for good;
2. the standings (services/tournaments/standings.py) give each prize of the table its player; a rank nobody
   reached, or held by an entrant without a score (0), pays nothing;
3. cash prizes through the ledger, keyed `tournament:<id>:prize:<rank>` (a replayed settle pays nothing new):
   a pool share (`share_bps` of the pool's balance before any prize, rounded down) from the pool, a fixed
   amount from the brand's `tournament_cost` account (a marketing cost, apart from the GGR's house_revenue);
   bonus and free-spin prizes through the bonus engine
   (services/bonuses/issue.py `issue_bonus`, with the RG and jurisdiction checks of a staff grant) — a bonus the
   engine refuses is recorded `refused` with its code, for staff to settle by hand, and the rest goes on;
4. what the pool still holds (unassigned shares, rounding) goes to `tournament_cost` (`tournament_rake`), so a settled
   pool is empty (`croupier ledger verify` checks it);
5. final ranks stored, the results document's SHA-256 stored and announced (`tournament.settled`,
   `tournament.prize_paid` per prize).
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.bonuses import BonusCampaign
from models.ledger import AccountPurpose, TransactionKind
from models.players import Player
from models.tournaments import PrizeStatus, Tournament, TournamentPrize, TournamentState
from services import audit, ledger, wallet
from services.tournaments import definitions, results, rounds
from services.tournaments.consumer import BET_ROLLBACK, TYPES, WIN_ROLLBACK
from services.tournaments.consumer import NAME as CONSUMER
from services.tournaments.definitions import Prize, PrizeKind
from services.tournaments.lifecycle import load, pool_account
from services.tournaments.standings import Standing, standings

_PENDING = """
SELECT count(*) FROM outbox_events o
WHERE o.topic = ANY(CAST(:types AS text[]))
  AND o.id > coalesce((SELECT cursor FROM event_consumers WHERE name = :consumer), 0)
  AND NOT EXISTS (SELECT 1 FROM consumer_processed p WHERE p.consumer = :consumer AND p.event_id = o.id)
  AND (o.brand_id IS NULL OR o.brand_id = :brand)
  AND (o.created_at < :ends_at OR (o.topic = ANY(CAST(:rollbacks AS text[])) AND o.payload->>'player_id' IN
       (SELECT CAST(player_id AS text) FROM tournament_entries WHERE tournament_id = :t)))"""
ROLLBACKS = (BET_ROLLBACK, WIN_ROLLBACK)
_BALANCE = "SELECT coalesce(sum(amount), 0) FROM ledger_postings WHERE account_id = :account"
_RANKS = """
UPDATE tournament_entries e SET final_rank = x.rank
FROM unnest(CAST(:players AS uuid[]), CAST(:ranks AS int[])) AS x(player, rank)
WHERE e.tournament_id = :t AND e.player_id = x.player"""


async def settle(rt: Runtime, viewer: Viewer, tournament_id: uuid.UUID) -> Tournament:
    async with rt.database.transaction() as db:
        t = await load(db, viewer, tournament_id, lock=True)
        if t.state == TournamentState.SETTLED.value:
            return t
        if t.state != TournamentState.FINISHED.value:
            raise DomainError("Only a finished tournament is settled.", code=ErrorCode.INVALID_STATE)
        # Only events that can still change these standings (placed before the end, or an entrant's rollback):
        # on a live platform the consumer always has some bets to apply.
        pending = await db.scalar(
            text(_PENDING),
            {
                "types": sorted(TYPES),
                "consumer": CONSUMER,
                "brand": t.brand_id,
                "ends_at": t.ends_at,
                "rollbacks": sorted(ROLLBACKS),
                "t": t.id,
            },
        )
        if pending:
            raise DomainError(
                f"The scores still wait for {pending} game events: settle once they are applied.",
                code=ErrorCode.TOURNAMENT_SCORES_PENDING,
            )
        rules = definitions.parse(t.definition)
        ranked = await standings(db, t.id)
        pool = await pool_account(db, t)
        pool_balance = int(await db.scalar(text(_BALANCE), {"account": pool}) or 0)
        cost = await wallet.operator_account(db, t.brand_id, AccountPurpose.TOURNAMENT_COST, t.currency)
        prizes: list[TournamentPrize] = []
        from_pool = 0
        for prize in rules.prizes:
            for rank in range(prize.rank_from, prize.rank_to + 1):
                # An entrant without a score reached no rank worth a prize (joining alone wins nothing).
                if rank <= len(ranked) and ranked[rank - 1].score > 0:
                    paid = await _pay(db, viewer, t, prize, ranked[rank - 1], pool, pool_balance, cost)
                    prizes.append(paid)
                    from_pool += paid.amount if prize.share_bps is not None else 0
        if pool_balance - from_pool:
            rake = _entry(
                t, viewer, "rake", TransactionKind.TOURNAMENT_RAKE, pool, cost, pool_balance - from_pool, None
            )
            await ledger.record(db, rake)
        await db.execute(
            text(_RANKS), {"t": t.id, "players": [s.player_id for s in ranked], "ranks": [s.rank for s in ranked]}
        )
        await db.flush()
        digest = results.digest(await results.document(await rounds.driver(db), t.id))
        t.state, t.settled_at, t.results_hash = TournamentState.SETTLED.value, clock.now(), digest
        await _announce(db, viewer, t, len(ranked), prizes)
    return t


def _entry(
    t: Tournament,
    viewer: Viewer,
    step: str,
    kind: TransactionKind,
    source: uuid.UUID,
    destination: uuid.UUID,
    amount: int,
    player_id: uuid.UUID | None,
) -> ledger.Entry:
    return ledger.Entry(
        idempotency_key=f"tournament:{t.id}:{step}",
        kind=kind.value,
        legs=(ledger.Leg(source, -amount), ledger.Leg(destination, amount)),
        actor_type=viewer.actor_type,
        actor_id=viewer.id,
        brand_id=t.brand_id,
        player_id=player_id,
        reference_type="tournament",
        reference_id=str(t.id),
    )


async def _pay(
    db: AsyncSession,
    viewer: Viewer,
    t: Tournament,
    prize: Prize,
    standing: Standing,
    pool: uuid.UUID,
    pool_balance: int,
    cost: uuid.UUID,
) -> TournamentPrize:
    rank = standing.rank
    row = TournamentPrize(
        tournament_id=t.id,
        rank=rank,
        player_id=standing.player_id,
        kind=prize.kind.value,
        amount=0,
        currency=t.currency,
        status=PrizeStatus.PAID.value,
    )
    if prize.kind == PrizeKind.CASH:
        from_pool = prize.share_bps is not None
        row.amount = pool_balance * (prize.share_bps or 0) // definitions.MAX_BPS if from_pool else prize.amount or 0
        if row.amount:
            player = await db.get(Player, standing.player_id)
            assert player is not None
            accounts = await wallet.player_accounts(db, player.id, player.brand_id, t.currency)
            result = await ledger.record(
                db,
                _entry(
                    t,
                    viewer,
                    f"prize:{rank}",
                    TransactionKind.TOURNAMENT_PRIZE,
                    pool if from_pool else cost,
                    accounts.cash,
                    row.amount,
                    player.id,
                ),
            )
            row.ledger_transaction_id = result.transaction_id
    else:
        row.amount = prize.amount or 0
        await _bonus(db, viewer, prize, row)
    db.add(row)
    return row


async def _bonus(db: AsyncSession, viewer: Viewer, prize: Prize, row: TournamentPrize) -> None:
    """A bonus or free-spins prize through the bonus engine, as a staff grant would issue it."""
    from services.bonuses.campaigns import reasons_not_eligible, refuse
    from services.bonuses.issue import issue_bonus, lock_cash

    player = await db.get(Player, row.player_id)
    campaign = await db.get(BonusCampaign, prize.campaign_id)
    assert player is not None
    assert campaign is not None
    try:
        async with db.begin_nested():
            await lock_cash(db, player)
            refuse(await reasons_not_eligible(db, campaign, player, manual=True), "playerId")
            bonus = await issue_bonus(
                db,
                campaign,
                player,
                wallet.Actor(viewer.actor_type, viewer.id),
                amount=row.amount if prize.kind == PrizeKind.BONUS else None,
                issued_by=viewer.id if viewer.is_staff else None,
            )
    except DomainError as refused:
        row.status, row.refusal_code = PrizeStatus.REFUSED.value, refused.code.value
        return
    row.bonus_id = bonus.id
    if prize.kind == PrizeKind.FREE_SPINS:
        row.amount = bonus.spins_total or 0


async def _announce(
    db: AsyncSession, viewer: Viewer, t: Tournament, entries: int, prizes: list[TournamentPrize]
) -> None:
    assert t.results_hash is not None
    for p in prizes:
        await outbox.emit(
            db,
            "tournament.prize_paid",
            f"player:{p.player_id}",
            {
                "tournament_id": str(t.id),
                "player_id": str(p.player_id),
                "rank": p.rank,
                "kind": p.kind,
                "amount": p.amount,
                "currency": p.currency,
                "status": p.status,
            },
            brand_id=t.brand_id,
        )
    await outbox.emit(
        db,
        "tournament.settled",
        f"tournament:{t.id}",
        {"tournament_id": str(t.id), "results_hash": t.results_hash, "entries": entries, "prizes": len(prizes)},
        brand_id=t.brand_id,
    )
    await audit.append(
        db,
        actor=viewer,
        action="tournament.settle",
        target_type="tournament",
        target_id=t.id,
        brand_id=t.brand_id,
        before={"state": TournamentState.FINISHED.value},
        after={"state": t.state, "results_hash": t.results_hash, "prizes": len(prizes)},
    )
