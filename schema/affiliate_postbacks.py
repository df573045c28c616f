"""Affiliate postback types (staff): a partner's configs and signing secret, the delivery log with every
attempt, and the inputs and payloads of the configs, the secret's rotation and "retry now"."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from models import affiliate_postbacks as m
from schema.base import UserError
from schema.context import Info
from schema.input_limits import REASON, text

AffiliatePostbackTrigger = m.PostbackTrigger
strawberry.enum(
    m.PostbackTrigger,
    name="AffiliatePostbackTrigger",
    description="registration: an attributed player registered; first_deposit: their first credited deposit; "
    "qualification: their CPA qualified.",
)
AffiliatePostbackMethod = m.PostbackMethod
strawberry.enum(
    m.PostbackMethod, name="AffiliatePostbackMethod", description="GET, or POST with the macros' values as JSON too."
)
AffiliatePostbackStatus = m.DeliveryStatus
strawberry.enum(
    m.DeliveryStatus,
    name="AffiliatePostbackStatus",
    description="pending: waits for its next try; sending: a try is under way; delivered: answered 2xx, never "
    "sent again; failed: every try failed (retry it to send it again).",
)


async def _partner_code(info: Info, affiliate_id: uuid.UUID) -> str | None:
    return await info.context.loaders.affiliate_postbacks.partner_code.load(affiliate_id)


@strawberry.type(description="Where and how a partner hears of one kind of event.")
class AffiliatePostbackConfig(relay.Node):
    id: relay.NodeID[str]
    affiliate_id: uuid.UUID
    brand_id: uuid.UUID | None = strawberry.field(description="null: every brand the partner works with")
    trigger: AffiliatePostbackTrigger
    method: AffiliatePostbackMethod
    url_template: str = strawberry.field(
        description="The partner's URL with macros: {click_id} {sub1}…{sub5} {player_ref} {event} {amount} "
        "{currency} {event_id}"
    )
    active: bool
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The partner's code.")  # type: ignore[untyped-decorator]
    async def partner_code(self, info: Info) -> str | None:
        return await _partner_code(info, self.affiliate_id)

    @classmethod
    def from_model(cls, config: m.AffiliatePostbackConfig) -> AffiliatePostbackConfig:
        return cls(
            id=str(config.id),
            affiliate_id=config.affiliate_id,
            brand_id=config.brand_id,
            trigger=m.PostbackTrigger(config.trigger),
            method=m.PostbackMethod(config.method),
            url_template=config.url_template,
            active=config.active,
            created_at=config.created_at,
            updated_at=config.updated_at,
        )


@strawberry.type(description="A partner's signing secret, as staff see it after it was shown once.")
class AffiliatePostbackSecret:
    affiliate_id: uuid.UUID
    fingerprint: str = strawberry.field(description="Its first characters, to tell secrets apart")
    rotated_at: datetime


@strawberry.type(description="One try of a postback.")
class AffiliatePostbackAttempt:
    attempt: int
    started_at: datetime
    latency_ms: int
    http_status: int | None = strawberry.field(description="null: no answer (time-out, connection refused)")
    succeeded: bool
    error: str | None

    @classmethod
    def from_model(cls, row: m.AffiliatePostbackAttempt) -> AffiliatePostbackAttempt:
        return cls(
            attempt=row.attempt,
            started_at=row.started_at,
            latency_ms=row.latency_ms,
            http_status=row.http_status,
            succeeded=row.succeeded,
            error=row.error,
        )


@strawberry.type(description="One postback to send: a config and an event, with its tries.")
class AffiliatePostbackDelivery(relay.Node):
    id: relay.NodeID[str]
    config_id: uuid.UUID
    affiliate_id: uuid.UUID
    event_id: int = strawberry.field(description="The outbox event it announces (the partner's idempotency key)")
    trigger: AffiliatePostbackTrigger
    method: AffiliatePostbackMethod
    url: str | None = strawberry.field(
        description="The URL as rendered at the event (no personal data; null: not for the viewer's roles)"
    )
    status: AffiliatePostbackStatus
    attempts: int
    max_attempts: int
    event_at: datetime
    next_attempt_at: datetime | None = strawberry.field(description="The next try (pending ones)")
    delivered_at: datetime | None
    last_error: str | None
    created_at: datetime

    @strawberry.field(description="The partner's code.")  # type: ignore[untyped-decorator]
    async def partner_code(self, info: Info) -> str | None:
        return await _partner_code(info, self.affiliate_id)

    @strawberry.field(description="Every try, first first.")  # type: ignore[untyped-decorator]
    async def tries(self, info: Info) -> list[AffiliatePostbackAttempt]:
        rows = await info.context.loaders.affiliate_postbacks.attempts.load(uuid.UUID(self.id))
        return [AffiliatePostbackAttempt.from_model(r) for r in rows]

    @classmethod
    def from_model(cls, row: m.AffiliatePostbackDelivery) -> AffiliatePostbackDelivery:
        return cls(
            id=str(row.id),
            config_id=row.config_id,
            affiliate_id=row.affiliate_id,
            event_id=row.event_id,
            trigger=m.PostbackTrigger(row.trigger),
            method=m.PostbackMethod(row.method),
            url=row.url,
            status=m.DeliveryStatus(row.status),
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            event_at=row.event_at,
            next_attempt_at=row.next_attempt_at if row.status == m.DeliveryStatus.PENDING else None,
            delivered_at=row.delivered_at,
            last_error=row.last_error,
            created_at=row.created_at,
        )


@strawberry.input
class CreateAffiliatePostbackConfigInput:
    partner_code: str = text(40)
    trigger: AffiliatePostbackTrigger
    url_template: str = text(2000)
    method: AffiliatePostbackMethod = m.PostbackMethod.GET
    brand_code: str | None = text(40, default=None, description="null: every brand of the partner")


@strawberry.input
class UpdateAffiliatePostbackConfigInput:
    config_id: relay.GlobalID
    url_template: str | None = text(2000, default=None)
    method: AffiliatePostbackMethod | None = None
    active: bool | None = None


@strawberry.input
class RotateAffiliatePostbackSecretInput:
    partner_code: str = text(40)
    reason: str = text(REASON)


@strawberry.input
class RetryAffiliatePostbackInput:
    delivery_id: relay.GlobalID


@strawberry.type
class AffiliatePostbackConfigPayload:
    config: AffiliatePostbackConfig | None = None
    secret: str | None = strawberry.field(
        default=None, description="The partner's new signing secret, shown once (its first config only)"
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RotateAffiliatePostbackSecretPayload:
    secret: str | None = strawberry.field(default=None, description="The new signing secret, shown once")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RetryAffiliatePostbackPayload:
    delivery: AffiliatePostbackDelivery | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
