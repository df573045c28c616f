"""wallet play v2: the one call refuses a bet the game's catalogue metadata forbids, in the same round trip

Revision ID: 0066
Revises: 0065

Installs sql/wallet/wallet_play_v2.sql (the function `wallet_play_v2`), wallet_call_v2.sql (the type
`wallet_call_v2`) and wallet_play_batch_v2.sql (`wallet_play_batch_v2`, which decides each call with
`wallet_play_v2`), pinned by their SHA-256 as 0024 and 0027 pin theirs. v2 refuses, in the call itself, a bet on a
game switched off or withdrawn by a catalogue sync (INVALID_GAME), not certified in the player's country
(NOT_CERTIFIED) or staking outside the game's min or max bet for the currency (LIMIT_REACHED):
docs/catalogue-sync.md, "Bets".

The v1 functions stay installed: servers of the previous release call them until they are replaced, and a
later migration drops them once no server does. The downgrade drops only what this one installed.
"""

from collections.abc import Sequence

from alembic import op

from core import pinned_sql

revision: str = "0066"
down_revision: str | None = "0065"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILES = {
    "wallet_play_v2.sql": "4c60ddd336c85a87b89a46c24b7830f43d11f62599fb29c7b2eda3a34e79f6cf",
    "wallet_call_v2.sql": "7b3e580eac3175ca32cc7c5e1754c4362435e2ad951312fcff1b9e826520e174",
    "wallet_play_batch_v2.sql": "bfd798193aacf5518e70aa178d8b3f3c27f13995e1bf4184aad63fe111241f75",
}
DROPS = (
    "DROP FUNCTION IF EXISTS wallet_play_batch_v2(wallet_call_v2[], jsonb, text[])",
    "DROP TYPE IF EXISTS wallet_call_v2",
    "DROP FUNCTION IF EXISTS wallet_play_v2(text, uuid, text, text, text, text, text, text, text, boolean, text, text,"
    " text, text, integer, bigint, text, text, jsonb, jsonb, bigint, bigint, text, smallint, jsonb, text[], uuid[],"
    " timestamptz)",
)


def upgrade() -> None:
    pinned_sql.install("wallet", FILES)


def downgrade() -> None:
    for statement in DROPS:
        op.execute(statement)
