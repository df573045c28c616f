"""The jackpot commands and queries the entry points call (GraphQL, the CLI, the provider's REST route): create
and configure a jackpot, list them, a pool's state, history and commitments, a provider-reported win.

Each takes an `AsyncSession` in an open transaction (the caller commits) and raises `DomainError`s with codes:
NOT_FOUND, INVALID_INPUT, ALREADY_EXISTS, INVALID_STATE (a pot already won: the second of two concurrent
triggers). Money moves through services/jackpots/pools.py on the session's own connection, in its transaction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.fx import Rates
from core.ids import new_id
from core.money import CURRENCIES
from services import audit
from services.jackpots import books, closing, pools
from services.jackpots.arithmetic import PPM
from services.jackpots.views import JackpotView, WinView, jackpot_view, win_view
from services.ledger import IdempotencyConflict

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


@dataclass(frozen=True)
class LevelSpec:
    level: str  # mini, major, grand, …
    seed_amount: int  # minor units of the jackpot's currency
    contribution_ppm: int  # parts per million of eligible stakes (1% = 10000)
    trigger: str = "amount"  # amount | time | provider
    cap_amount: int | None = None  # amount pools: must drop by
    drop_window_seconds: int | None = None  # time pools: must drop within


@dataclass(frozen=True)
class JackpotSpec:
    code: str
    name: str
    kind: str  # local | network
    type: str  # fixed | progressive
    currency: str  # the pool's (base) currency
    brand_ids: Sequence[uuid.UUID]
    levels: Sequence[LevelSpec]
    games: Sequence[str] = field(default_factory=tuple)
    providers: Sequence[str] = field(default_factory=tuple)
    min_bet: int = 0


def _refuse(message: str, field_name: str) -> DomainError:
    return DomainError(message, code=ErrorCode.INVALID_INPUT, field=field_name)


def _check(spec: JackpotSpec) -> None:
    if not _CODE.match(spec.code):
        raise _refuse("A code is 2 to 64 lowercase letters, digits or dashes.", "code")
    if not spec.name.strip() or len(spec.name) > 120:
        raise _refuse("A name of 1 to 120 characters is required.", "name")
    if spec.kind not in ("local", "network"):
        raise _refuse("kind is local or network.", "kind")
    if spec.type not in ("fixed", "progressive"):
        raise _refuse("type is fixed or progressive.", "type")
    if spec.currency not in CURRENCIES:
        raise _refuse(f"Unknown currency {spec.currency!r}.", "currency")
    if not spec.brand_ids or (spec.kind == "local" and len(set(spec.brand_ids)) != 1):
        raise _refuse("A local jackpot has one brand, a network jackpot one or more.", "brandIds")
    if spec.min_bet < 0:
        raise _refuse("The minimum bet cannot be negative.", "minBet")
    names = [level.level for level in spec.levels]
    if not names or len(set(names)) != len(names) or len(names) > 8:
        raise _refuse("One to eight levels, each named once.", "levels")
    for level in spec.levels:
        if not _CODE.match(level.level) or level.seed_amount < 0:
            raise _refuse(f"Level {level.level!r}: a lowercase name and a seed of zero or more.", "levels")
        if not 0 <= level.contribution_ppm <= PPM or (spec.type == "fixed" and level.contribution_ppm):
            raise _refuse(f"Level {level.level!r}: a rate of 0 to 1000000 ppm (0 for a fixed jackpot).", "levels")
        if level.trigger == "amount":
            if spec.type == "fixed" or level.cap_amount is None or level.cap_amount <= level.seed_amount:
                raise _refuse(
                    f"Level {level.level!r}: must-drop-by needs a progressive pot and a cap above the seed.", "levels"
                )
        elif level.trigger == "time":
            if not level.drop_window_seconds or level.drop_window_seconds <= 0:
                raise _refuse(f"Level {level.level!r}: a time pot needs its window in seconds.", "levels")
        elif level.trigger != "provider":
            raise _refuse(f"Level {level.level!r}: trigger is amount, time or provider.", "levels")
        if level.trigger != "amount" and level.cap_amount is not None:  # only an amount pot is clipped at a cap
            raise _refuse(f"Level {level.level!r}: a cap is for must-drop-by-amount pots only.", "levels")
        if spec.type == "fixed" and level.seed_amount <= 0:  # time pots too: the prize is the seed
            raise _refuse(f"Level {level.level!r}: a fixed prize needs a seed.", "levels")


async def create_jackpot(
    db: AsyncSession, spec: JackpotSpec, *, actor: Viewer, reason: str | None = None
) -> JackpotView:
    """Create a jackpot and seed each level's first pot (its drop point committed)."""
    _check(spec)
    conn = await books.native(db)
    if await conn.fetchval("SELECT 1 FROM jackpots WHERE code = $1", spec.code):
        raise DomainError(f"A jackpot {spec.code!r} exists.", code=ErrorCode.ALREADY_EXISTS, field="code")
    known = {
        r["id"] for r in await conn.fetch("SELECT id FROM brands WHERE id = ANY($1::uuid[])", list(spec.brand_ids))
    }
    if known != set(spec.brand_ids):
        raise _refuse("Unknown brand.", "brandIds")
    jackpot_id = new_id()
    brand_id = spec.brand_ids[0] if spec.kind == "local" else None
    await conn.execute(
        "INSERT INTO jackpots (id, code, name, kind, type, currency, brand_id, brand_ids, games, providers, min_bet, "
        "status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::jsonb, $11, "
        "'active', $12, $13)",
        jackpot_id, spec.code, spec.name.strip(), spec.kind, spec.type, spec.currency, brand_id,
        _json([str(b) for b in spec.brand_ids]), _json(list(spec.games)), _json(list(spec.providers)), spec.min_bet,
        actor.id, clock.now(),
    )  # fmt: skip
    seed_account = await books.seed_account(conn, jackpot_id, brand_id, spec.currency)
    pool_ids = []
    for position, level in enumerate(spec.levels):
        pool_id = new_id()
        pool_ids.append(pool_id)
        account = await books.pool_account(conn, pool_id, brand_id, spec.currency)
        await conn.execute(
            "INSERT INTO jackpot_pools (id, jackpot_id, level, position, currency, seed_amount, contribution_ppm, "
            "trigger, cap_amount, drop_window_seconds, amount, remainder, generation, account_id, seed_account_id, "
            "contributed_total, won_total) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, 0, $11, $12, 0, 0)",
            pool_id, jackpot_id, level.level, position, spec.currency, level.seed_amount, level.contribution_ppm,
            level.trigger, level.cap_amount, level.drop_window_seconds, account, seed_account,
        )  # fmt: skip
    events = [
        outbox.event(
            "jackpot.created",
            f"jackpot:{jackpot_id}",
            {
                "jackpot_id": str(jackpot_id),
                "code": spec.code,
                "kind": spec.kind,
                "type": spec.type,
                "currency": spec.currency,
                "brand_ids": [str(b) for b in spec.brand_ids],
                "levels": [level.level for level in spec.levels],
            },
            brand_id=brand_id,
        )
    ]
    for pool in (await pools.lock(conn, pool_ids)).values():
        events += await pools.seed(conn, pool, generation=1)
    await pools.emit(conn, events)
    view = await get_jackpot(db, jackpot_id)
    await audit.append(
        db, actor=actor, action="jackpot.create", target_type="jackpot", target_id=jackpot_id, brand_id=brand_id,
        after={"code": spec.code, "kind": spec.kind, "type": spec.type, "levels": [lv.level for lv in spec.levels]},
        reason=reason,
    )  # fmt: skip
    return view


