"""Jackpot resolvers: thin, each one service call (services/jackpots: reads for the surfaces, admin for
the staff's commands, live for the ticks)."""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from typing import Any

import strawberry

from core import events
from core.errors import DomainError, bad_input, forbidden
from core.pagination import Page
from models import jackpots as m
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, Money, node_uuid, to_global_id
from schema.context import Info
from schema.jackpots import (
    ConfigureJackpotInput,
    CreateJackpotInput,
    Jackpot,
    JackpotCommitment,
    JackpotContributionDay,
    JackpotDropCheck,
    JackpotLevel,
    JackpotLevelAmount,
    JackpotPayload,
    JackpotReseed,
    JackpotStatus,
    JackpotTick,
    JackpotVerification,
    JackpotWin,
    SetJackpotStatusInput,
)
from services.jackpots import live, live_amounts, reads, staff, views
from services.jackpots.reads import Scope

SUBSCRIPTION = "Subscription.jackpotChanged"
RECHECK_SECONDS = 60.0  # a subscriber's session is checked again at least this often (ticks come every second)


async def scope_of(info: Info, brand: str | None) -> Scope:
    """Whose jackpots the viewer sees: a player their brand's, staff their scope's, anonymous the named brand's."""
    viewer = info.context.viewer
    if not viewer.is_player and not viewer.is_staff and not brand:
        raise bad_input("Name the brand whose jackpots to show.", field="brand")
    try:
        scope: Scope = await info.context.loaders.games.audience(viewer, brand)
    except DomainError as exc:  # queries have no payload: a bad brand is bad input
        raise bad_input(exc.message, field=exc.field or "brand") from exc
    return scope


# ---- queries ------------------------------------------------------------------------------------


async def list_jackpots(
    info: Info,
    brand: str | None = None,
    status: JackpotStatus | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Jackpot]:
    scope = await scope_of(info, brand)
    async with info.context.rt.database.session() as db:
        page = await reads.jackpot_page(
            db,
            scope,
            status=status.value if status else None,
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, Jackpot.from_model)


async def jackpot(info: Info, id: strawberry.ID, brand: str | None = None) -> Jackpot | None:
    jackpot_id = jackpot_uuid(id)
    scope = await scope_of(info, brand)
    async with info.context.rt.database.session() as db:
        found = await reads.visible_jackpot(db, scope, jackpot_id)
    return Jackpot.from_model(found) if found else None


async def jackpot_verification(info: Info, id: strawberry.ID, brand: str | None = None) -> JackpotVerification | None:
    """Anyone who sees the jackpot may check its drops (the engine's `verify`)."""
    jackpot_id = jackpot_uuid(id)
    scope = await scope_of(info, brand)
    async with info.context.rt.database.session() as db:
        if await reads.visible_jackpot(db, scope, jackpot_id) is None:
            return None
        drops = await views.verify(db, jackpot_id)
    checks = [
        JackpotDropCheck(
            level=d.level,
            generation=d.generation,
            trigger=m.DropTrigger(d.trigger),
            commitment=d.commitment,
            drop_point=str(d.drop_point),
            salt=d.salt,
            ok=d.ok,
            problems=list(d.problems),
            void=d.void,
        )
        for d in drops
    ]
    return JackpotVerification(ok=all(c.ok for c in checks), drops=checks)


def jackpot_uuid(id: strawberry.ID | str) -> uuid.UUID:
    return node_uuid(id, "Jackpot")


async def jackpot_levels(info: Info, jackpot_id: uuid.UUID) -> list[JackpotLevel]:
    return [JackpotLevel.from_model(pool) for pool in await info.context.loaders.jackpots.pools.load(jackpot_id)]


async def jackpot_total(info: Info, jackpot_id: uuid.UUID, currency: str) -> Money:
    pools = await info.context.loaders.jackpots.pools.load(jackpot_id)
    return Money.of(sum(pool.amount for pool in pools), currency)


# ---- staff: create, configure, pause and close --------------------------------------------------


