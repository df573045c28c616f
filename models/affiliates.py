"""Affiliates: partners, their sign-ins and brands, tracking links and clicks, the attribution of a player
to a partner, commission plans, the deals that bind a partner and a brand to a plan, and CPA
qualifications.

Terms change forward only: a plan never changes once made (new terms are a new plan), and a deal binds a
partner and a brand to a plan from `effective_from` on, so the deal in force on a day is the one with the
latest `effective_from` on or before it, and a run for a past period always finds the terms of that period.

A player is attributed at most once (at registration, to the last click within the window) and qualifies
for CPA at most once. Money is never here: commissions are booked through the ledger.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class AffiliateStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # links still redirect but record nothing; no new attributions
    CLOSED = "closed"


class PlanKind(StrEnum):
    CPA = "cpa"
    REVSHARE = "revshare"
    HYBRID = "hybrid"


class QualificationStatus(StrEnum):
    QUALIFIED = "qualified"  # payable in the next run
    WITHHELD = "withheld"  # its sub-id is flagged: waits for review
    REJECTED = "rejected"  # reviewed and refused


def _jsonb() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")))


class Affiliate(SQLModel, table=True):
    __tablename__ = "affiliates"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended', 'closed')", name="ck_affiliates_status"),
        CheckConstraint("code = lower(code)", name="ck_affiliates_code_lower"),
        CheckConstraint("parent_id IS DISTINCT FROM id", name="ck_affiliates_not_own_parent"),
        Index("ix_affiliates_parent", "parent_id", postgresql_where=text("parent_id IS NOT NULL")),
    )

    id: uuid.UUID = id_field()
    code: str = Field(max_length=40, unique=True)
    company: str = Field(max_length=200)
    status: str = Field(default=AffiliateStatus.ACTIVE.value, max_length=16)
    contact_name: str | None = Field(default=None, max_length=120)
    contact_email: str = Field(max_length=254)
    contact_phone: str | None = Field(default=None, max_length=32)
    payout_currency: str = Field(foreign_key="currencies.code", max_length=8)
    payout_method: str | None = Field(default=None, max_length=32)
    payout_details: dict[str, Any] = _jsonb()
    # The partner that brought this one in (the second tier earns on this partner's commission).
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="affiliates.id")
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default=text("1")))
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()


class AffiliateBrand(SQLModel, table=True):
    __tablename__ = "affiliate_brands"

    affiliate_id: uuid.UUID = Field(sa_column=Column(ForeignKey("affiliates.id", ondelete="CASCADE"), primary_key=True))
    brand_id: uuid.UUID = Field(foreign_key="brands.id", primary_key=True)


class AffiliateUser(SQLModel, table=True):
    """A person who signs in to the affiliate portal for one partner."""

    __tablename__ = "affiliate_users"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="ck_affiliate_users_email_lower"),
        Index("ix_affiliate_users_affiliate", "affiliate_id"),
    )

    id: uuid.UUID = id_field()
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    email: str = Field(max_length=254, unique=True)
    password_hash: str
    display_name: str | None = Field(default=None, max_length=120)
    last_login_at: datetime | None = timestamp_field()
    disabled_at: datetime | None = timestamp_field()
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()


class AffiliateLink(SQLModel, table=True):
    """A tracking link: `/a/{code}` records a click and redirects to the brand's `landing_path`."""

    __tablename__ = "affiliate_links"
    __table_args__ = (
        UniqueConstraint("affiliate_id", "brand_id", "tag", name="uq_affiliate_links_tag"),
        CheckConstraint("landing_path LIKE '/%'", name="ck_affiliate_links_relative"),
    )

    id: uuid.UUID = id_field()
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    code: str = Field(max_length=32, unique=True)
    tag: str = Field(max_length=64)
    landing_path: str = Field(default="/", max_length=500, sa_column_kwargs={"server_default": "/"})
    archived_at: datetime | None = timestamp_field()
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()