def _json(value: object) -> str:
    import json

    return json.dumps(value)


async def configure_jackpot(
    db: AsyncSession, jackpot_id: uuid.UUID, *, actor: Viewer, status: str | None = None,
    games: Sequence[str] | None = None, providers: Sequence[str] | None = None, min_bet: int | None = None,
    reason: str | None = None,
) -> JackpotView:  # fmt: skip
    """Pause, resume or close a jackpot, or change what is eligible (from the next consumer batch on). Closing
    refunds every pot to the seed account and voids the pots' commitments (services/jackpots/closing.py): it
    needs a reason."""
    before = await get_jackpot(db, jackpot_id)
    if status is not None and status not in ("active", "paused", "closed"):
        raise _refuse("status is active, paused or closed.", "status")
    if before.status == "closed":
        raise DomainError("A closed jackpot stays closed.", code=ErrorCode.INVALID_STATE)
    if min_bet is not None and min_bet < 0:
        raise _refuse("The minimum bet cannot be negative.", "minBet")
    conn = await books.native(db)
    refunds: list[dict[str, Any]] = []
    events: list[outbox.Event] = []
    if status == "closed":
        reason = closing.require_reason(reason)
        refunds, events = await closing.refund_pots(conn, jackpot_id, reason=reason, brand_id=before.brand_id)
    await conn.execute(
        "UPDATE jackpots SET status = coalesce($2, status), games = coalesce($3::jsonb, games), "
        "providers = coalesce($4::jsonb, providers), min_bet = coalesce($5, min_bet) WHERE id = $1",
        jackpot_id, status, _json(list(games)) if games is not None else None,
        _json(list(providers)) if providers is not None else None, min_bet,
    )  # fmt: skip
    after = await get_jackpot(db, jackpot_id)
    await audit.append(
        db, actor=actor, action="jackpot.close" if status == "closed" else "jackpot.configure",
        target_type="jackpot", target_id=jackpot_id, brand_id=before.brand_id, before=before.settings(),
        after={**after.settings(), "refunds": refunds} if status == "closed" else after.settings(), reason=reason,
    )  # fmt: skip
    await pools.emit(conn, events)
    return after


