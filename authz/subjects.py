"""Who is asking: the viewer of a request, and where the request came from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

SubjectKind = Literal["anonymous", "player", "staff", "system", "affiliate"]


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None = None
    country: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    device_id: str | None = None  # the frontend's `X-Device-Id` header, as sent (services/risk/signals.py checks it)


@dataclass(frozen=True)
class Viewer:
    kind: SubjectKind = "anonymous"
    id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    # Players: their own brand. Staff: the brand the request is scoped to, or None for all brands
    # (only staff whose roles are global get that).
    brand_id: uuid.UUID | None = None
    brand_code: str = "*"
    roles: frozenset[str] = field(default_factory=lambda: frozenset({"anonymous"}))
    meta: RequestMeta = field(default_factory=RequestMeta)
    expires_at: datetime | None = None  # the access token's expiry (long-lived subscriptions check it)
    # Affiliates: `id` is the partner's; this is the portal user signed in (None for an API token, whose id
    # is then `session_id`: services/affiliates/portal_auth.py).
    affiliate_user_id: uuid.UUID | None = None

    @property
    def is_player(self) -> bool:
        return self.kind == "player"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_affiliate(self) -> bool:
        return self.kind == "affiliate"

    @property
    def actor_type(self) -> str:
        return self.kind

    def with_meta(self, meta: RequestMeta) -> Viewer:
        return replace(self, meta=meta)


ANONYMOUS = Viewer()
# The platform itself (CLI, seeding): acts with superadmin rights, audited as "system".
SYSTEM = Viewer(kind="system", roles=frozenset({"superadmin"}))
