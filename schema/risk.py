"""Risk types, inputs and payloads: a player's risk picture (`Player.risk`: linked accounts, flags, the
explained score, the restrictions in force), the block and watch lists, the rules, and the risk queue
(services/risk)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models.risk import RiskFlag as FlagRow
from models.risk import RiskListEntry as EntryRow
from models.risk import RiskRule as RuleRow
from schema.base import UserError
from schema.input_limits import REASON, TITLE, text
from services.risk.lists import EntryKind, ListName
from services.risk.queue import FlagStatus
from services.risk.review import Restriction, Verdict
from services.risk.rules import INLINE_KINDS, ActionKind, RuleKind
from services.risk.score import Reason, Score

if TYPE_CHECKING:
    from schema.players import Player

strawberry.enum(ListName, name="RiskList", description="BLOCK refuses with RISK_BLOCKED; WATCH lets through, flagged")
strawberry.enum(
    EntryKind,
    name="RiskListKind",
    description="What an entry names: an email (normalised: case, plus-tags, Gmail dots), an email domain, an IP "
    "address or CIDR range, a device id (X-Device-Id), a card BIN (6-8 digits) or fingerprint, a country",
)

strawberry.enum(
    RuleKind,
    name="RiskRuleKind",
    description="What a rule looks at (docs/risk.md lists each kind's parameters)",
)
strawberry.enum(
    ActionKind,
    name="RiskActionKind",
    description="What a rule's hit (or staff) does to a player; FLAG_REVIEW and HOLD_DEPOSIT are rules' only",
)
strawberry.enum(FlagStatus, name="RiskFlagStatus", description="A flag waits (OPEN) until staff review it")
strawberry.enum(Verdict, name="RiskFlagVerdict", description="CONFIRMED, or DISMISSED as a false positive")


@strawberry.type(description="A strong signal two linked accounts share; the value is masked.")
class SharedSignal:
    kind: str = strawberry.field(description="device, card_fingerprint, payment_account, email, phone or address")
    value: str = strawberry.field(description="Masked: enough to tell two apart, not to reuse")
    first_seen: datetime


@strawberry.type(description="Another account of the player's cluster, with what links it to the cluster.")
class LinkedPlayer:
    shared_signals: list[SharedSignal] = strawberry.field(
        description="The strong signals it shares with another member (empty: linked through others)"
    )
    player_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The linked account (null when the viewer may not read it).")  # type: ignore[untyped-decorator]
    async def player(self, info: strawberry.Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.risk import linked_player

        return await linked_player(info, self.player_id)


@strawberry.type(description="Something about a player for the risk desk to review: a list hit, a signal, a flag.")
class RiskFlag:
    id: strawberry.ID
    source: str = strawberry.field(description="list (a block or watch list entry), disposable_email, or rule")
    outcome: str = strawberry.field(
        description="block (the request was refused), watch (let through), or review (a rule's flag)"
    )
    detail: str = strawberry.field(description="The list entry's kind, the disposable domain, or the rule's reason")
    occasion: str = strawberry.field(description="registration, deposit, withdrawal, or what the rule saw")
    status: str = strawberry.field(description="open, confirmed or dismissed")
    raised_at: datetime
    rule_code: str | None = strawberry.field(description="A rule's flag: its rule")
    reviewed_at: datetime | None
    review_note: str | None
    player_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The flagged player (null for a refused registration).")  # type: ignore[untyped-decorator]
    async def player(self, info: strawberry.Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.risk import linked_player

        return await linked_player(info, self.player_id) if self.player_id is not None else None

    @classmethod
    def from_model(cls, flag: FlagRow) -> RiskFlag:
        return cls(
            id=strawberry.ID(str(flag.id)),
            source=flag.source,
            outcome=flag.outcome,
            detail=flag.detail,
            occasion=flag.occasion,
            status=flag.status,
            raised_at=flag.raised_at,
            rule_code=flag.rule_code,
            reviewed_at=flag.reviewed_at,
            review_note=flag.review_note,
            player_id=flag.player_id,
        )


@strawberry.type(description="One contribution to a player's score: a rule's hits and why.")
class RiskScoreReason:
    rule_code: str
    points: int = strawberry.field(description="What it adds to the score (the rule's points at the hit)")
    reason: str
    details: JSON = strawberry.field(description="What the rule found (counts, windows, amounts)")
    hits: int = strawberry.field(description="The rule's hits since the contribution last expired")
    first_hit_at: datetime
    last_hit_at: datetime
    expires_at: datetime = strawberry.field(description="It stops counting then, unless the rule hits again")

    @classmethod
    def of(cls, reason: Reason) -> RiskScoreReason:
        return cls(
            rule_code=reason.rule_code,
            points=reason.points,
            reason=reason.reason,
            details=JSON(reason.details),
            hits=reason.hits,
            first_hit_at=reason.first_hit_at,
            last_hit_at=reason.last_hit_at,
            expires_at=reason.expires_at,
        )


@strawberry.type(description="A player's risk score: 0 to 100, the capped sum of its reasons' points.")
class RiskScore:
    value: int
    reasons: list[RiskScoreReason] = strawberry.field(description="Biggest first")

    @classmethod
    def of(cls, score: Score) -> RiskScore:
        return cls(value=score.value, reasons=[RiskScoreReason.of(r) for r in score.reasons])


@strawberry.type(description="A restriction in force on a player, imposed by a rule or by risk staff.")
class RiskRestriction:
    id: strawberry.ID
    kind: ActionKind
    level: str | None = strawberry.field(description="REQUIRE_KYC_LEVEL: the level")
    psps: list[str] | None = strawberry.field(description="ROUTE_PSPS: the only PSPs deposits go through")
    rule_code: str | None = strawberry.field(description="The rule that imposed it (null: staff)")
    reason: str
    imposed_at: datetime
    imposed_by: uuid.UUID | None = strawberry.field(description="The staff member (null: a rule or the CLI)")
    expires_at: datetime | None
    lifted_at: datetime | None

    @classmethod
    def of(cls, found: Restriction) -> RiskRestriction:
        return cls(
            id=strawberry.ID(str(found.id)),
            kind=found.kind,
            level=found.level,
            psps=list(found.psps) if found.psps else None,
            rule_code=found.rule_code,
            reason=found.reason,
            imposed_at=found.imposed_at,
            imposed_by=found.imposed_by,
            expires_at=found.expires_at,
            lifted_at=found.lifted_at,
        )


@strawberry.type(
    description="A player's risk picture: the accounts linked to it by shared devices, cards, "
    "payment accounts, mailboxes or phones; its flags; its score with the reasons; the restrictions in force."
)
class PlayerRisk:
    player_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Accounts in the player's cluster, the player included (1: linked to no one).")  # type: ignore[untyped-decorator]
    async def cluster_size(self, info: strawberry.Info) -> int:
        from resolvers.risk import cluster_size

        return await cluster_size(info, self.player_id)

    @strawberry.field(description="The player's flags for review, newest first (the last 50).")  # type: ignore[untyped-decorator]
    async def flags(self, info: strawberry.Info) -> list[RiskFlag]:
        from resolvers.risk import player_flags

        return await player_flags(info, self.player_id)

    @strawberry.field(description="The other accounts of the cluster, each with what links it.")  # type: ignore[untyped-decorator]
    async def linked_players(self, info: strawberry.Info) -> list[LinkedPlayer]:
        from resolvers.risk import linked_players

        return await linked_players(info, self.player_id)

    @strawberry.field(description="The score (0-100) with its reasons, biggest first.")  # type: ignore[untyped-decorator]
    async def score(self, info: strawberry.Info) -> RiskScore:
        from resolvers.risk import player_score

        return await player_score(info, self.player_id)

    @strawberry.field(description="The restrictions in force, oldest first.")  # type: ignore[untyped-decorator]
    async def restrictions(self, info: strawberry.Info) -> list[RiskRestriction]:
        from resolvers.risk import player_restrictions

        return await player_restrictions(info, self.player_id)


@strawberry.type(description="An entry of a block or watch list.")
class RiskListEntry(relay.Node):
    id: relay.NodeID[str]
    list: ListName
    kind: EntryKind
    value: str
    reason: str
    all_brands: bool = strawberry.field(description="Applies to every brand (added by staff of every brand)")
    added_by: uuid.UUID | None
    added_at: datetime
    expires_at: datetime | None
    removed_at: datetime | None

    @classmethod
    def from_model(cls, entry: EntryRow) -> RiskListEntry:
        return cls(
            id=str(entry.id),
            list=ListName(entry.list),
            kind=EntryKind(entry.kind),
            value=entry.value,
            reason=entry.reason,
            all_brands=entry.brand_id is None,
            added_by=entry.added_by,
            added_at=entry.added_at,
            expires_at=entry.expires_at,
            removed_at=entry.removed_at,
        )


@strawberry.input
class AddRiskListEntryInput:
    list: ListName
    kind: EntryKind
    value: str = text(320)
    reason: str = text(REASON)
    expires_at: datetime | None = strawberry.field(default=None, description="None: until removed")


@strawberry.input
class RemoveRiskListEntryInput:
    entry_id: relay.GlobalID
    reason: str = text(REASON)


@strawberry.type
class RiskListEntryPayload:
    entry: RiskListEntry | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# ---- rules ----------------------------------------------------------------------------------------


@strawberry.type(description="An action a rule takes when it hits.")
class RiskRuleAction:
    kind: ActionKind
    level: str | None = strawberry.field(description="REQUIRE_KYC_LEVEL: the level")
    psps: list[str] | None = strawberry.field(description="ROUTE_PSPS: the PSPs")


@strawberry.type(description="A risk rule as data: what it looks at, its parameters, its points and actions.")
class RiskRule:
    id: strawberry.ID
    code: str
    name: str
    kind: RuleKind
    params: JSON = strawberry.field(description="The kind's parameters (docs/risk.md)")
    points: int = strawberry.field(description="Its score contribution, 0 to 100")
    actions: list[RiskRuleAction]
    all_brands: bool = strawberry.field(description="Applies to every brand (else to the staff's brand only)")
    enabled: bool
    version: int = strawberry.field(description="1 at creation, one more with each change")
    updated_at: datetime
    updated_by: uuid.UUID | None = strawberry.field(description="The staff member (null: the defaults or the CLI)")
    inline: bool = strawberry.field(
        description="Evaluated in the decision's transaction (registration, deposit, withdrawal, bonus claim); "
        "false: on the event stream"
    )

    @classmethod
    def from_model(cls, rule: RuleRow) -> RiskRule:
        kind = RuleKind(rule.kind)
        return cls(
            id=strawberry.ID(str(rule.id)),
            code=rule.code,
            name=rule.name,
            kind=kind,
            params=JSON(rule.params),
            points=rule.points,
            actions=[
                RiskRuleAction(kind=ActionKind(a["kind"]), level=a.get("level"), psps=a.get("psps"))
                for a in rule.actions
            ],
            all_brands=rule.brand_id is None,
            enabled=rule.enabled,
            version=rule.version,
            updated_at=rule.updated_at,
            updated_by=rule.updated_by,
            inline=kind in INLINE_KINDS,
        )


@strawberry.input(description="An action a rule takes: KYC level with REQUIRE_KYC_LEVEL, PSPs with ROUTE_PSPS.")
class RiskRuleActionInput:
    kind: ActionKind
    level: str | None = text(32, default=None)
    psps: list[str] | None = None


@strawberry.input
class CreateRiskRuleInput:
    code: str = text(64, description="Lower-case letters, digits and dashes; unique")
    name: str = text(TITLE)
    kind: RuleKind
    params: JSON = strawberry.field(description="The kind's parameters, checked as the defaults are")
    points: int
    actions: list[RiskRuleActionInput]
    reason: str = text(REASON)
    enabled: bool = True


@strawberry.input(description="Change a rule; a field left out stays as it is (version + 1, audited).")
class UpdateRiskRuleInput:
    code: str = text(64)
    reason: str = text(REASON)
    name: str | None = text(TITLE, default=None)
    params: JSON | None = strawberry.field(default=None, description="The whole parameters object")
    points: int | None = None
    actions: list[RiskRuleActionInput] | None = strawberry.field(default=None, description="The whole list")
    enabled: bool | None = None
    version: int | None = strawberry.field(
        default=None,
        description="The version the change was made on: refused INVALID_STATE when the rule changed since "
        "(None: whatever the rule is now)",
    )


@strawberry.type
class RiskRulePayload:
    rule: RiskRule | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# ---- staff's actions and the queue -----------------------------------------------------------------


@strawberry.input(description="Impose a restriction on a player (not FLAG_REVIEW or HOLD_DEPOSIT).")
class ImposeRiskActionInput:
    player_id: relay.GlobalID
    kind: ActionKind
    reason: str = text(REASON)
    level: str | None = text(32, default=None, description="REQUIRE_KYC_LEVEL: the level")
    psps: list[str] | None = strawberry.field(default=None, description="ROUTE_PSPS: the PSPs")
    expires_at: datetime | None = strawberry.field(default=None, description="None: until lifted")


@strawberry.input
class LiftRiskActionInput:
    action_id: strawberry.ID = strawberry.field(description="RiskRestriction.id")
    reason: str = text(REASON)


@strawberry.type
class RiskRestrictionPayload:
    restriction: RiskRestriction | None = None
    released_withdrawals: int = strawberry.field(
        default=0, description="Withdrawals a lifted hold let go on (approved, or on to finance)"
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReviewRiskFlagInput:
    flag_id: strawberry.ID = strawberry.field(description="RiskFlag.id")
    verdict: Verdict
    note: str = text(REASON)


@strawberry.type
class RiskFlagPayload:
    flag: RiskFlag | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A flag of the risk queue with its player's score when the page was read.")
class RiskQueueEntry:
    flag: RiskFlag
    score: int = strawberry.field(description="The player's score (0 for a flag without a player)")
