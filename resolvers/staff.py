"""Staff and audit resolvers."""

from __future__ import annotations

import uuid

from sqlmodel import col

from core.errors import bad_input
from core.ids import uuid_of
from core.pagination import paginate
from models import audit as audit_models
from models import staff as m
from resolvers.audit import readable_topics
from resolvers.common import payload_errors, require_subject, set_auth_cookies
from schema.auth import AuthTokens
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.staff import (
    AuditFilter,
    AuditRecord,
    CreateStaffUserInput,
    CreateStaffUserPayload,
    RoleGrantInput,
    SetStaffRolesInput,
    SetStaffRolesPayload,
    SetStaffStatusInput,
    SetStaffStatusPayload,
    StaffLoginInput,
    StaffLoginPayload,
    StaffUser,
)
from services import audit, staff
from services.staff import RoleGrant


async def current_staff(info: Info) -> StaffUser | None:
    viewer = info.context.viewer
    if not viewer.is_staff or viewer.id is None:
        return None
    async with info.context.rt.database.session() as db:
        found = await db.get(m.StaffUser, viewer.id)
    return StaffUser.from_model(found) if found else None


async def list_staff(
    info: Info, first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None
) -> Connection[StaffUser]:
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            staff.readable_staff(info.context.viewer),
            (col(m.StaffUser.created_at), col(m.StaffUser.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, StaffUser.from_model)


def _actor_uuid(value: str) -> uuid.UUID:
    """Actors are staff or players: accept their global id, or the raw UUID the records show."""
    found = uuid_of(value, ("StaffUser", "Player"))
    if found is None:
        raise bad_input("`actorId` must be a staff or player id.", field="filter.actorId")
    return found


async def audit_log(
    info: Info,
    filter: AuditFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[AuditRecord]:
    where = audit.AuditFilter()
    if filter is not None:
        actor_id = _actor_uuid(str(filter.actor_id)) if filter.actor_id else None
        where = audit.AuditFilter(
            actor_id=actor_id,
            action=filter.action,
            target_type=filter.target_type,
            target_id=filter.target_id,
            since=filter.since,
            until=filter.until,
        )
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            audit.readable_records(info.context.viewer, where, topics=readable_topics(info)),
            (col(audit_models.AuditRecord.seq),),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, AuditRecord.from_model)


@payload_errors(StaffLoginPayload)
async def staff_login(info: Info, input: StaffLoginInput) -> StaffLoginPayload:
    found, tokens = await staff.login(
        info.context.rt,
        email=input.email,
        password=input.password,
        totp_code=input.totp_code,
        meta=info.context.viewer.meta,
    )
    set_auth_cookies(info, tokens)
    return StaffLoginPayload(staff=StaffUser.from_model(found), tokens=AuthTokens.from_issued(tokens))


async def _grants(info: Info, roles: list[RoleGrantInput]) -> list[RoleGrant]:
    async with info.context.rt.database.session() as db:
        return await staff.resolve_grants(db, [(r.role.value, r.brand) for r in roles])


@payload_errors(CreateStaffUserPayload)
async def create_staff_user(info: Info, input: CreateStaffUserInput) -> CreateStaffUserPayload:
    require_subject(info)
    created = await staff.create_staff(
        info.context.rt,
        info.context.viewer,
        email=input.email,
        display_name=input.display_name,
        password=input.password,
        grants=await _grants(info, input.roles),
    )
    return CreateStaffUserPayload(staff=StaffUser.from_model(created.staff), totp_provisioning_uri=created.totp_uri)


@payload_errors(SetStaffRolesPayload)
async def set_staff_roles(info: Info, input: SetStaffRolesInput) -> SetStaffRolesPayload:
    require_subject(info)
    updated = await staff.set_roles(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.staff_id, "StaffUser"),
        await _grants(info, input.roles),
        input.reason,
    )
    return SetStaffRolesPayload(staff=StaffUser.from_model(updated))


@payload_errors(SetStaffStatusPayload)
async def set_staff_status(info: Info, input: SetStaffStatusInput) -> SetStaffStatusPayload:
    require_subject(info)
    updated = await staff.set_status(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.staff_id, "StaffUser"),
        m.StaffStatus(input.status.value),
        input.reason,
    )
    return SetStaffStatusPayload(staff=StaffUser.from_model(updated))
