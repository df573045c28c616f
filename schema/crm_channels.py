"""CRM channel types: templates (marketing), the message log (staff), the inbox (a player's own), and the
inputs and payloads of saving a template, sending to a segment and marking an inbox message read."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import crm as m
from models.crm_channels import CrmTemplate as TemplateRow
from schema.base import UserError
from schema.input_limits import text

CrmChannel = m.Channel
strawberry.enum(
    m.Channel, name="CrmChannel", description="email: SMTP; sms and push: the provider's webhook; inbox: on-site."
)
CrmMessageStatus = m.MessageStatus
strawberry.enum(
    m.MessageStatus,
    name="CrmMessageStatus",
    description="queued: waits for its time or its next try; sent; failed (`reason`, `lastError`); suppressed: "
    "refused right before sending (`reason`: the suppression's code); cancelled: withdrawn while queued.",
)


@strawberry.type(description="A message template of a brand in one language (Jinja2, sandboxed).")
class CrmTemplate(relay.Node):
    id: relay.NodeID[str]
    brand_id: uuid.UUID
    key: str
    language: str
    subject: str
    body_html: str
    body_text: str
    version: int
    updated_at: datetime

    @classmethod
    def from_model(cls, row: TemplateRow) -> CrmTemplate:
        return cls(
            id=str(row.id),
            brand_id=row.brand_id,
            key=row.key,
            language=row.language,
            subject=row.subject,
            body_html=row.body_html,
            body_text=row.body_text,
            version=row.version,
            updated_at=row.updated_at,
        )


@strawberry.type(description="One message of the CRM log: its queueing, its outcome, its opens and clicks.")
class CrmMessage(relay.Node):
    id: relay.NodeID[str]
    brand_id: uuid.UUID
    player_id: uuid.UUID
    channel: CrmChannel
    product: str
    template: str
    language: str | None = strawberry.field(description="The template's language that was sent")
    status: CrmMessageStatus
    reason: str | None = strawberry.field(
        description="Why it was suppressed (SELF_EXCLUDED, NO_CONSENT, UNSUBSCRIBED, …), cancelled or failed "
        "(TEMPLATE_MISSING, RENDER_FAILED, NO_ADDRESS, NO_PROVIDER, DELIVERY_FAILED)"
    )
    source_kind: str = strawberry.field(description="Who queued it: journey, staff_send, …")
    source_id: uuid.UUID | None
    subject: str | None = strawberry.field(description="The subject sent")
    due_at: datetime
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    read_at: datetime | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: m.CrmMessage) -> CrmMessage:
        return cls(
            id=str(row.id),
            brand_id=row.brand_id,
            player_id=row.player_id,
            channel=m.Channel(row.channel),
            product=row.product,
            template=row.template,
            language=row.language,
            status=m.MessageStatus(row.status),
            reason=row.reason,
            source_kind=row.source_kind,
            source_id=row.source_id,
            subject=row.subject,
            due_at=row.due_at,
            attempts=row.attempts,
            last_error=row.last_error,
            sent_at=row.sent_at,
            opened_at=row.opened_at,
            clicked_at=row.clicked_at,
            read_at=row.read_at,
            created_at=row.created_at,
        )


@strawberry.type(description="A message in the player's on-site inbox.")
class InboxMessage(relay.Node):
    id: relay.NodeID[str]
    subject: str
    body_text: str
    body_html: str = strawberry.field(description="HTML rendered with every value escaped")
    sent_at: datetime
    read_at: datetime | None

    @classmethod
    def from_model(cls, row: m.CrmMessage) -> InboxMessage:
        assert row.sent_at is not None
        return cls(
            id=str(row.id),
            subject=row.subject or "",
            body_text=row.body_text or "",
            body_html=row.body_html or "",
            sent_at=row.sent_at,
            read_at=row.read_at,
        )


@strawberry.input
class CrmMessageFilter:
    status: CrmMessageStatus | None = None
    channel: CrmChannel | None = None
    player_id: strawberry.ID | None = text(80, default=None, description="The player's global id or UUID")
    source_kind: str | None = text(24, default=None)
    source_id: uuid.UUID | None = None
    reason: str | None = text(40, default=None)
    template: str | None = text(80, default=None)


@strawberry.input
class SaveCrmTemplateInput:
    brand_code: str | None = text(32, default=None, description="Staff of every brand name one; others: their own")
    key: str = text(80)
    language: str = text(8)
    subject: str = text(200)
    body_html: str = text(100_000)
    body_text: str = text(100_000)


@strawberry.input
class SendMessageInput:
    segment_id: strawberry.ID = text(80, description="The segment's global id or UUID")
    template: str = text(80)
    channel: CrmChannel
    product: str = text(24, description="casino, live_casino, sports, poker: the consent it needs")
    batch_key: str = text(80, description="The same key again queues nothing twice (members new since: theirs)")
    context: JSON | None = strawberry.field(default=None, description="Values the template reads (JSON object)")
    due_at: datetime | None = None


@strawberry.input
class MarkMessageReadInput:
    message_id: relay.GlobalID


@strawberry.type
class CrmTemplatePayload:
    template: CrmTemplate | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SendMessagePayload:
    batch_id: uuid.UUID | None = strawberry.field(default=None, description="The messages' sourceId in the log")
    members: int = 0
    queued: int = 0
    already_queued: int = strawberry.field(default=0, description="Members this batch had queued before")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MarkMessageReadPayload:
    message: InboxMessage | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
