"""wallet functions: the provider wallet's common case decided in one database call

Revision ID: 0024
Revises: 0023

Installs the PostgreSQL functions of `sql/wallet/` at the versions named below, reading the files (the rules
live there, readable and tested on their own: tests/providers/test_wallet_functions.py). A changed rule is a new
file with the next version in its name (`wallet_play_v2.sql`) and a new migration that installs it and drops the
old one once no server calls it; a deployed version's file never changes.
"""

import hashlib
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL = Path(__file__).resolve().parents[2] / "sql" / "wallet"
# Each file with the SHA-256 it was deployed with: a deployed version never changes (a new rule is a new
# version), and a changed file stops this migration instead of installing something else under the old name.
FILES = {
    "ledger_fingerprint_v1.sql": "48d9ff342ea52ca3f8c3efc9d7244f669c72e29cb481bbc1bd29a17a05adec2b",
    "wallet_max_bet_v1.sql": "70a4a32f34065704f9a895339dbe967ba4309b2b68e2b2a9534d8a2fdca8fd9c",
    "wallet_open_round_v1.sql": "83e2c9f6b1d62e58fc8ce77d1042208b62b1dabd1dace3a06a46f1e026fad2a7",
    "wallet_record_v1.sql": "1147431ba515b3792e05f727906557e753a64f5791ba6847a22a756eb8fce6c9",
    "wallet_log_call_v1.sql": "ffd497e014a299fd88a828631d719ab203113dfa3caa15983bb3d7307e72e36a",
    "wallet_play_v1.sql": "e6244e68fc35a972ac7b59e59d5282255aa30008b4d15d3c1f5cd0fd31c3fc5b",
}
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
    for name, deployed in FILES.items():
        source = (SQL / name).read_bytes()
        if hashlib.sha256(source).hexdigest() != deployed:
            raise RuntimeError(f"sql/wallet/{name} changed after it was deployed: put the change in a new version")
        op.execute(source.decode())


def downgrade() -> None:
    for statement in DROPS:
        op.execute(statement)
