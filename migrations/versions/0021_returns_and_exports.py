"""regulatory returns stored immutably with their hash; scheduled exports remembered

Revision ID: 0021
Revises: 0020

`regulatory_returns`: a return generated for a template (a jurisdiction's return, services/reports/
returns.toml), a brand and a period, with the exact bytes filed and their SHA-256. Append-only (the
database refuses UPDATE, DELETE and TRUNCATE): an amendment is a new revision, never an edit.
`report_exports`: each scheduled export done (kind, format, destination, day), so a worker on any
replica exports each day once and catches up on missed days.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "regulatory_returns",
        sa.Column("id", postgresql.UUID(), primary_key=True),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("jurisdiction", sa.String(16), nullable=False),
        sa.Column("brand_id", postgresql.UUID(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("generated_by_type", sa.String(16), nullable=False),
        sa.Column("generated_by_id", postgresql.UUID(), nullable=True),
        sa.UniqueConstraint("template", "brand_id", "period_start", "revision", name="uq_regulatory_returns_revision"),
        sa.CheckConstraint("period_end >= period_start", name="ck_regulatory_returns_period"),
        sa.CheckConstraint("revision >= 1", name="ck_regulatory_returns_revision"),
    )
    op.execute(
        """
        CREATE FUNCTION regulatory_returns_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'regulatory_returns is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER regulatory_returns_no_update_delete BEFORE UPDATE OR DELETE ON regulatory_returns "
        "FOR EACH ROW EXECUTE FUNCTION regulatory_returns_append_only()"
    )
    op.execute(
        "CREATE TRIGGER regulatory_returns_no_truncate BEFORE TRUNCATE ON regulatory_returns "
        "FOR EACH STATEMENT EXECUTE FUNCTION regulatory_returns_append_only()"
    )
    op.create_table(
        "report_exports",
        sa.Column("kind", sa.String(64), primary_key=True),
        sa.Column("format", sa.String(16), primary_key=True),
        sa.Column("destination", sa.String(500), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("location", sa.String(1000), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("report_exports")
    op.execute("DROP TRIGGER regulatory_returns_no_truncate ON regulatory_returns")
    op.execute("DROP TRIGGER regulatory_returns_no_update_delete ON regulatory_returns")
    op.drop_table("regulatory_returns")
    op.execute("DROP FUNCTION regulatory_returns_append_only()")
