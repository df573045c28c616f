"""affiliates: partners, their sign-ins and brands, tracking links, clicks, attributions, plans, deals, CPA

Revision ID: 0043
Revises: 0042

models/affiliates.py describes the tables. Plans never change once made (a new plan is a new row); a deal
binds a partner and a brand to a plan from a date on, so a change of terms is a new deal with a later
`effective_from`, never an edit of the past. A player has at most one attribution and one CPA
qualification.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")
_EMPTY = sa.text("'{}'::jsonb")


def _created() -> list[sa.Column[object]]:
    return [
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    ]


def upgrade() -> None:
    op.create_table(
        "affiliates",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("company", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("contact_name", sa.String(120), nullable=True),
        sa.Column("contact_email", sa.String(254), nullable=False),
        sa.Column("contact_phone", sa.String(32), nullable=True),
        sa.Column("payout_currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("payout_method", sa.String(32), nullable=True),
        sa.Column("payout_details", postgresql.JSONB(), nullable=False, server_default=_EMPTY),
        sa.Column("parent_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
        *_created(),
        sa.CheckConstraint("status IN ('active', 'suspended', 'closed')", name="ck_affiliates_status"),
        sa.CheckConstraint("code = lower(code)", name="ck_affiliates_code_lower"),
        sa.CheckConstraint("parent_id IS DISTINCT FROM id", name="ck_affiliates_not_own_parent"),
    )
    op.create_index(
        "ix_affiliates_parent", "affiliates", ["parent_id"], postgresql_where=sa.text("parent_id IS NOT NULL")
    )

    op.create_table(
        "affiliate_brands",
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), primary_key=True),
    )

    op.create_table(
        "affiliate_users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        *_created(),
        sa.CheckConstraint("email = lower(email)", name="ck_affiliate_users_email_lower"),
    )
    op.create_index("ix_affiliate_users_affiliate", "affiliate_users", ["affiliate_id"])

    op.create_table(
        "affiliate_links",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("landing_path", sa.String(500), nullable=False, server_default="/"),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        *_created(),
        sa.UniqueConstraint("affiliate_id", "brand_id", "tag", name="uq_affiliate_links_tag"),
        sa.CheckConstraint("landing_path LIKE '/%'", name="ck_affiliate_links_relative"),
    )

    op.create_table(
        "affiliate_clicks",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("link_id", sa.Uuid(), sa.ForeignKey("affiliate_links.id"), nullable=False),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("sub_id", sa.String(100), nullable=True),
        sa.Column("sub_ids", postgresql.JSONB(), nullable=False, server_default=_EMPTY),
    )
    op.create_index("ix_affiliate_clicks_affiliate", "affiliate_clicks", ["affiliate_id", "clicked_at"])
    op.create_index("ix_affiliate_clicks_link", "affiliate_clicks", ["link_id", "clicked_at"])
    op.create_index("ix_affiliate_clicks_clicked_brin", "affiliate_clicks", ["clicked_at"], postgresql_using="brin")

    op.create_table(
        "affiliate_attributions",
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("link_id", sa.Uuid(), sa.ForeignKey("affiliate_links.id"), nullable=False),
        sa.Column("click_id", sa.Uuid(), sa.ForeignKey("affiliate_clicks.id"), nullable=True),
        sa.Column("sub_id", sa.String(100), nullable=True),
        sa.Column("sub_ids", postgresql.JSONB(), nullable=False, server_default=_EMPTY),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attributed_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )
    op.create_index("ix_affiliate_attributions_affiliate", "affiliate_attributions", ["affiliate_id", "attributed_at"])
    op.create_index("ix_affiliate_attributions_sub_id", "affiliate_attributions", ["affiliate_id", "sub_id"])

    op.create_table(
        "affiliate_plans",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("terms", postgresql.JSONB(), nullable=False),
        *_created(),
        sa.CheckConstraint("kind IN ('cpa', 'revshare', 'hybrid')", name="ck_affiliate_plans_kind"),
    )

    op.create_table(
        "affiliate_deals",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("plan_id", sa.Uuid(), sa.ForeignKey("affiliate_plans.id"), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("negative_carry_over", sa.Boolean(), nullable=False, server_default=sa.false()),
        *_created(),
        sa.UniqueConstraint("affiliate_id", "brand_id", "effective_from", name="uq_affiliate_deals_from"),
    )

    op.create_table(
        "affiliate_qualifications",
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("deal_id", sa.Uuid(), sa.ForeignKey("affiliate_deals.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("qualified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('qualified', 'withheld', 'rejected')", name="ck_affiliate_qualifications_status"
        ),
        sa.CheckConstraint("amount >= 0", name="ck_affiliate_qualifications_amount"),
    )
    op.create_index(
        "ix_affiliate_qualifications_affiliate", "affiliate_qualifications", ["affiliate_id", "status", "qualified_at"]
    )


def downgrade() -> None:
    for table in (
        "affiliate_qualifications",
        "affiliate_deals",
        "affiliate_plans",
        "affiliate_attributions",
        "affiliate_clicks",
        "affiliate_links",
        "affiliate_users",
        "affiliate_brands",
        "affiliates",
    ):
        op.drop_table(table)
