"""A tournament's states: created scheduled; `tick` moves it to running at `starts_at` and to finished at
`ends_at` (the server's tournament worker runs it every few seconds, `croupier tournaments tick` once);
settlement (services/tournaments/settlement.py) makes it settled; staff may cancel it before that, which
refunds every buy-in and re-buy exactly once (one ledger transaction per buy-in, keyed by it).

    scheduled → running → finished → settled
        └──────────┴──────────┴──→ cancelled (refunds)

Each change is one database transaction with its event (`tournament.*`) and, for staff, its audit record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.ledger import AccountPurpose, TransactionKind
from models.tournaments import EntryStatus, Tournament, TournamentState
from services import audit, ledger, wallet
from services.tournaments import definitions
from services.tournaments.definitions import Draft

OPEN = (TournamentState.SCHEDULED.value, TournamentState.RUNNING.value, TournamentState.FINISHED.value)


def staff_brand(viewer: Viewer, brand_id: uuid.UUID | None) -> uuid.UUID:
    """The brand a staff command acts on: the viewer's scope, or the one named by a global viewer."""
    if viewer.brand_id is not None:
        if brand_id is not None and brand_id != viewer.brand_id:
            raise NotFound("No such brand.", field="brandId")
        return viewer.brand_id
    if brand_id is None:
        raise DomainError("Name the brand the tournament belongs to.", field="brandId", code=ErrorCode.INVALID_INPUT)
    return brand_id


async def load(db: AsyncSession, viewer: Viewer, tournament_id: uuid.UUID, *, lock: bool = False) -> Tournament:
    """A tournament of the viewer's brand (locked for a state change), or NOT_FOUND."""
    query = select(Tournament).where(Tournament.id == tournament_id)  # type: ignore[arg-type]
    if viewer.brand_id is not None:
        query = query.where(Tournament.brand_id == viewer.brand_id)  # type: ignore[arg-type]
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = await db.scalar(query)
    if found is None:
        raise NotFound("No such tournament.", field="tournamentId")
    return found


async def create(rt: Runtime, viewer: Viewer, draft: Draft, *, brand_id: uuid.UUID | None = None) -> Tournament:
    """Validate the definition and schedule the tournament (audited, `tournament.created`)."""
    brand = staff_brand(viewer, brand_id)
    async with rt.database.transaction() as db:
        rules = await definitions.validate(db, brand, draft)
        tournament = Tournament(
            brand_id=brand,
            name=draft.name.strip(),
            scoring=rules.scoring.value,
            entry_mode=rules.entry_mode.value,
            currency=draft.currency.strip().upper(),
            buy_in=rules.buy_in,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            definition=rules.model_dump(mode="json"),
            created_by=viewer.id if viewer.is_staff else None,
        )
        db.add(tournament)
        await db.flush()
        await outbox.emit(
            db,
            "tournament.created",
            f"tournament:{tournament.id}",
            _announce_definition(tournament, viewer),
            brand_id=brand,
        )
        await audit.append(
            db,
            actor=viewer,
            action="tournament.create",
            target_type="tournament",
            target_id=tournament.id,
            brand_id=brand,
            after={"name": tournament.name, "definition": tournament.definition, "state": tournament.state},
        )
    return tournament


def _announce_definition(t: Tournament, viewer: Viewer) -> dict[str, object]:
    return {
        "tournament_id": str(t.id),
        "scoring": t.scoring,
        "entry_mode": t.entry_mode,
        "currency": t.currency,
        "buy_in": t.buy_in,
        "starts_at": t.starts_at.isoformat(),
        "ends_at": t.ends_at.isoformat(),
        "staff_id": str(viewer.id) if viewer.is_staff and viewer.id else None,
    }


async def update(rt: Runtime, viewer: Viewer, tournament_id: uuid.UUID, draft: Draft) -> Tournament:
    """Replace the definition of a tournament nobody has entered yet and that has not started (audited,
    `tournament.updated`): the rules a player joins under never change under them."""
    async with rt.database.transaction() as db:
        t = await load(db, viewer, tournament_id, lock=True)
        entered = await db.scalar(text("SELECT count(*) FROM tournament_entries WHERE tournament_id = :t"), {"t": t.id})
        if t.state != TournamentState.SCHEDULED.value or t.starts_at <= clock.now() or entered:
            raise DomainError(
                "Only a tournament that has not started and has no entries can be changed (cancel it instead).",
                code=ErrorCode.INVALID_STATE,
            )
        rules = await definitions.validate(db, t.brand_id, draft)
        before = {"name": t.name, "definition": t.definition, "starts_at": t.starts_at.isoformat()}
        t.name, t.scoring, t.entry_mode = draft.name.strip(), rules.scoring.value, rules.entry_mode.value
        t.currency, t.buy_in = draft.currency.strip().upper(), rules.buy_in
        t.starts_at, t.ends_at, t.definition = draft.starts_at, draft.ends_at, rules.model_dump(mode="json")
        await db.flush()
        await outbox.emit(
            db, "tournament.updated", f"tournament:{t.id}", _announce_definition(t, viewer), brand_id=t.brand_id
        )
        await audit.append(
            db,
            actor=viewer,
            action="tournament.update",
            target_type="tournament",
            target_id=t.id,
            brand_id=t.brand_id,
            before=before,
            after={"name": t.name, "definition": t.definition, "starts_at": t.starts_at.isoformat()},
        )
    return t


