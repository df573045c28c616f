"""risk_observations: a BRIN index on observed_at, for the retention sweep

Revision ID: 0041
Revises: 0040

Observations are appended in time order; the sweep (services/risk/expiry.py `prune_observations`) deletes those
older than `RISK_OBSERVATIONS_KEEP_DAYS`. A BRIN index finds them without a scan of the table, at a tiny size.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_risk_observations_observed_at", "risk_observations", ["observed_at"], postgresql_using="brin"
    )


def downgrade() -> None:
    op.drop_index("ix_risk_observations_observed_at", table_name="risk_observations")
