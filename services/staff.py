"""Back-office staff: creation, login with TOTP, roles per brand, status.

Invariants: every staff member has a TOTP secret from creation and cannot log in without a
current code; a code is accepted once (its time step is remembered); only a superadmin grants
roles in every brand or the superadmin role; a brand admin manages roles in their own brands
only; every change is in the audit log with before and after.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pyotp
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.passwords import hash_password, password_problem, verify_password
from authz.subjects import RequestMeta, Viewer
from core import prepared
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.prepared import Statement
from core.runtime import Runtime
from models.staff import PLATFORM_ROLES, STAFF_ROLES, StaffRole, StaffStatus, StaffUser
from services import audit, auth, brands
from services.auth import IssuedTokens
from services.players import normalise_email

TOTP_WINDOW = 1  # accept the previous and next 30 s step too (clock drift)


@dataclass(frozen=True)
class RoleGrant:
    role: str
    brand_id: uuid.UUID | None  # None: every brand


@dataclass(frozen=True)
class CreatedStaff:
    staff: StaffUser
    totp_uri: str


async def roles_of(db: AsyncSession, staff_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[RoleGrant]]:
    rows = (await db.scalars(select(StaffRole).where(col(StaffRole.staff_id).in_(staff_ids)))).all()
    grants: dict[uuid.UUID, list[RoleGrant]] = {sid: [] for sid in staff_ids}
    for row in rows:
        grants[row.staff_id].append(RoleGrant(row.role, row.brand_id))
    return grants


async def get_many(db: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, StaffUser]:
    rows = (await db.scalars(select(StaffUser).where(col(StaffUser.id).in_(ids)))).all()
    return {row.id: row for row in rows}


def readable_staff(viewer: Viewer) -> SelectOfScalar[StaffUser]:
    """Staff a viewer may list: all for global admins, else those holding a role in the brand."""
    stmt = select(StaffUser)
    if viewer.brand_id is not None:
        in_brand = select(col(StaffRole.staff_id)).where(col(StaffRole.brand_id) == viewer.brand_id)
        stmt = stmt.where(col(StaffUser.id).in_(in_brand))
    return stmt


def _check_grants(actor: Viewer, grants: Sequence[RoleGrant]) -> None:
    """Admins may only hand out what they govern."""
    for grant in grants:
        if grant.role not in STAFF_ROLES:
            raise DomainError(f"Unknown role {grant.role!r}.", field="roles")
        if grant.role in PLATFORM_ROLES and grant.brand_id is not None:
            raise DomainError(
                f"{grant.role} manages what every brand shares: grant it for every brand (no brand).", field="roles"
            )
        if actor.kind == "system" or "superadmin" in actor.roles:
            continue
        if grant.role == "superadmin" or grant.brand_id is None:
            raise DomainError(
                "Only a superadmin grants roles in every brand.", field="roles", code=ErrorCode.NOT_ALLOWED
            )
        if grant.brand_id != actor.brand_id:
            raise DomainError(
                "You can grant roles only in the brand you manage.", field="roles", code=ErrorCode.NOT_ALLOWED
            )


def _grants_json(grants: Sequence[RoleGrant]) -> list[dict[str, str | None]]:
    return sorted(
        ({"role": g.role, "brand_id": str(g.brand_id) if g.brand_id else None} for g in grants),
        key=lambda g: (g["role"] or "", g["brand_id"] or ""),
    )


async def create_staff(
    rt: Runtime, actor: Viewer, *, email: str, display_name: str, password: str, grants: Sequence[RoleGrant]
) -> CreatedStaff:
    email = normalise_email(email)
    if not display_name.strip():
        raise DomainError("Give a display name.", field="displayName")
    problem = password_problem(password)
    if problem:
        raise DomainError(problem, field="password", code=ErrorCode.WEAK_PASSWORD)
    if not grants:
        raise DomainError("Give the staff member at least one role.", field="roles")
    _check_grants(actor, grants)
    secret = pyotp.random_base32()
    password_hash = await hash_password(password)
    try:
        async with rt.database.transaction() as db:
            staff = StaffUser(
                email=email, display_name=display_name.strip(), password_hash=password_hash, totp_secret=secret
            )
            db.add(staff)
            await db.flush()
            for grant in grants:
                db.add(StaffRole(staff_id=staff.id, brand_id=grant.brand_id, role=grant.role))
            await db.flush()
            await audit.append(
                db,
                actor=actor,
                action="staff.created",
                target_type="staff",
                target_id=staff.id,
                brand_id=actor.brand_id,
                after={"email": email, "roles": _grants_json(grants)},
            )
    except IntegrityError as exc:
        raise DomainError(
            "A staff member with this email already exists.", field="email", code=ErrorCode.ALREADY_EXISTS
        ) from exc
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=rt.settings.staff_totp_issuer)
    return CreatedStaff(staff, uri)


def _totp_step(secret: str, code: str) -> int | None:
    """The time step the code belongs to, if it is valid now (within the drift window)."""
    totp = pyotp.TOTP(secret)
    now = clock.now()
    current = totp.timecode(now)
    code = code.strip().replace(" ", "")
    for offset in range(-TOTP_WINDOW, TOTP_WINDOW + 1):
        step = current + offset
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


async def login(
    rt: Runtime, *, email: str, password: str, totp_code: str, meta: RequestMeta
) -> tuple[StaffUser, IssuedTokens]:
    email = email.strip().lower()
    account_key = f"staff:{email}"
    from services.players import _check_login_rate

    await _check_login_rate(rt, meta.ip, account_key)
    async with rt.database.session() as db:
        staff = await db.scalar(select(StaffUser).where(col(StaffUser.email) == email))
    valid = await verify_password(staff.password_hash if staff else None, password)
    failure: ErrorCode | None = None
    if staff is None or not valid:
        failure = ErrorCode.INVALID_CREDENTIALS
    elif staff.status != StaffStatus.ACTIVE:
        failure = ErrorCode.ACCOUNT_BLOCKED
    async with rt.database.transaction() as db:
        if failure is None:
            assert staff is not None
            locked = await db.get(StaffUser, staff.id, with_for_update=True)
            assert locked is not None
            step = _totp_step(locked.totp_secret, totp_code)
            if step is None or step <= locked.totp_last_step:
                failure = ErrorCode.INVALID_TOTP
            else:
                locked.totp_last_step = step
                tokens = await auth.start_session(
                    db, rt, subject_type="staff", subject_id=locked.id, brand_id=None, meta=meta
                )
                await audit.append(
                    db,
                    actor=Viewer(kind="staff", id=locked.id, meta=meta),
                    action="staff.login",
                    target_type="session",
                    target_id=tokens.session_id,
                )
        if failure is not None:
            await audit.append(
                db,
                actor=Viewer(meta=meta),
                action="staff.login_failed",
                actor_id=staff.id if staff else None,
                target_type="staff",
                target_id=staff.id if staff else None,
                after={"email": email, "reason": failure.value},
            )
    if failure is not None:
        messages = {
            ErrorCode.INVALID_CREDENTIALS: "Wrong email or password.",
            ErrorCode.ACCOUNT_BLOCKED: "This staff account is disabled.",
            ErrorCode.INVALID_TOTP: "The two-factor code is wrong or was already used.",
        }
        raise DomainError(
            messages[failure], code=failure, field="totpCode" if failure == ErrorCode.INVALID_TOTP else None
        )
    await rt.rate_limiter.reset(f"login:fail:{account_key}")
    assert staff is not None
    return staff, tokens


async def set_roles(
    rt: Runtime, actor: Viewer, staff_id: uuid.UUID, grants: Sequence[RoleGrant], reason: str
) -> StaffUser:
    """Replace the staff member's roles in the actor's scope (one brand, or all for superadmins)."""
    if not reason.strip():
        raise DomainError("Give a reason.", field="reason")
    _check_grants(actor, grants)
    if actor.id == staff_id:
        raise DomainError("Nobody changes their own roles.", field="staffId", code=ErrorCode.NOT_ALLOWED)
    async with rt.database.transaction() as db:
        staff: StaffUser | None = await db.scalar(
            readable_staff(viewer=actor).where(col(StaffUser.id) == staff_id).with_for_update()
        )
        if staff is None:
            raise NotFound("No such staff member.", field="staffId")
        before = (await roles_of(db, [staff_id]))[staff_id]
        scope = delete(StaffRole).where(col(StaffRole.staff_id) == staff_id)
        if actor.brand_id is not None or "superadmin" not in actor.roles:
            scope = scope.where(col(StaffRole.brand_id) == actor.brand_id)
        await db.execute(scope)
        for grant in grants:
            db.add(StaffRole(staff_id=staff_id, brand_id=grant.brand_id, role=grant.role))
        await db.flush()
        after = (await roles_of(db, [staff_id]))[staff_id]
        await audit.append(
            db,
            actor=actor,
            action="staff.roles_changed",
            target_type="staff",
            target_id=staff_id,
            brand_id=actor.brand_id,
            before={"roles": _grants_json(before)},
            after={"roles": _grants_json(after)},
            reason=reason.strip(),
        )
    return staff


async def set_status(rt: Runtime, actor: Viewer, staff_id: uuid.UUID, status: StaffStatus, reason: str) -> StaffUser:
    if not reason.strip():
        raise DomainError("Give a reason.", field="reason")
    if actor.id == staff_id:
        raise DomainError("Nobody disables themselves.", field="staffId", code=ErrorCode.NOT_ALLOWED)
    async with rt.database.transaction() as db:
        staff: StaffUser | None = await db.scalar(
            readable_staff(viewer=actor).where(col(StaffUser.id) == staff_id).with_for_update()
        )
        if staff is None:
            raise NotFound("No such staff member.", field="staffId")
        if "superadmin" not in actor.roles:
            # The account is global: only someone who governs every grant it holds may switch it off.
            grants = (await roles_of(db, [staff_id]))[staff_id]
            if any(g.brand_id is None or g.brand_id != actor.brand_id or g.role == "superadmin" for g in grants):
                raise DomainError(
                    "This staff member also works outside your brand; ask a superadmin.",
                    field="staffId",
                    code=ErrorCode.NOT_ALLOWED,
                )
        before = staff.status
        staff.status = status.value
        revoked: list[uuid.UUID] = []
        if status != StaffStatus.ACTIVE:
            revoked = await auth.revoke_sessions(db, subject_type="staff", subject_id=staff_id, reason="staff_disabled")
        await audit.append(
            db,
            actor=actor,
            action="staff.status_changed",
            target_type="staff",
            target_id=staff_id,
            brand_id=actor.brand_id,
            before={"status": before},
            after={"status": status.value},
            reason=reason.strip(),
        )
    await auth.after_commit_revoked(rt, revoked)
    return staff


async def resolve_grants(db: AsyncSession, pairs: Sequence[tuple[str, str | None]]) -> list[RoleGrant]:
    """Turn (role, brand code or None) pairs from an edge into grants."""
    grants = []
    for role, brand_code in pairs:
        brand_id = (await brands.get_by_code(db, brand_code)).id if brand_code else None
        grants.append(RoleGrant(role, brand_id))
    return grants


@dataclass(frozen=True)
class StaffScope:
    roles: frozenset[str]
    brand_id: uuid.UUID | None
    brand_code: str


# The account's status, its grants (each with its brand's code) and the id of the brand the request names
# (null: none named, or no such code), in one statement prepared on a pooled connection with no ORM session
# and no BEGIN around it: it runs before every staff request, and the session's select cost ~1 ms of CPU
# more (bench/README.md § 7).
_SCOPE = Statement(
    "SELECT s.status, r.role, r.brand_id, b.code AS grant_brand_code,"
    " (SELECT n.id FROM brands n WHERE n.code = :code) AS named_id"
    " FROM staff_users s LEFT JOIN staff_roles r ON r.staff_id = s.id LEFT JOIN brands b ON b.id = r.brand_id"
    " WHERE s.id = :id"
)


async def scope_for_request(rt: Runtime, staff_id: uuid.UUID, brand_code: str | None) -> StaffScope | None:
    """The roles a staff member holds for this request's brand (None: not active, or no such brand).

    Global roles count in every brand. Without a requested brand: staff with global roles see all
    brands; staff whose roles sit in exactly one brand are scoped to it.
    """
    code = brands.normalise_code(brand_code) if brand_code else None
    rows = await prepared.every_alone(rt.database.engine, _SCOPE, {"id": staff_id, "code": code})
    if not rows or rows[0].status != StaffStatus.ACTIVE:
        return None
    grants = [RoleGrant(row.role, row.brand_id) for row in rows if row.role is not None]
    global_roles = {g.role for g in grants if g.brand_id is None}
    brand_ids = {g.brand_id for g in grants if g.brand_id is not None}
    if brand_code:
        named: uuid.UUID | None = rows[0].named_id
        if named is None or code is None:
            raise NotFound(f"No brand with code {brand_code!r}.", field="brand")
        roles = global_roles | {g.role for g in grants if g.brand_id == named}
        return StaffScope(frozenset(roles | {"staff"}), named, code)
    if global_roles or not brand_ids:
        return StaffScope(frozenset(global_roles | {"staff"}), None, "*")
    if len(brand_ids) == 1:
        (brand_id,) = brand_ids
        code = next(row.grant_brand_code for row in rows if row.brand_id == brand_id)
        return StaffScope(frozenset({g.role for g in grants} | {"staff"}), brand_id, code)
    raise DomainError("Choose a brand with the X-Croupier-Brand header.", field="brand")
