"""KYC document types, inputs and payloads: what players upload and see, and what KYC officers review."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from models import kyc_documents as m
from schema.base import UserError
from schema.input_limits import REASON, text
from services.kyc.documents_review import Decision

if TYPE_CHECKING:
    from schema.players import Player

strawberry.enum(m.DocumentKind, name="KycDocumentKind")
strawberry.enum(
    m.DocumentStatus,
    name="KycDocumentStatus",
    description="PENDING review, APPROVED (until its expiry), REJECTED (the reason says why), EXPIRED",
)
strawberry.enum(Decision, name="KycDocumentDecision")


@strawberry.type(description="A document a player uploaded for KYC: its metadata and review, never its bytes.")
class KycDocument(relay.Node):
    id: relay.NodeID[str]
    kind: m.DocumentKind
    status: m.DocumentStatus
    mime_type: str = strawberry.field(description="Sniffed from the file's bytes (not its name)")
    size_bytes: int
    pages: int | None = strawberry.field(description="PDFs: the page count")
    sha256: str = strawberry.field(description="SHA-256 of the file, hex")
    uploaded_at: datetime
    decided_at: datetime | None
    expires_at: datetime | None = strawberry.field(description="Set on approval: when the document stops counting")
    reason: str | None = strawberry.field(description="The KYC officer's reason for the decision (the player sees it)")
    player_id: strawberry.Private[str]
    brand_id: strawberry.Private[str]

    @strawberry.field(description="The player who uploaded it (KYC staff).")  # type: ignore[untyped-decorator]
    async def player(self, info: strawberry.Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.kyc_documents import document_player

        return await document_player(info, self.player_id)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="A short-lived link to the file's content for this KYC officer (each read is audited): "
        "images display inline, PDFs in an iframe or object."
    )
    async def content_url(self, info: strawberry.Info) -> str | None:
        from resolvers.kyc_documents import content_url

        return await content_url(info, self.id, self.brand_id)

    @classmethod
    def from_model(cls, row: m.KycDocument) -> KycDocument:
        return cls(
            id=str(row.id),
            kind=m.DocumentKind(row.kind),
            status=m.DocumentStatus(row.status),
            mime_type=row.mime_type,
            size_bytes=row.size_bytes,
            pages=row.pages,
            sha256=row.sha256,
            uploaded_at=row.uploaded_at,
            decided_at=row.decided_at,
            expires_at=row.expires_at,
            reason=row.reason,
            player_id=str(row.player_id),
            brand_id=str(row.brand_id),
        )


@strawberry.type(description="A document a KYC officer asked the player for; the next upload of its kind answers it.")
class KycDocumentRequest:
    id: strawberry.ID
    kind: m.DocumentKind
    reason: str
    requested_at: datetime
    fulfilled_at: datetime | None

    @classmethod
    def from_model(cls, row: m.KycDocumentRequest) -> KycDocumentRequest:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=m.DocumentKind(row.kind),
            reason=row.reason,
            requested_at=row.requested_at,
            fulfilled_at=row.fulfilled_at,
        )


@strawberry.type(description="Send one file's bytes to `url` (PUT or POST, the bytes as the body) before `expiresAt`.")
class KycUploadLink:
    url: str
    expires_at: datetime
    max_bytes: int


@strawberry.input(description="One file, sent as a GraphQL multipart request (the `file` variable).")
class UploadKycDocumentInput:
    kind: m.DocumentKind
    file: Upload


@strawberry.input
class CreateKycUploadLinkInput:
    kind: m.DocumentKind


@strawberry.input
class ReviewKycDocumentInput:
    document_id: strawberry.ID
    decision: Decision
    reason: str = text(REASON)
    expires_at: datetime | None = strawberry.field(
        default=None, description="Approvals: when the document stops counting (e.g. the ID card's expiry)"
    )


@strawberry.input
class RequestKycDocumentInput:
    player_id: strawberry.ID
    kind: m.DocumentKind
    reason: str = text(REASON)


@strawberry.type
class KycDocumentPayload:
    document: KycDocument | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class KycUploadLinkPayload:
    link: KycUploadLink | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class KycDocumentRequestPayload:
    request: KycDocumentRequest | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
