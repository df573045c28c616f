"""pragmatic protocol: game providers may speak Pragmatic Play's seamless wallet (integrations/pragmatic.py)

Revision ID: 0063
Revises: 0062

Only the protocol's name is new: its secret lives in PROVIDER_SECRETS (the row names it, as SoftSwiss's does),
and its calls are stored in provider_transactions / provider_calls like every protocol's.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0063"
down_revision: str | None = "0062"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("ck_game_providers_protocol", "game_providers", type_="check")
    op.create_check_constraint(
        "ck_game_providers_protocol", "game_providers", "protocol IN ('hub88', 'softswiss', 'pragmatic')"
    )


def downgrade() -> None:
    op.drop_constraint("ck_game_providers_protocol", "game_providers", type_="check")
    op.create_check_constraint("ck_game_providers_protocol", "game_providers", "protocol IN ('hub88', 'softswiss')")
