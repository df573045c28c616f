"""players: a postal address (optional)

Revision ID: 0038
Revises: 0037

Two address lines, a city and a postal code, all nullable (the country is already there). The risk
`address` signal (services/risk/signals.py) is made from them by the `risk-signals` consumer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("players", sa.Column("address_line1", sa.String(200), nullable=True))
    op.add_column("players", sa.Column("address_line2", sa.String(200), nullable=True))
    op.add_column("players", sa.Column("city", sa.String(100), nullable=True))
    op.add_column("players", sa.Column("postal_code", sa.String(16), nullable=True))


def downgrade() -> None:
    for column in ("postal_code", "city", "address_line2", "address_line1"):
        op.drop_column("players", column)