class AffiliateClick(SQLModel, table=True):
    """One click on a link. Its id travels to registration (the click token) for attribution."""

    __tablename__ = "affiliate_clicks"
    __table_args__ = (
        Index("ix_affiliate_clicks_affiliate", "affiliate_id", "clicked_at"),
        Index("ix_affiliate_clicks_link", "link_id", "clicked_at"),
        Index("ix_affiliate_clicks_clicked_brin", "clicked_at", postgresql_using="brin"),
    )

    id: uuid.UUID = id_field()
    link_id: uuid.UUID = Field(foreign_key="affiliate_links.id")
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    clicked_at: datetime = created_at_field()
    ip: str | None = Field(default=None, max_length=45)
    user_agent: str | None = Field(default=None, max_length=512)
    # `sub_id` is the partner's first sub-id (`sub1`), the one statements group by; `sub_ids` holds all.
    sub_id: str | None = Field(default=None, max_length=100)
    sub_ids: dict[str, Any] = _jsonb()


class AffiliateAttribution(SQLModel, table=True):
    """Which partner brought a player: made once, at registration."""

    __tablename__ = "affiliate_attributions"
    __table_args__ = (
        Index("ix_affiliate_attributions_affiliate", "affiliate_id", "attributed_at"),
        Index("ix_affiliate_attributions_sub_id", "affiliate_id", "sub_id"),
        # One click attributes at most one player (migration 0059).
        Index(
            "uq_affiliate_attributions_click", "click_id", unique=True, postgresql_where=text("click_id IS NOT NULL")
        ),
    )

    player_id: uuid.UUID = Field(foreign_key="players.id", primary_key=True)
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    link_id: uuid.UUID = Field(foreign_key="affiliate_links.id")
    click_id: uuid.UUID | None = Field(default=None, foreign_key="affiliate_clicks.id")
    sub_id: str | None = Field(default=None, max_length=100)
    sub_ids: dict[str, Any] = _jsonb()
    clicked_at: datetime | None = timestamp_field()
    attributed_at: datetime = created_at_field()


class AffiliatePlan(SQLModel, table=True):
    """Commission terms as data (`terms`, validated by services/affiliates/plans.py). Never edited."""

    __tablename__ = "affiliate_plans"
    __table_args__ = (CheckConstraint("kind IN ('cpa', 'revshare', 'hybrid')", name="ck_affiliate_plans_kind"),)

    id: uuid.UUID = id_field()
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=16)
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    terms: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()


class AffiliateDeal(SQLModel, table=True):
    """A partner and a brand on a plan from a date on (never retroactive: see the module's docstring)."""

    __tablename__ = "affiliate_deals"
    __table_args__ = (UniqueConstraint("affiliate_id", "brand_id", "effective_from", name="uq_affiliate_deals_from"),)

    id: uuid.UUID = id_field()
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    plan_id: uuid.UUID = Field(foreign_key="affiliate_plans.id")
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    negative_carry_over: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()


class AffiliateQualification(SQLModel, table=True):
    """A player's CPA: qualified once under the deal in force, withheld while its sub-id is flagged."""

    __tablename__ = "affiliate_qualifications"
    __table_args__ = (
        CheckConstraint("status IN ('qualified', 'withheld', 'rejected')", name="ck_affiliate_qualifications_status"),
        CheckConstraint("amount >= 0", name="ck_affiliate_qualifications_amount"),
        Index("ix_affiliate_qualifications_affiliate", "affiliate_id", "status", "qualified_at"),
    )

    player_id: uuid.UUID = Field(foreign_key="players.id", primary_key=True)
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    deal_id: uuid.UUID = Field(foreign_key="affiliate_deals.id")
    status: str = Field(max_length=16)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    qualified_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    event_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    reason: str | None = Field(default=None, max_length=500)
    reviewed_by: uuid.UUID | None = None
    reviewed_at: datetime | None = timestamp_field()
