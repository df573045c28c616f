"""wallet functions: the provider wallet's common case decided in one database call

Revision ID: 0024
Revises: 0023

Installs the PostgreSQL functions of `sql/wallet/` at the versions named below, reading the files (the rules
live there, readable and tested on their own: tests/providers/test_wallet_functions.py). A changed rule is a new
file with the next version in its name (`wallet_play_v2.sql`) and a new migration that installs it and drops the
old one once no server calls it; a deployed version's file never changes.
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL = Path(__file__).resolve().parents[2] / "sql" / "wallet"
FILES = (
    "ledger_fingerprint_v1.sql",
    "wallet_max_bet_v1.sql",
    "wallet_open_round_v1.sql",
    "wallet_record_v1.sql",
    "wallet_log_call_v1.sql",
    "wallet_play_v1.sql",
)
DROPS = (
    "DROP FUNCTION IF EXISTS wallet_play_v1(text, uuid, text, text, text, text, text, text, text, boolean, text, text,"
    " text, text, integer, bigint, text, text, jsonb, bigint, bigint, text, smallint, jsonb, text[], uuid[],"
    " timestamptz)",
    "DROP FUNCTION IF EXISTS wallet_max_bet_v1(text, integer)",
    "DROP FUNCTION IF EXISTS wallet_log_call_v1(uuid, uuid, text, text, text, text, jsonb, timestamptz)",
    "DROP FUNCTION IF EXISTS wallet_record_v1(uuid, uuid, text, text, text, text, text, uuid, uuid, text, text, bigint,"
    " uuid, bigint, text, jsonb, timestamptz)",
    "DROP FUNCTION IF EXISTS wallet_open_round_v1(uuid, uuid, text, uuid, uuid, uuid, text, boolean, bigint, bigint,"
    " timestamptz)",
    "DROP FUNCTION IF EXISTS ledger_fingerprint_v1(text, uuid, uuid, text, text, uuid[], bigint[])",
)


def upgrade() -> None:
    for name in FILES:
        op.execute((SQL / name).read_text())


def downgrade() -> None:
    for statement in DROPS:
        op.execute(statement)
