"""Staff and audit types, inputs and payloads."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import audit as audit_models
from models import staff as m
from schema.auth import AuthTokens
from schema.base import UserError
from schema.brands import Brand
from schema.context import Info
from schema.input_limits import EMAIL, PASSWORD, REASON, TITLE, text

strawberry.enum(m.Role, name="StaffRoleName")


StaffStatus = m.StaffStatus
strawberry.enum(m.StaffStatus, name="StaffStatus")


@strawberry.type
class StaffRoleAssignment:
    role: m.Role
    brand_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="Null: the role holds in every brand.")  # type: ignore[untyped-decorator]
    async def brand(self, info: Info) -> Brand | None:
        if self.brand_id is None:
            return None
        brand = await info.context.loaders.brand.load(self.brand_id)
        return Brand.from_model(brand) if brand else None


@strawberry.type
class StaffUser(relay.Node):
    id: relay.NodeID[str]
    email: str | None
    display_name: str | None
    status: StaffStatus | None
    created_at: datetime | None

    @classmethod
    def from_model(cls, staff: m.StaffUser) -> StaffUser:
        return cls(
            id=str(staff.id),
            email=staff.email,
            display_name=staff.display_name,
            status=StaffStatus(staff.status),
            created_at=staff.created_at,
        )

    @strawberry.field
    async def roles(self, info: Info) -> list[StaffRoleAssignment] | None:
        grants = await info.context.loaders.staff_roles.load(uuid.UUID(self.id))
        scope = info.context.viewer.brand_id
        # A brand-scoped viewer sees a colleague's grants in that brand (and global ones), not elsewhere.
        visible = [g for g in grants if scope is None or g.brand_id in (None, scope)]
        return [StaffRoleAssignment(role=m.Role(g.role), brand_id=g.brand_id) for g in visible]


@strawberry.input
class RoleGrantInput:
    role: m.Role
    brand: str | None = strawberry.field(default=None, description="Brand code; null for every brand")


@strawberry.input
class StaffLoginInput:
    email: str = text(EMAIL)
    password: str = text(PASSWORD)
    totp_code: str


@strawberry.type
class StaffLoginPayload:
    staff: StaffUser | None = None
    tokens: AuthTokens | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateStaffUserInput:
    email: str = text(EMAIL)
    display_name: str = text(TITLE)
    password: str = text(PASSWORD)
    roles: list[RoleGrantInput]


@strawberry.type
class CreateStaffUserPayload:
    staff: StaffUser | None = None
    totp_provisioning_uri: str | None = strawberry.field(
        default=None, description="Shown once: hand it to the new staff member to enrol their authenticator."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetStaffRolesInput:
    staff_id: strawberry.ID
    roles: list[RoleGrantInput]
    reason: str = text(REASON)


@strawberry.type
class SetStaffRolesPayload:
    staff: StaffUser | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetStaffStatusInput:
    staff_id: strawberry.ID
    status: StaffStatus
    reason: str = text(REASON)


@strawberry.type
class SetStaffStatusPayload:
    staff: StaffUser | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="One append-only audit record; `hash` chains it to the record before.")
class AuditRecord(relay.Node):
    id: relay.NodeID[str]
    seq: int
    at: datetime
    actor_type: str
    actor_id: str | None
    action: str
    target_type: str | None
    target_id: str | None
    reason: str | None
    ip: str | None
    request_id: str | None
    before: JSON | None
    after: JSON | None
    prev_hash: str
    hash: str

    @classmethod
    def from_model(cls, record: audit_models.AuditRecord) -> AuditRecord:
        return cls(
            id=str(record.seq),
            seq=record.seq,
            at=record.at,
            actor_type=record.actor_type,
            actor_id=str(record.actor_id) if record.actor_id else None,
            action=record.action,
            target_type=record.target_type,
            target_id=record.target_id,
            reason=record.reason,
            ip=record.ip,
            request_id=record.request_id,
            before=JSON(record.before),
            after=JSON(record.after),
            prev_hash=record.prev_hash,
            hash=record.hash,
        )


@strawberry.input
class AuditFilter:
    actor_id: strawberry.ID | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
