"""GraphQL types of CRM consent and suppression (services/crm/consents.py, services/crm/suppression.py).

Products and channels are strings (the lists are data: `consents.PRODUCTS`, `models.crm.Channel`), checked
by the service, which answers an unknown one with a payload error."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from models import crm as m
from schema.base import UserError
from services.crm.consents import Consent


@strawberry.type(description="A player's marketing consent for one product on one channel.")
class MarketingConsent:
    product: str = strawberry.field(description="casino, live_casino, sports or poker")
    channel: str = strawberry.field(description="email, sms, push or inbox")
    granted: bool = strawberry.field(description="Whether marketing of this product may reach the player this way")
    source: str = strawberry.field(
        description="Who set it: player, unsubscribe (a message's link), or registration (the sign-up default)"
    )
    changed_at: datetime | None = strawberry.field(description="When it was set; null for a sign-up default")

    @classmethod
    def of(cls, consent: Consent) -> MarketingConsent:
        return cls(
            product=consent.product,
            channel=consent.channel,
            granted=consent.granted,
            source=consent.source,
            changed_at=consent.changed_at,
        )


@strawberry.type(description="One refusal to reach a player with a message or an offer, with its reason.")
class CrmSuppression:
    id: strawberry.ID
    purpose: str = strawberry.field(description="message or offer")
    channel: str | None
    product: str
    reason: str = strawberry.field(
        description="ACCOUNT_CLOSED, SELF_EXCLUDED, REGISTER_HIT, TIMED_OUT, COOLING_OFF, JURISDICTION_FORBIDS, "
        "NO_CONSENT or UNSUBSCRIBED"
    )
    source_kind: str = strawberry.field(description="What asked: a journey, a staff send, the sender, crm-suppression")
    source_id: uuid.UUID | None
    message_id: uuid.UUID | None
    at: datetime

    @classmethod
    def from_model(cls, row: m.CrmSuppression) -> CrmSuppression:
        return cls(
            id=strawberry.ID(str(row.id)),
            purpose=row.purpose,
            channel=row.channel,
            product=row.product,
            reason=row.reason,
            source_kind=row.source_kind,
            source_id=row.source_id,
            message_id=row.message_id,
            at=row.at,
        )


@strawberry.input(description="One consent to set.")
class ConsentInput:
    product: str
    channel: str
    granted: bool


@strawberry.input
class SetConsentsInput:
    consents: list[ConsentInput] = strawberry.field(description="The consents to change; the others stay as they are")


@strawberry.type
class SetConsentsPayload:
    consents: list[MarketingConsent] | None = strawberry.field(default=None, description="Every consent, after")
    errors: list[UserError] = strawberry.field(default_factory=list)
