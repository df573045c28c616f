"""KYC types, inputs and payloads: a player's verification (`Player.kyc`), the officers' queue and decisions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from models import kyc as m
from models.kyc_idv import IdvApplicant
from schema.base import UserError
from schema.input_limits import REASON, text
from services.kyc.idv.applicants import refusal
from services.kyc.view import Overview

if TYPE_CHECKING:
    from schema.players import Player

KycStatus = m.KycStatus
strawberry.enum(
    m.KycStatus,
    name="KycStatus",
    description="VERIFIED (at the level required), ACTION_REQUIRED (the player must act), PENDING_REVIEW "
    "(an officer or a screening decides), RESTRICTED (staff restricted the account pending review)",
)


@strawberry.type(description="A requirement of the next level the player does not meet yet.")
class KycStep:
    requirement: str = strawberry.field(
        description="document:identity, document:address, document:source_of_funds, provider_check, "
        "screening_clear or officer_approval"
    )
    next_step: str
    player_can_act: bool


@strawberry.type(description="The player's identity check at the verification provider (its hosted flow).")
class KycVerification:
    provider: str
    status: str = strawberry.field(
        description="At the provider: init (not submitted), pending (being reviewed), on_hold, completed"
    )
    review_answer: str | None = strawberry.field(description="The result applied last: GREEN (passed) or RED")
    reject_type: str | None = strawberry.field(description="RED only: RETRY (may try again) or FINAL")
    reject_labels: list[str]
    can_start: bool = strawberry.field(description="Whether kycStartVerification would hand out a link now")
    reviewed_at: datetime | None = strawberry.field(description="The provider's time of the result applied last")
    updated_at: datetime

    @classmethod
    def from_model(cls, applicant: IdvApplicant) -> KycVerification:
        return cls(
            provider=applicant.provider,
            status=applicant.status,
            review_answer=applicant.review_answer,
            reject_type=applicant.reject_type,
            reject_labels=list(applicant.reject_labels),
            can_start=refusal(applicant) is None,
            reviewed_at=applicant.reviewed_at,
            updated_at=applicant.updated_at,
        )


@strawberry.type(description="A player's verification: level, the level required and why, and what comes next.")
class Kyc:
    level: str
    required_level: str
    status: KycStatus
    levels: list[str] = strawberry.field(description="The levels of the player's profile, lowest first")
    next_level: str | None = strawberry.field(description="The level being worked towards (null: none required)")
    next_steps: list[KycStep]
    reason: JSON | None = strawberry.field(
        description="What required the level: {trigger, threshold, figure, currency, window_days…}"
    )
    requested: str | None = strawberry.field(description="What a KYC officer asked the player for")
    restricted: bool
    high_risk: bool
    updated_at: datetime
    verification: KycVerification | None = strawberry.field(
        description="The identity check at the verification provider (null: not started)"
    )

    @classmethod
    def of(cls, view: Overview) -> Kyc:
        state = view.state
        return cls(
            level=state.level,
            required_level=state.required_level,
            status=view.status,
            levels=list(view.levels),
            next_level=view.next_level,
            next_steps=[
                KycStep(requirement=x.requirement, next_step=x.next_step, player_can_act=x.player_can_act)
                for x in view.missing
            ],
            reason=JSON(view.reason) if view.reason else None,
            requested=view.requested,
            restricted=state.restricted,
            high_risk=state.high_risk,
            updated_at=state.updated_at,
            verification=KycVerification.from_model(view.verification) if view.verification else None,
        )


@strawberry.type(description="A player in the KYC officers' queue.")
class KycCase:
    level: str
    required_level: str
    required_trigger: str | None
    status: KycStatus
    high_risk: bool
    updated_at: datetime
    player_id: strawberry.Private[str]

    @strawberry.field
    async def player(self, info: strawberry.Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.kyc import case_player

        return await case_player(info, self.player_id)

    @classmethod
    def from_model(cls, state: m.KycState) -> KycCase:
        return cls(
            level=state.level,
            required_level=state.required_level,
            required_trigger=state.required_trigger,
            status=KycStatus(state.status),
            high_risk=state.high_risk,
            updated_at=state.updated_at,
            player_id=str(state.player_id),
        )


@strawberry.input
class KycLevelDecisionInput:
    player_id: strawberry.ID
    level: str = text(32)
    reason: str = text(REASON)


@strawberry.input
class KycRequestMoreInput:
    player_id: strawberry.ID
    level: str = text(32)
    what: str = text(REASON, description="What the player must provide (shown to them)")


@strawberry.input
class KycRequireLevelInput:
    player_id: strawberry.ID
    level: str = text(32)
    reason: str = text(REASON)


@strawberry.input
class KycRestrictionInput:
    player_id: strawberry.ID
    reason: str = text(REASON)


@strawberry.input
class KycHighRiskInput:
    player_id: strawberry.ID
    high_risk: bool
    reason: str = text(REASON)


@strawberry.input
class KycProviderCheckInput:
    player_id: strawberry.ID
    provider: str = text(32)
    passed: bool
    reference: str | None = text(100, default=None)


@strawberry.type
class KycPayload:
    kyc: Kyc | None = None
    awaiting_second_approval: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class KycStartVerificationInput:
    lang: str | None = text(
        2, default=None, description="The hosted flow's language, ISO 639-1 (en, de, …); the provider's default if null"
    )


@strawberry.type
class KycStartVerificationPayload:
    url: str | None = strawberry.field(default=None, description="The provider's hosted flow, for the player's browser")
    verification: KycVerification | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
