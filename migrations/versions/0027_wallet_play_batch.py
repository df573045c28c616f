"""wallet play batch: several one calls of the provider wallet in one database transaction (group commit)

Revision ID: 0027
Revises: 0026

Installs sql/wallet/wallet_call_v1.sql (the type `wallet_call_v1`) and wallet_play_batch_v1.sql (the function
`wallet_play_batch_v1`, which decides each call with `wallet_play_v1`), pinned by their SHA-256 as 0024 pins the
files it installs: a deployed version never changes; a changed rule is a new file and a new migration.
"""

from collections.abc import Sequence

from alembic import op

from core import pinned_sql

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILES = {
    "wallet_call_v1.sql": "b7078d090597cd82d1ab0c72f0cdd0e55a3ff83289b5bfcac59713ed35607194",
    "wallet_play_batch_v1.sql": "bd514d2405b333d6f6a55629ff8225f7f021173a637bca07f88ac56dd74fb186",
}
DROPS = (
    "DROP FUNCTION IF EXISTS wallet_play_batch_v1(wallet_call_v1[], jsonb, text[])",
    "DROP TYPE IF EXISTS wallet_call_v1",
)


def upgrade() -> None:
    pinned_sql.install("wallet", FILES)


def downgrade() -> None:
    for statement in DROPS:
        op.execute(statement)
