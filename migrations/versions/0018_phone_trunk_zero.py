"""phone match keys without the trunk zero written after the calling code

Revision ID: 0018
Revises: 0017

`+44 (0)7700 900123` is the same number as `+44 7700 900123`, but 0016 kept the 0 in its match key, so
the two did not match across brands. Recompute every phone's key with the current rule
(services/rg/matching.py `phone_key`). The downgrade leaves the keys as they are: they differ from the
old rule's only for numbers written with a trunk zero after the calling code, and the older release
recomputes a player's key whenever their phone changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from services.rg.matching import phone_key

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, phone, country FROM players WHERE phone IS NOT NULL")).all()
    keys = [{"key": phone_key(row.phone, row.country), "id": row.id} for row in rows]
    if keys:
        bind.execute(sa.text("UPDATE players SET match_phone = :key WHERE id = :id"), keys)


def downgrade() -> None:
    pass
