"""Responsible-gambling resolvers (thin: the rules live in services/rg/)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from sqlmodel import col

from core import events
from core.clock import clock
from core.errors import DomainError, NotFound, forbidden, unauthenticated
from core.pagination import paginate
from core.runtime import Runtime
from models import rg as m
from models.players import Player as PlayerModel
from resolvers.common import payload_errors, require_subject
from resolvers.subscriptions import _recheck
from schema.base import Connection, Money, node_uuid
from schema.context import Info
from schema.rg import (
    AnswerRealityCheckInput,
    Exclusion,
    ExclusionPayload,
    ImposeExclusionInput,
    JurisdictionProfile,
    LimitChangeInput,
    LimitPayload,
    PendingLimitChange,
    RealityCheck,
    RealityCheckNotice,
    RealityCheckPayload,
    RecordRgInterventionInput,
    RecordRgInterventionPayload,
    ResolveRgFlagInput,
    ResolveRgFlagPayload,
    ResponsibleGambling,
    RgActivity,
    RgEvent,
    RgFlag,
    RgFlagStatus,
    RgLimit,
    SelfExcludeInput,
    SetLimitInput,
    SetRealityCheckInput,
    TakeTimeOutInput,
)
from services import players
from services.rg import exclusions, flags, history, limits, reality, view

if TYPE_CHECKING:
    from schema.players import Player

# ---- converting service results ---------------------------------------------------------------


def _amount(value: int | None, currency: str | None) -> tuple[Money | None, int | None]:
    if value is None:
        return None, None
    return (Money.of(value, currency), None) if currency else (None, value // 60)


def _limit(usage: limits.Usage, now: datetime) -> RgLimit:
    limit = usage.limit
    amount, minutes = _amount(limit.amount, limit.currency)
    used, used_minutes = _amount(usage.used, limit.currency)
    remaining, remaining_minutes = _amount(usage.remaining if limit.amount is not None else None, limit.currency)
    pending = None
    if limit.pending_effective_at is not None and limit.pending_requested_at is not None:
        p_amount, p_minutes = _amount(limit.pending_amount, limit.currency)
        pending = PendingLimitChange(
            removal=limit.pending_removal,
            amount=p_amount,
            minutes=p_minutes,
            requested_at=limit.pending_requested_at,
            effective_at=limit.pending_effective_at,
            confirmable=limit.pending_effective_at <= now,
        )
    return RgLimit(
        kind=m.LimitKind(limit.kind),
        period=m.LimitPeriod(limit.period),
        amount=amount,
        minutes=minutes,
        used=used,
        used_minutes=used_minutes,
        remaining=remaining,
        remaining_minutes=remaining_minutes,
        period_started_at=usage.starts_at,
        resets_at=usage.resets_at,
        pending=pending,
    )


def _exclusion(row: m.RgExclusion, now: datetime) -> Exclusion:
    return Exclusion(
        kind=m.ExclusionKind(row.kind),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        source=row.source,
        active=row.starts_at <= now and (row.ends_at is None or row.ends_at > now),
    )


def _check(state: reality.CheckState | None) -> RealityCheck | None:
    if state is None:
        return None
    return RealityCheck(
        interval_minutes=state.interval_seconds // 60,
        next_due_at=state.next_due_at,
        due=state.due,
        session_started_at=state.session_started_at,
        minutes_played=state.seconds_played // 60,
        net_result=[Money.of(net, currency) for currency, net in state.net_result],
    )


def _overview(data: view.Overview) -> ResponsibleGambling:
    return ResponsibleGambling(
        jurisdiction=JurisdictionProfile.of(data.rules),
        limits=[_limit(u, data.now) for u in data.limits],
        exclusion=_exclusion(data.active_exclusion, data.now) if data.active_exclusion else None,
        exclusions=[_exclusion(e, data.now) for e in data.exclusions],
        reality_check_minutes=data.reality_check_minutes,
        reality_check=_check(data.reality_check),
        activity=[
            RgActivity(
                period=a.period,
                started_at=a.starts_at,
                resets_at=a.resets_at,
                currency=a.currency,
                deposited=Money.of(a.totals.deposited, a.currency),
                wagered=Money.of(a.totals.wagered, a.currency),
                won=Money.of(a.totals.won, a.currency),
                net_loss=Money.of(a.totals.lost, a.currency),
                minutes_played=a.seconds_played // 60,
            )
            for a in data.activity
        ],
        player_uuid=str(data.player.id),
    )


async def overview_of(rt: Runtime, player: PlayerModel, session_id: uuid.UUID | None) -> ResponsibleGambling:
    async with rt.database.session() as db:
        return _overview(await view.overview(db, rt, player, session_id))


async def _own_player(info: Info) -> PlayerModel:
    viewer = info.context.viewer
    if not viewer.is_player or viewer.id is None:
        raise forbidden("Only players set their own responsible-gambling rules.")
    async with info.context.rt.database.session() as db:
        return await players.get_readable(db, viewer, viewer.id)


async def _readable(info: Info, player_id: uuid.UUID) -> PlayerModel:
    async with info.context.rt.database.session() as db:
        return await players.get_readable(db, info.context.viewer, player_id)


# ---- queries ----------------------------------------------------------------------------------


async def responsible_gambling(info: Info, player_id: uuid.UUID) -> ResponsibleGambling | None:
    viewer = info.context.viewer
    try:
        player = await _readable(info, player_id)
    except NotFound:
        return None
    own_session = viewer.session_id if viewer.is_player and viewer.id == player_id else None
    return await overview_of(info.context.rt, player, own_session)


async def rg_history(
    info: Info, player_id: str, *, first: int | None, after: str | None, last: int | None, before: str | None
) -> Connection[RgEvent]:
    await _readable(info, uuid.UUID(player_id))
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            history.of_player(uuid.UUID(player_id)),
            (col(m.RgEvent.created_at), col(m.RgEvent.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(
        page,
        lambda e: RgEvent(
            kind=e.kind,
            actor_type=e.actor_type,
            actor_id=str(e.actor_id) if e.actor_id else None,
            details=strawberry.scalars.JSON(e.details),
            at=e.created_at,
        ),
    )


async def player_flags(info: Info, player_id: str) -> list[RgFlag]:
    async with info.context.rt.database.session() as db:
        rows = (
            await db.scalars(
                flags.readable_flags(info.context.viewer)
                .where(col(m.RgFlag.player_id) == uuid.UUID(player_id))
                .order_by(col(m.RgFlag.created_at).desc())
            )
        ).all()
    return [RgFlag.from_model(row) for row in rows]


async def flag_player(info: Info, player_id: str) -> Player | None:
    from schema.players import Player

    try:
        return Player.from_model(await _readable(info, uuid.UUID(player_id)))
    except NotFound:
        return None


async def rg_flags(
    info: Info,
    status: RgFlagStatus | None = RgFlagStatus.OPEN,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[RgFlag]:
    stmt = flags.readable_flags(info.context.viewer)
    if status is not None:
        stmt = stmt.where(col(m.RgFlag.status) == status.value)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db, stmt, (col(m.RgFlag.created_at), col(m.RgFlag.id)), first=first, after=after, last=last, before=before
        )
    return Connection.of(page, RgFlag.from_model)


# ---- player mutations -------------------------------------------------------------------------


@payload_errors(LimitPayload)
async def set_limit(info: Info, input: SetLimitInput) -> LimitPayload:
    player = await _own_player(info)
    amount = limits.parse_limit_amount(input.kind, input.amount, input.minutes, player.currency)
    await limits.set_limit(info.context.rt, info.context.viewer, player, input.kind, input.period, amount)
    return await _limit_payload(info, player, input.kind, input.period)


@payload_errors(LimitPayload)
async def confirm_limit_change(info: Info, input: LimitChangeInput) -> LimitPayload:
    player = await _own_player(info)
    await limits.confirm_change(info.context.rt, info.context.viewer, player, input.kind, input.period)
    return await _limit_payload(info, player, input.kind, input.period)


@payload_errors(LimitPayload)
async def cancel_limit_change(info: Info, input: LimitChangeInput) -> LimitPayload:
    player = await _own_player(info)
    await limits.cancel_change(info.context.rt, info.context.viewer, player, input.kind, input.period)
    return await _limit_payload(info, player, input.kind, input.period)


async def _limit_payload(info: Info, player: PlayerModel, kind: m.LimitKind, period: m.LimitPeriod) -> LimitPayload:
    overview = await overview_of(info.context.rt, player, info.context.viewer.session_id)
    found = next((x for x in overview.limits if x.kind == kind and x.period == period), None)
    return LimitPayload(limit=found, responsible_gambling=overview)


@payload_errors(ExclusionPayload)
async def take_time_out(info: Info, input: TakeTimeOutInput) -> ExclusionPayload:
    player = await _own_player(info)
    row = await exclusions.take_time_out(info.context.rt, info.context.viewer, player, input.length)
    return ExclusionPayload(exclusion=_exclusion(row, row.starts_at))


@payload_errors(ExclusionPayload)
async def self_exclude(info: Info, input: SelfExcludeInput) -> ExclusionPayload:
    if not input.confirm:
        raise DomainError("Self-exclusion cannot be undone early: confirm it to go ahead.", field="confirm")
    player = await _own_player(info)
    row = await exclusions.self_exclude(info.context.rt, info.context.viewer, player, input.length)
    return ExclusionPayload(exclusion=_exclusion(row, row.starts_at))


@payload_errors(RealityCheckPayload)
async def set_reality_check(info: Info, input: SetRealityCheckInput) -> RealityCheckPayload:
    player = await _own_player(info)
    updated = await reality.choose_interval(info.context.rt, info.context.viewer, player, input.minutes)
    overview = await overview_of(info.context.rt, updated, info.context.viewer.session_id)
    return RealityCheckPayload(reality_check=overview.reality_check, responsible_gambling=overview)


@payload_errors(RealityCheckPayload)
async def answer_reality_check(info: Info, input: AnswerRealityCheckInput) -> RealityCheckPayload:
    player = await _own_player(info)
    state = await reality.answer(info.context.rt, info.context.viewer, player, keep_playing=input.continue_playing)
    return RealityCheckPayload(reality_check=_check(state))


# ---- staff mutations --------------------------------------------------------------------------


@payload_errors(RecordRgInterventionPayload)
async def record_rg_intervention(info: Info, input: RecordRgInterventionInput) -> RecordRgInterventionPayload:
    require_subject(info)
    player = await _readable(info, node_uuid(input.player_id, "Player"))
    await flags.intervene(info.context.rt, info.context.viewer, player, input.action, input.note)
    return RecordRgInterventionPayload(responsible_gambling=await overview_of(info.context.rt, player, None))


@payload_errors(ExclusionPayload)
async def impose_exclusion(info: Info, input: ImposeExclusionInput) -> ExclusionPayload:
    require_subject(info)
    player = await _readable(info, node_uuid(input.player_id, "Player"))
    row = await exclusions.impose(
        info.context.rt,
        info.context.viewer,
        player,
        time_out=input.time_out,
        self_exclusion=input.self_exclusion,
        reason=input.reason,
    )
    return ExclusionPayload(exclusion=_exclusion(row, row.starts_at))


@payload_errors(ResolveRgFlagPayload)
async def resolve_rg_flag(info: Info, input: ResolveRgFlagInput) -> ResolveRgFlagPayload:
    require_subject(info)
    flag = await flags.resolve(
        info.context.rt, info.context.viewer, node_uuid(input.flag_id, "RgFlag"), input.resolution
    )
    return ResolveRgFlagPayload(flag=RgFlag.from_model(flag))


# ---- subscription -----------------------------------------------------------------------------

NOTICE_TOPICS = ("rg.reality_check_due", "player.session_ended")


async def reality_checks(info: Info) -> AsyncGenerator[RealityCheckNotice, None]:
    """The player's own session: a reality check fell due, or the session ended (`player.session_ended`: a
    limit, a stop, a sign-out, an exclusion, a block)."""
    viewer = info.context.viewer
    if not viewer.is_player or viewer.id is None or viewer.session_id is None:
        raise forbidden("Only players have reality checks.")
    rt, session_id = info.context.rt, viewer.session_id
    async for event in events.listen(rt, events.player_channel(viewer.id)):
        topic, data = event.get("type"), event.get("data") or {}
        if topic not in NOTICE_TOPICS or data.get("session_id") != str(session_id):
            continue
        if topic == "player.session_ended":
            yield RealityCheckNotice(kind="session_ended", reason=str(data.get("reason")), reality_check=None)
            raise unauthenticated("The session has ended.")
        await _recheck(info, "Subscription.realityCheck")  # still this session and still allowed, as every subscription
        async with rt.database.session() as db:
            state = await reality.state(db, session_id, clock.now())
        yield RealityCheckNotice(kind="due", reason=None, reality_check=_check(state))
