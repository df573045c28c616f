"""Affiliate fraud for staff: flagged sub-ids with their evidence and CPAs, and their review
(services/affiliates/fraud_review.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from models.affiliate_fraud import SubIdFlagStatus
from schema.base import Money, UserError, to_global_id
from schema.input_limits import REASON, text
from services.affiliates.fraud_review import FlaggedSubId, SubIdCpa, Verdict

if TYPE_CHECKING:
    from schema.players import Player

strawberry.enum(
    SubIdFlagStatus,
    name="AffiliateSubIdFlagStatus",
    description="OPEN (its CPAs withheld, waiting for review), CLEARED (a false positive) or CONFIRMED (fraud)",
)
strawberry.enum(
    Verdict,
    name="AffiliateSubIdVerdict",
    description="CLEARED: the withheld CPAs are qualified again; CONFIRMED: they are rejected",
)


async def _player(info: strawberry.Info, player_id: uuid.UUID) -> Player | None:
    from resolvers.risk import linked_player

    return await linked_player(info, player_id)


@strawberry.type(description="A player the evidence names, and what the check saw about them.")
class AffiliateFraudPlayer:
    player_id: strawberry.ID = strawberry.field(description="The player's global id (Player.id)")
    detail: str = strawberry.field(description="Their cluster and shared signal kinds, a masked device, or days")
    uuid: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The player (null when the viewer may not read them).")  # type: ignore[untyped-decorator]
    async def player(self, info: strawberry.Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        return await _player(info, self.uuid)


@strawberry.type(description="What one check found on the sub-id.")
class AffiliateFraudEvidence:
    reason: str = strawberry.field(
        description="linked_accounts, one_device, deposit_and_leave or withheld_unreviewed (docs/affiliate-fraud.md)"
    )
    detail: str
    players: list[AffiliateFraudPlayer] = strawberry.field(description="At most 200 per reason")


@strawberry.type(description="A CPA of one of the flagged sub-id's players.")
class AffiliateSubIdCpa:
    player_id: strawberry.ID = strawberry.field(description="The player's global id (Player.id)")
    status: str = strawberry.field(description="qualified, withheld or rejected")
    amount: Money
    qualified_at: datetime
    reason: str | None = strawberry.field(description="Why it is withheld or rejected")
    reviewed_at: datetime | None

    @classmethod
    def of(cls, cpa: SubIdCpa) -> AffiliateSubIdCpa:
        return cls(
            player_id=strawberry.ID(str(to_global_id("Player", cpa.player_id))),
            status=cpa.status,
            amount=Money.of(cpa.amount, cpa.currency),
            qualified_at=cpa.qualified_at,
            reason=cpa.reason,
            reviewed_at=cpa.reviewed_at,
        )


@strawberry.type(description="A partner's sub-id flagged for fraud: its players' CPAs are withheld until reviewed.")
class AffiliateSubIdFlag:
    id: strawberry.ID
    affiliate_code: str = strawberry.field(description="The partner's code")
    sub_id: str = strawberry.field(description="The partner's sub-id ('' for the players it sent without one)")
    status: str = strawberry.field(description="open, cleared or confirmed")
    reasons: list[str]
    player_count: int = strawberry.field(description="How many players the evidence names")
    withheld: int = strawberry.field(description="The sub-id's CPAs withheld (last counted by the flag)")
    raised_at: datetime
    reviewed_at: datetime | None
    review_note: str | None
    released: int | None = strawberry.field(description="Cleared: the CPAs qualified again")
    rejected: int | None = strawberry.field(description="Confirmed: the CPAs rejected")
    evidence_data: strawberry.Private[dict[str, Any]]
    flag: strawberry.Private[FlaggedSubId]

    @strawberry.field(description="What each check found, with the players it names.")  # type: ignore[untyped-decorator]
    def evidence(self) -> list[AffiliateFraudEvidence]:
        return [
            AffiliateFraudEvidence(
                reason=reason,
                detail=entry["detail"],
                players=[
                    AffiliateFraudPlayer(
                        player_id=strawberry.ID(str(to_global_id("Player", p["player_id"]))),
                        detail=p["detail"],
                        uuid=uuid.UUID(p["player_id"]),
                    )
                    for p in entry["players"]
                ],
            )
            for reason, entry in sorted(self.evidence_data.items())
        ]

    @strawberry.field(description="The CPAs of the sub-id's players, withheld first (at most 200).")  # type: ignore[untyped-decorator]
    async def cpas(self, info: strawberry.Info) -> list[AffiliateSubIdCpa]:
        from resolvers.affiliate_fraud import flag_cpas

        return await flag_cpas(info, self.flag)

    @classmethod
    def of(cls, found: FlaggedSubId) -> AffiliateSubIdFlag:
        flag = found.flag
        return cls(
            id=strawberry.ID(str(flag.id)),
            affiliate_code=found.affiliate_code,
            sub_id=flag.sub_id,
            status=flag.status,
            reasons=list(flag.reasons),
            player_count=len(flag.player_ids),
            withheld=flag.withheld,
            raised_at=flag.raised_at,
            reviewed_at=flag.reviewed_at,
            review_note=flag.review_note,
            released=flag.released,
            rejected=flag.rejected,
            evidence_data=dict(flag.evidence),
            flag=found,
        )


@strawberry.input
class ReviewAffiliateSubIdFlagInput:
    flag_id: strawberry.ID = strawberry.field(description="AffiliateSubIdFlag.id")
    verdict: Verdict
    note: str = text(REASON)


@strawberry.type
class AffiliateSubIdFlagPayload:
    flag: AffiliateSubIdFlag | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