@payload_errors(JackpotPayload)
async def create_jackpot(info: Info, input: CreateJackpotInput) -> JackpotPayload:
    require_subject(info)
    form = staff.JackpotForm(
        code=input.code,
        name=input.name,
        kind=input.kind.value,
        type=input.type.value,
        currency=input.currency,
        brands=input.brands,
        levels=[
            staff.LevelForm(
                level=level.level,
                seed=level.seed,
                contribution_percent=level.contribution_percent,
                trigger=level.trigger.value,
                must_drop_by=level.must_drop_by,
                drop_window_seconds=level.drop_window_seconds,
            )
            for level in input.levels
        ],
        games=input.games or (),
        providers=input.providers or (),
        min_bet=input.min_bet,
    )
    row = await staff.create(info.context.rt, info.context.viewer, form)
    return JackpotPayload(jackpot=Jackpot.from_model(row))


def _given(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


@payload_errors(JackpotPayload)
async def configure_jackpot(info: Info, input: ConfigureJackpotInput) -> JackpotPayload:
    require_subject(info)
    row = await staff.configure(
        info.context.rt,
        info.context.viewer,
        jackpot_uuid(input.jackpot_id),
        games=_given(input.games),
        providers=_given(input.providers),
        min_bet=_given(input.min_bet),
        reason=input.reason,
    )
    return JackpotPayload(jackpot=Jackpot.from_model(row))


@payload_errors(JackpotPayload)
async def set_jackpot_status(info: Info, input: SetJackpotStatusInput) -> JackpotPayload:
    require_subject(info)
    row = await staff.configure(
        info.context.rt,
        info.context.viewer,
        jackpot_uuid(input.jackpot_id),
        status=input.status.value,
        reason=input.reason,
    )
    return JackpotPayload(jackpot=Jackpot.from_model(row))


# ---- a level's history (the level was reached through a jackpot the viewer sees) ----------------


async def _page(info: Info, read: Callable[..., Any], pool_id: uuid.UUID, **page: Any) -> Page[Any]:
    async with info.context.rt.database.session() as db:
        found: Page[Any] = await read(db, pool_id, **page)
    return found


async def level_contributions(info: Info, pool_id: uuid.UUID, **page: Any) -> Connection[JackpotContributionDay]:
    currency = await _pool_currency(info, pool_id)
    return Connection.of(await _page(info, reads.contribution_days, pool_id, **page), lambda d: _day(d, currency))


async def level_wins(info: Info, pool_id: uuid.UUID, **page: Any) -> Connection[JackpotWin]:
    currency = await _pool_currency(info, pool_id)
    return Connection.of(await _page(info, reads.wins, pool_id, **page), lambda w: _win(w, currency))


async def level_reseeds(info: Info, pool_id: uuid.UUID, **page: Any) -> Connection[JackpotReseed]:
    currency = await _pool_currency(info, pool_id)
    return Connection.of(await _page(info, reads.reseeds, pool_id, **page), lambda s: _seed(s, currency))


async def level_commitments(info: Info, pool_id: uuid.UUID, **page: Any) -> Connection[JackpotCommitment]:
    return Connection.of(await _page(info, reads.commitments, pool_id, **page), _commitment)


async def _pool_currency(info: Info, pool_id: uuid.UUID) -> str:
    pool = await info.context.loaders.jackpots.pool.load(pool_id)
    return pool.currency if pool else ""


def _day(row: m.JackpotDay, currency: str) -> JackpotContributionDay:
    return JackpotContributionDay(
        day=row.day,
        contributed=Money.of(row.contributed, currency),
        taken_back=Money.of(row.taken_back, currency),
        net=Money.of(row.contributed - row.taken_back, currency),
        bets=row.bets,
        rollbacks=row.rollbacks,
        forgone=Money.of(row.forgone, currency),
    )


def _win(row: m.JackpotWin, currency: str) -> JackpotWin:
    return JackpotWin(
        id=strawberry.ID(str(to_global_id("JackpotWin", row.id))),
        generation=row.generation,
        trigger=m.DropTrigger(row.trigger),
        amount=Money.of(row.amount, currency),
        paid=Money.of(row.paid_amount, row.paid_currency),
        fx_rate=row.fx_rate,
        amount_before=Money.of(row.amount_before, currency),
        amount_after=Money.of(row.amount_after, currency),
        drop_point=str(row.drop_point) if row.drop_point is not None else None,
        won_at=row.won_at,
        player_id=strawberry.ID(str(to_global_id("Player", row.player_id))),
        reference=row.reference,
        ledger_transaction_id=strawberry.ID(str(to_global_id("LedgerTransaction", row.ledger_transaction_id))),
    )


def _seed(row: m.JackpotSeed, currency: str) -> JackpotReseed:
    tx = row.ledger_transaction_id
    return JackpotReseed(
        generation=row.generation,
        amount=Money.of(row.amount, currency),
        seeded_at=row.seeded_at,
        ledger_transaction_id=strawberry.ID(str(to_global_id("LedgerTransaction", tx))) if tx else None,
    )


def _commitment(row: m.JackpotCommitment) -> JackpotCommitment:
    from services.jackpots.commitment import verify_commitment  # (the engine's; imported when one is shown)

    revealed = row.revealed_at is not None  # the point and salt stay secret until the pot dropped
    return JackpotCommitment(
        generation=row.generation,
        trigger=m.DropTrigger(row.trigger),
        commitment=row.commitment,
        published_at=row.published_at,
        revealed_at=row.revealed_at,
        drop_point=str(row.drop_point) if revealed else None,
        salt=row.salt if revealed else None,
        verified=verify_commitment(row.commitment, row.drop_point, row.salt) if revealed else None,
        voided=row.voided_at is not None,
    )


# ---- the live tick ------------------------------------------------------------------------------


def _tick(jackpot_id: uuid.UUID, pots: live_amounts.Pots, trigger: str) -> JackpotTick:
    currency = pots.pools[0].currency if pots.pools else ""
    return JackpotTick(
        jackpot_id=strawberry.ID(str(to_global_id("Jackpot", jackpot_id))),
        at=pots.at,
        trigger=trigger,
        status=JackpotStatus(pots.status),
        levels=[
            JackpotLevelAmount(level=p.level, amount=Money.of(p.amount, p.currency), generation=p.generation)
            for p in pots.pools
        ],
        total=Money.of(sum(p.amount for p in pots.pools), currency),
    )


# Each tick's GraphQL object, made once per process and tick (the pots one read gave every subscriber of the
# process, held here so its id is not reused) and shared by every subscriber of the jackpot.
_TICKS: OrderedDict[tuple[uuid.UUID, int, str], tuple[live_amounts.Pots, JackpotTick]] = OrderedDict()
_TICKS_KEPT = 64


def _shared_tick(jackpot_id: uuid.UUID, pots: live_amounts.Pots, trigger: str) -> JackpotTick:
    key = (jackpot_id, id(pots), trigger)
    found = _TICKS.get(key)
    if found is not None and found[0] is pots:
        return found[1]
    tick = _tick(jackpot_id, pots, trigger)
    tick.live_template = tick
    _TICKS[key] = (pots, tick)
    while len(_TICKS) > _TICKS_KEPT:
        _TICKS.popitem(last=False)
    return tick


async def jackpot_changed(
    info: Info, jackpot_id: strawberry.ID, brand: str | None = None
) -> AsyncGenerator[JackpotTick, None]:
    """A jackpot's pots now, then after every change (at most once a second; services/jackpots/live.py).
    Anyone who may see the jackpot may watch it: players their brand's, anonymous visitors the named
    brand's, staff their scope's."""
    from resolvers.subscriptions import _recheck, _require

    _require(info, SUBSCRIPTION)
    target = jackpot_uuid(jackpot_id)
    rt = info.context.rt
    scope = await scope_of(info, brand)
    async with rt.database.session() as db:
        if await reads.visible_jackpot(db, scope, target) is None:
            raise forbidden("No such jackpot for this brand.")
    shared = live_amounts.live_of(rt)
    loop = asyncio.get_running_loop()
    async with shared.watching(target), events.subscribed(rt, live.channel(target)) as listener:
        pots = await shared.now(target)
        if pots is None:
            return
        yield _tick(target, pots, "snapshot")
        checked = loop.time()
        while True:
            message = await listener.next(within=RECHECK_SECONDS)
            if message is None or loop.time() - checked >= RECHECK_SECONDS:
                await _recheck(info, SUBSCRIPTION)  # a session ended or a role lost ends the subscription
                checked = loop.time()
            if message is None:
                continue
            if message.get("type") == events.RESUMED:  # ticks may have been lost meanwhile
                pots, trigger = await shared.now(target), "snapshot"
            elif message.get("type") == live.TICK:
                pots = await shared.at(target, int(message.get("seq", 0)))
                trigger = ",".join(str(r) for r in message.get("reasons") or ()) or "contributions"
            else:
                continue
            if pots is None:
                return  # the jackpot is gone
            yield _tick(target, pots, trigger) if trigger == "snapshot" else _shared_tick(target, pots, trigger)