@dataclass(frozen=True)
class Ticked:
    started: list[uuid.UUID]
    finished: list[uuid.UUID]


_DUE = """
SELECT id FROM tournaments
WHERE (state = 'scheduled' AND starts_at <= :now) OR (state = 'running' AND ends_at <= :now)
ORDER BY starts_at, id FOR UPDATE SKIP LOCKED"""


async def tick(rt: Runtime) -> Ticked:
    """Move every tournament whose time came: scheduled → running at its start, running → finished at its end
    (one that was never seen running starts and finishes in the same tick: both events, in order)."""
    now = clock.now()
    started: list[uuid.UUID] = []
    finished: list[uuid.UUID] = []
    async with rt.database.transaction() as db:
        due = list((await db.execute(text(_DUE), {"now": now})).scalars())
        for tournament_id in due:
            t = await db.get(Tournament, tournament_id)
            assert t is not None
            subject = f"tournament:{t.id}"
            data = {"tournament_id": str(t.id)}
            if t.state == TournamentState.SCHEDULED.value:
                t.state, t.started_at = TournamentState.RUNNING.value, now
                started.append(t.id)
                await outbox.emit(db, "tournament.started", subject, data, brand_id=t.brand_id)
            if t.ends_at <= now:
                t.state, t.finished_at = TournamentState.FINISHED.value, now
                finished.append(t.id)
                await outbox.emit(db, "tournament.finished", subject, data, brand_id=t.brand_id)
    return Ticked(started, finished)


async def pool_account(db: AsyncSession, tournament: Tournament) -> uuid.UUID:
    """The tournament's own pool (a derived `system` account: its balance is the sum of its postings)."""
    return await wallet.operator_account(
        db,
        tournament.brand_id,
        AccountPurpose.TOURNAMENT_POOL,
        tournament.currency,
        owner_type="system",
        owner_id=str(tournament.id),
    )


_BUY_INS = """
SELECT t.id, t.player_id, p.account_id, -p.amount AS amount
FROM ledger_transactions t JOIN ledger_postings p ON p.transaction_id = t.id
JOIN ledger_accounts a ON a.id = p.account_id AND a.purpose = 'cash'
WHERE t.kind = 'tournament_buy_in' AND t.status = 'committed' AND t.reference_type = 'tournament'
  AND t.reference_id = :tournament
ORDER BY t.created_at, t.id"""


async def cancel(rt: Runtime, viewer: Viewer, tournament_id: uuid.UUID, reason: str) -> Tournament:
    """Cancel a tournament not yet settled: every buy-in back to its player's cash, each once."""
    reason = reason.strip()
    if len(reason) < 3:
        raise DomainError("Say why (at least 3 characters).", field="reason")
    async with rt.database.transaction() as db:
        t = await load(db, viewer, tournament_id, lock=True)
        if t.state == TournamentState.CANCELLED.value:
            return t
        if t.state not in OPEN:
            raise DomainError("A settled tournament cannot be cancelled.", code=ErrorCode.INVALID_STATE)
        before = t.state
        pool = await pool_account(db, t)
        refunds = 0
        for row in (await db.execute(text(_BUY_INS), {"tournament": str(t.id)})).all():
            result = await ledger.record(
                db,
                ledger.Entry(
                    idempotency_key=f"tournament:{t.id}:refund:{row.id}",
                    kind=TransactionKind.TOURNAMENT_REFUND.value,
                    legs=(ledger.Leg(pool, -row.amount), ledger.Leg(row.account_id, row.amount)),
                    actor_type=viewer.actor_type,
                    actor_id=viewer.id,
                    brand_id=t.brand_id,
                    player_id=row.player_id,
                    reference_type="tournament",
                    reference_id=str(t.id),
                    details={"buy_in": str(row.id)},
                ),
            )
            refunds += 0 if result.replayed else 1
        await db.execute(
            text("UPDATE tournament_entries SET status = :refunded WHERE tournament_id = :t"),
            {"refunded": EntryStatus.REFUNDED.value, "t": t.id},
        )
        t.state, t.cancelled_at = TournamentState.CANCELLED.value, clock.now()
        await outbox.emit(
            db,
            "tournament.cancelled",
            f"tournament:{t.id}",
            {"tournament_id": str(t.id), "refunds": refunds, "staff_id": str(viewer.id) if viewer.id else None},
            brand_id=t.brand_id,
        )
        await audit.append(
            db,
            actor=viewer,
            action="tournament.cancel",
            target_type="tournament",
            target_id=t.id,
            brand_id=t.brand_id,
            before={"state": before},
            after={"state": t.state, "refunds": refunds},
            reason=reason,
        )
    return t
