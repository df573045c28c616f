"""KYC documents (services/kyc/documents*.py): uploads, decisions, requests, expiries. Ids, kinds and codes
only: no file bytes, no digest, no file name, and the officer's reason stays inside the platform."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import OPTIONAL_TIME, TIME, UUID, EventType, obj, one_of

KIND = one_of("identity", "address", "source_of_funds", "selfie", "other")
DOCUMENT: dict[str, Any] = {"document_id": UUID, "player_id": UUID, "kind": KIND}

TYPES = (
    EventType(
        "kyc.document_uploaded",
        1,
        "A player uploaded a document (a new file; the same bytes again are the same document, no event).",
        obj(
            {
                **DOCUMENT,
                "mime_type": one_of("application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic"),
                "size_bytes": {"type": "integer", "minimum": 1},
                "pages": {"type": ["integer", "null"], "minimum": 1, "description": "PDFs: the page count"},
            }
        ),
    ),
    EventType(
        "kyc.document_reviewed",
        1,
        "A KYC officer approved (with the document's expiry, if any) or rejected a document.",
        obj(
            {
                **DOCUMENT,
                "status": one_of("approved", "rejected"),
                "expires_at": OPTIONAL_TIME,
                "by": one_of("staff"),
            }
        ),
    ),
    EventType(
        "kyc.document_requested",
        1,
        "A KYC officer asked the player for a document of a kind (the player's next upload of it answers).",
        obj({"request_id": UUID, "player_id": UUID, "kind": KIND, "by": one_of("staff")}),
    ),
    EventType(
        "kyc.document_expired",
        1,
        "An approved document reached its expiry: it no longer counts, and the player is due to re-verify.",
        obj({**DOCUMENT, "expired_at": TIME}),
    ),
)
