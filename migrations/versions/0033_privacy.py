"""privacy: data-subject requests, retention holds, pseudonymised players, the dpo role

Revision ID: 0033
Revises: 0032

models/privacy.py describes the tables; services/privacy carries out exports and erasures.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = (
    "support",
    "kyc_officer",
    "risk_analyst",
    "finance",
    "marketing",
    "brand_admin",
    "superadmin",
    "content_manager",
    "mlro",
)
NEW_ROLES = (*OLD_ROLES, "dpo")


def _roles_check(roles: Sequence[str]) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade() -> None:
    op.drop_constraint("ck_staff_roles_role", "staff_roles", type_="check")
    op.create_check_constraint("ck_staff_roles_role", "staff_roles", _roles_check(NEW_ROLES))
    op.add_column("players", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("players", sa.Column("pseudonym", sa.String(length=40), nullable=True))
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("player_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by_type", sa.String(length=16), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('export', 'erasure')", name="ck_privacy_requests_kind"),
        sa.CheckConstraint("status IN ('requested', 'completed', 'rejected')", name="ck_privacy_requests_status"),
        sa.CheckConstraint("requested_by_type IN ('player', 'staff', 'system')", name="ck_privacy_requests_by"),
        sa.ForeignKeyConstraint(["player_id"], ["players.id"]),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_privacy_requests_player", "privacy_requests", ["player_id", "created_at"])
    op.create_index(
        "uq_privacy_requests_open_erasure",
        "privacy_requests",
        ["player_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'erasure' AND status = 'requested'"),
    )
    op.create_index(
        "ix_privacy_requests_open",
        "privacy_requests",
        ["brand_id", "created_at"],
        postgresql_where=sa.text("status = 'requested'"),
    )
    op.create_table(
        "privacy_holds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("player_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("basis", sa.String(length=300), nullable=False),
        sa.Column("retained_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["player_id"], ["players.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("player_id", "category", name="uq_privacy_holds_player_category"),
    )
    op.create_index(
        "ix_privacy_holds_due", "privacy_holds", ["retained_until"], postgresql_where=sa.text("released_at IS NULL")
    )


def downgrade() -> None:
    op.drop_table("privacy_holds")
    op.drop_table("privacy_requests")
    op.drop_column("players", "pseudonym")
    op.drop_column("players", "erased_at")
    op.execute("DELETE FROM staff_roles WHERE role = 'dpo'")
    op.drop_constraint("ck_staff_roles_role", "staff_roles", type_="check")
    op.create_check_constraint("ck_staff_roles_role", "staff_roles", _roles_check(OLD_ROLES))
