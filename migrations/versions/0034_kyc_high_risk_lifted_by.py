"""kyc_states.high_risk_lifted_by: who last lifted a player's high-risk mark

Revision ID: 0034
Revises: 0033

A high-risk player's level takes two officers; without this, one officer could lift the mark and approve
alone. The officer who lifted it gives only a first approval of that player's levels (services/kyc/reviews.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "kyc_states",
        sa.Column("high_risk_lifted_by", sa.Uuid(), sa.ForeignKey("staff_users.id"), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("kyc_states", "high_risk_lifted_by")
