"""Back-office staff, their roles per brand, and their TOTP secret."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class Role(StrEnum):
    SUPPORT = "support"
    KYC_OFFICER = "kyc_officer"
    RISK_ANALYST = "risk_analyst"
    FINANCE = "finance"
    MARKETING = "marketing"
    BRAND_ADMIN = "brand_admin"
    SUPERADMIN = "superadmin"
    CONTENT_MANAGER = "content_manager"  # game providers and the catalog (platform-wide)
    MLRO = "mlro"  # the money-laundering reporting officer: decides escalated AML cases, files SARs
    DPO = "dpo"  # the data-protection officer: data exports and erasures (services/privacy)
    AFFILIATE_MANAGER = "affiliate_manager"  # affiliate partners, links, plans, deals; reads commission runs


STAFF_ROLES = tuple(role.value for role in Role)
# Roles over platform-wide things (providers, the catalog): held for every brand, never for one.
PLATFORM_ROLES = frozenset({Role.CONTENT_MANAGER.value})


class StaffStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'disabled')", name="ck_staff_status"),
        CheckConstraint("email = lower(email)", name="ck_staff_email_lower"),
    )

    id: uuid.UUID = id_field()
    email: str = Field(max_length=254, unique=True)
    display_name: str = Field(max_length=120)
    password_hash: str
    totp_secret: str = Field(max_length=64)
    # The last TOTP time step accepted: a code is never accepted twice (replay).
    totp_last_step: int = 0
    status: str = Field(default=StaffStatus.ACTIVE.value, max_length=16)
    created_at: datetime = created_at_field()


class StaffRole(SQLModel, table=True):
    """A role held in one brand, or in every brand when `brand_id` is null."""

    __tablename__ = "staff_roles"
    __table_args__ = (
        UniqueConstraint("staff_id", "role", "brand_id", name="uq_staff_roles", postgresql_nulls_not_distinct=True),
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in STAFF_ROLES) + ")", name="ck_staff_roles_role"),
        CheckConstraint("role <> 'content_manager' OR brand_id IS NULL", name="ck_staff_roles_platform_wide"),
    )

    id: uuid.UUID = id_field()
    staff_id: uuid.UUID = Field(foreign_key="staff_users.id", index=True, ondelete="CASCADE")
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="brands.id")
    role: str = Field(max_length=32)