async def get_jackpot(db: AsyncSession, jackpot_id: uuid.UUID) -> JackpotView:
    found = await list_jackpots(db, ids=[jackpot_id])
    if not found:
        raise DomainError("No such jackpot.", code=ErrorCode.NOT_FOUND, field="id")
    return found[0]


async def find_jackpot(db: AsyncSession, code_or_id: str) -> JackpotView:
    """By code or id (the CLI's argument)."""
    try:
        return await get_jackpot(db, uuid.UUID(code_or_id))
    except ValueError:
        pass
    jackpot_id = (await db.execute(text("SELECT id FROM jackpots WHERE code = :c"), {"c": code_or_id})).scalar()
    if jackpot_id is None:
        raise DomainError("No such jackpot.", code=ErrorCode.NOT_FOUND, field="id")
    return await get_jackpot(db, jackpot_id)


async def list_jackpots(
    db: AsyncSession, *, brand_id: uuid.UUID | None = None, status: str | None = None,
    ids: Sequence[uuid.UUID] | None = None,
) -> list[JackpotView]:  # fmt: skip
    """Jackpots with their pools now: one statement. `brand_id`: those its brand plays (network ones too)."""
    rows = (
        await db.execute(
            text(
                "SELECT j.*, coalesce(json_agg(json_build_object('id', p.id, 'level', p.level, 'position', p.position, "
                "'currency', p.currency, 'amount', p.amount, 'seed_amount', p.seed_amount, 'contribution_ppm', "
                "p.contribution_ppm, 'trigger', p.trigger, 'cap_amount', p.cap_amount, 'drop_window_seconds', "
                "p.drop_window_seconds, 'generation', p.generation, 'seeded_at', p.seeded_at, 'contributed_total', "
                "p.contributed_total, 'won_total', p.won_total, 'commitment', c.commitment) ORDER BY p.position) "
                "FILTER (WHERE p.id IS NOT NULL), '[]') AS pools "
                "FROM jackpots j LEFT JOIN jackpot_pools p ON p.jackpot_id = j.id "
                "LEFT JOIN jackpot_commitments c ON c.pool_id = p.id AND c.generation = p.generation "
                "WHERE (CAST(:brand AS text) IS NULL OR j.brand_ids ? CAST(:brand AS text)) "
                "AND (CAST(:status AS text) IS NULL OR j.status = :status) "
                "AND (CAST(:ids AS uuid[]) IS NULL OR j.id = ANY(CAST(:ids AS uuid[]))) "
                "GROUP BY j.id ORDER BY j.created_at, j.id"
            ),
            {
                "brand": str(brand_id) if brand_id else None,
                "status": status,
                "ids": list(ids) if ids is not None else None,
            },
        )
    ).mappings()
    return [jackpot_view(row) for row in rows]


_REPORTED = "SELECT id, pool_id, player_id, generation FROM jackpot_wins WHERE reference = $1 AND trigger = 'provider'"
# A report that names no generation is about the pot as it was when the report came in; within this long after a
# win reseeded the pool, it cannot be told apart from a late report of the pot just won: it must name the pot.
UNNAMED_GRACE = timedelta(seconds=60)


