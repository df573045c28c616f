"""Responsible-gambling types, inputs and payloads."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import rg as m
from schema.base import Connection, Money, UserError
from schema.input_limits import NOTE, REASON, text
from services.rg.exclusions import SelfExclusion, TimeOut
from services.rg.flags import Intervention
from services.rg.gates import LoginPurpose
from services.rg.profiles import Profile

if TYPE_CHECKING:
    from schema.players import Player

strawberry.enum(
    m.LimitKind,
    name="LimitKind",
    description="deposit, loss (stakes minus wins), wager (stakes), session time (logged in)",
)
strawberry.enum(
    m.LimitPeriod,
    name="LimitPeriod",
    description="Calendar periods in the jurisdiction's time zone (weeks start on Monday)",
)
strawberry.enum(m.ExclusionKind, name="ExclusionKind")
strawberry.enum(TimeOut, name="TimeOutLength", description="24 hours, 7 days, 30 days or 6 weeks")
strawberry.enum(SelfExclusion, name="SelfExclusionLength", description="At least 6 months, or permanent")
strawberry.enum(Intervention, name="RgInterventionAction")
strawberry.enum(
    LoginPurpose,
    name="LoginPurpose",
    description="PLAY, or WITHDRAWAL: a session that can only read the account and withdraw "
    "(open to self-excluded players)",
)


RgFlagStatus = m.RgFlagStatus
strawberry.enum(m.RgFlagStatus, name="RgFlagStatus")


@strawberry.type(description="The rules of a jurisdiction the player plays under.")
class JurisdictionProfile:
    code: str
    name: str
    timezone: str
    minimum_age: int
    increase_cooling_off_hours: int
    increase_waits_for_period_end: bool
    required_limits: list[m.LimitKind]
    reality_check_minutes: int
    reality_check_required: bool
    registers: list[str]

    @classmethod
    def of(cls, rules: Profile) -> JurisdictionProfile:
        return cls(
            code=rules.code,
            name=rules.name,
            timezone=rules.timezone.key,
            minimum_age=rules.minimum_age,
            increase_cooling_off_hours=int(rules.increase_cooling_off.total_seconds() // 3600),
            increase_waits_for_period_end=rules.increase_after_period_end,
            required_limits=list(rules.required_limits),
            reality_check_minutes=rules.reality_check_minutes,
            reality_check_required=rules.reality_check_required,
            registers=list(rules.registers),
        )


@strawberry.type(description="An increase or removal waiting out its cooling-off; then the player confirms it.")
class PendingLimitChange:
    removal: bool
    amount: Money | None
    minutes: int | None
    requested_at: datetime
    effective_at: datetime
    confirmable: bool


@strawberry.type(description="A limit: money limits in the player's currency, time limits in minutes.")
class RgLimit:
    kind: m.LimitKind
    period: m.LimitPeriod
    amount: Money | None = strawberry.field(description="In force (null: none, only a change is pending)")
    minutes: int | None
    used: Money | None
    used_minutes: int | None
    remaining: Money | None
    remaining_minutes: int | None
    period_started_at: datetime
    resets_at: datetime
    pending: PendingLimitChange | None


@strawberry.type(description="A time-out or self-exclusion (never shortened).")
class Exclusion:
    kind: m.ExclusionKind
    starts_at: datetime
    ends_at: datetime | None = strawberry.field(description="Null: permanent")
    source: str
    active: bool


@strawberry.type(description="Time played and net result since the login session began.")
class RealityCheck:
    interval_minutes: int
    next_due_at: datetime
    due: bool
    session_started_at: datetime
    minutes_played: int
    net_result: list[Money] = strawberry.field(description="Wins minus stakes per currency, this session")


@strawberry.type(
    description="A reality check fell due, or the session ended (a limit, the player, an exclusion, a block)."
)
class RealityCheckNotice:
    kind: str = strawberry.field(description="due | session_ended")
    reason: str | None
    reality_check: RealityCheck | None


@strawberry.type(description="What the player did in one limit period: deposits against losses, time played.")
class RgActivity:
    period: m.LimitPeriod
    started_at: datetime
    resets_at: datetime
    currency: str
    deposited: Money
    wagered: Money
    won: Money
    net_loss: Money
    minutes_played: int


@strawberry.type(description="One entry of a player's RG history.")
class RgEvent:
    kind: str
    actor_type: str
    actor_id: str | None
    details: JSON
    at: datetime


@strawberry.type(description="A risk pattern in the RG team's queue.")
class RgFlag(relay.Node):
    id: relay.NodeID[str]
    kind: str
    details: JSON
    status: RgFlagStatus
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    player_id: strawberry.Private[str]

    @strawberry.field
    async def player(self, info: strawberry.Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.rg import flag_player

        return await flag_player(info, self.player_id)

    @classmethod
    def from_model(cls, flag: m.RgFlag) -> RgFlag:
        return cls(
            id=str(flag.id),
            kind=flag.kind,
            details=JSON(flag.details),
            status=RgFlagStatus(flag.status),
            created_at=flag.created_at,
            resolved_at=flag.resolved_at,
            resolution=flag.resolution,
            player_id=str(flag.player_id),
        )


@strawberry.type(description="A player's responsible-gambling state: limits, exclusions, checks, activity, history.")
class ResponsibleGambling:
    jurisdiction: JurisdictionProfile
    limits: list[RgLimit]
    exclusion: Exclusion | None = strawberry.field(description="The exclusion in force, if any")
    exclusions: list[Exclusion] = strawberry.field(description="Every time-out and self-exclusion, newest first")
    reality_check_minutes: int = strawberry.field(description="The interval in use (0: off)")
    reality_check: RealityCheck | None = strawberry.field(description="The viewer's own session's check")
    activity: list[RgActivity]
    player_uuid: strawberry.Private[str]

    @strawberry.field(description="Limit changes, exclusions, checks and interventions, newest first.")  # type: ignore[untyped-decorator]
    async def history(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[RgEvent]:
        from resolvers.rg import rg_history

        return await rg_history(info, self.player_uuid, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Risk flags raised on this player.")  # type: ignore[untyped-decorator]
    async def flags(self, info: strawberry.Info) -> list[RgFlag]:
        from resolvers.rg import player_flags

        return await player_flags(info, self.player_uuid)


# ---- inputs and payloads ------------------------------------------------------------------------


@strawberry.input(description="Set a limit; omit `amount`/`minutes` to remove it (after cooling-off).")
class SetLimitInput:
    kind: m.LimitKind
    period: m.LimitPeriod
    amount: str | None = strawberry.field(default=None, description="Money limits: a decimal in the player's currency")
    minutes: int | None = strawberry.field(default=None, description="Session-time limits")


@strawberry.input
class LimitChangeInput:
    kind: m.LimitKind
    period: m.LimitPeriod


@strawberry.type
class LimitPayload:
    limit: RgLimit | None = None
    responsible_gambling: ResponsibleGambling | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class TakeTimeOutInput:
    length: TimeOut


@strawberry.input
class SelfExcludeInput:
    length: SelfExclusion
    confirm: bool = strawberry.field(description="Must be true: it cannot be undone early")


@strawberry.type
class ExclusionPayload:
    exclusion: Exclusion | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Staff exclude a player: give exactly one of `timeOut` and `selfExclusion`.")
class ImposeExclusionInput:
    player_id: strawberry.ID
    time_out: TimeOut | None = None
    self_exclusion: SelfExclusion | None = None
    reason: str = text(REASON, description="Why (required; kept in the RG history and the audit log)")


@strawberry.input
class SetRealityCheckInput:
    minutes: int = strawberry.field(description="5 to 240; 0 turns checks off where the jurisdiction allows")


@strawberry.input
class AnswerRealityCheckInput:
    continue_playing: bool = strawberry.field(description="False ends this session")


@strawberry.type
class RealityCheckPayload:
    reality_check: RealityCheck | None = None
    responsible_gambling: ResponsibleGambling | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RecordRgInterventionInput:
    player_id: strawberry.ID
    action: Intervention
    note: str = text(NOTE)


@strawberry.type
class RecordRgInterventionPayload:
    responsible_gambling: ResponsibleGambling | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ResolveRgFlagInput:
    flag_id: strawberry.ID
    resolution: str = text(NOTE)


@strawberry.type
class ResolveRgFlagPayload:
    flag: RgFlag | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