async def _same_report(
    db: AsyncSession, first: Any, pool_id: uuid.UUID, player_id: uuid.UUID, generation: int | None
) -> WinView:
    """The first win of a reference, for a retry of the same report; the same reference naming another player,
    pool or pot is another report under a used key: refused, never answered with the first win."""
    if first["pool_id"] != pool_id or first["player_id"] != player_id or generation not in (None, first["generation"]):
        raise IdempotencyConflict("This win reference was reported for another player or pot.", field="reference")
    return await win_view(db, first["id"])


async def report_provider_win(
    db: AsyncSession, *, pool_id: uuid.UUID, player_id: uuid.UUID, provider: str, reference: str, rates: Rates,
    generation: int | None = None, actor: Viewer | None = None,
) -> WinView:  # fmt: skip
    """A game provider reports that its game awarded the pot (a provider-triggered pool): the pot, whole, to the
    player, once.

    - Idempotent per provider reference, whatever pool it names: the same reference again answers the first win
      (reports of one reference queue on a transaction lock of it, so two at once pay once);
    - `generation` (the pot the provider saw) refuses a late second trigger of that pot (INVALID_STATE) instead
      of paying the next one;
    - without one, the report is about the pot current when it came in: if another report won that pot while
      this one waited for the pool's lock, it is refused the same way; and within UNNAMED_GRACE of a win it is
      refused too (it may be a late report of the pot just won): to claim the new pot, name its generation."""
    reference = f"{provider}:{reference}"
    conn = await books.native(db)
    arrived = await conn.fetchrow("SELECT generation, seeded_at FROM jackpot_pools WHERE id = $1", pool_id)
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 18))", f"jackpot-win:{reference}")
    first = await conn.fetchrow(_REPORTED, reference)
    if first is not None:
        return await _same_report(db, first, pool_id, player_id, generation)
    locked = await pools.lock(conn, [pool_id])
    pool = locked.get(pool_id)
    if pool is None or arrived is None:
        raise DomainError("No such pool.", code=ErrorCode.NOT_FOUND, field="poolId")
    if pool.trigger != "provider" or pool.status != "active":
        raise DomainError(
            "This pot is not awarded by its provider, or its jackpot is not active.", code=ErrorCode.INVALID_STATE
        )
    if generation is None:
        if pool.generation != arrived["generation"]:
            raise pools.AlreadyWon(
                f"Pot {arrived['generation']} was won while this report waited; name the generation to claim the "
                "next pot.",
                code=ErrorCode.INVALID_STATE, field="generation",
            )  # fmt: skip
        if pool.generation > 1 and clock.now() - arrived["seeded_at"] < UNNAMED_GRACE:
            raise pools.AlreadyWon(
                f"Pot {pool.generation - 1} was won moments ago; a report of the new pot must name generation "
                f"{pool.generation}.",
                code=ErrorCode.INVALID_STATE, field="generation",
            )  # fmt: skip
    elif generation != pool.generation:
        raise pools.AlreadyWon(f"Pot {generation} was already won.", code=ErrorCode.INVALID_STATE, field="generation")
    player = await conn.fetchrow("SELECT brand_id, currency FROM players WHERE id = $1", player_id)
    jackpot = await get_jackpot(db, pool.jackpot_id)
    if jackpot.providers and provider not in jackpot.providers:  # only a provider whose games feed it awards it
        raise DomainError("This pot is not awarded by that provider.", code=ErrorCode.NOT_ALLOWED, field="provider")
    if player is None or str(player["brand_id"]) not in jackpot.brand_ids:
        raise DomainError("No such player of this jackpot's brands.", code=ErrorCode.NOT_FOUND, field="playerId")
    paid = await pools.pay(
        conn, pool, player_id=player_id, brand_id=player["brand_id"], player_currency=player["currency"],
        reference=reference, amount_before=pool.amount, event_id=None, per_unit=dict(rates.per_unit),
        details={"provider": provider, "actor": actor.actor_type if actor else "provider"},
    )  # fmt: skip
    await pools.emit(conn, paid.events)
    return await win_view(db, paid.win_id)
