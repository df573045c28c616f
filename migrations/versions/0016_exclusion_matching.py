"""exclusion matching: one person's accounts across brands share their time-outs and self-exclusions

Revision ID: 0016
Revises: 0015

`players.match_email`, `match_name` (with `date_of_birth`) and `match_phone` are the person's match keys
(services/rg/matching.py), each with its own partial index so that finding a person's other accounts is
three index probes. Existing players get their keys computed here. `rg_exclusions.origin_exclusion_id`
and `origin_player_id` record, on an exclusion extended to a matching account, the one it copies.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from services.rg.matching import Identity

    op.add_column("players", sa.Column("match_email", sa.String(length=254), nullable=True))
    op.add_column("players", sa.Column("match_name", sa.String(length=220), nullable=True))
    op.add_column("players", sa.Column("match_phone", sa.String(length=32), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, email, first_name, last_name, date_of_birth, phone, country FROM players")
    ).all()
    for row in rows:
        identity = Identity.of(
            email=row.email,
            first_name=row.first_name,
            last_name=row.last_name,
            date_of_birth=row.date_of_birth,
            phone=row.phone,
            country=row.country,
        )
        bind.execute(
            sa.text("UPDATE players SET match_email = :e, match_name = :n, match_phone = :p WHERE id = :id"),
            {"e": identity.email, "n": identity.name, "p": identity.phone, "id": row.id},
        )
    op.create_index(
        "ix_players_match_email", "players", ["match_email"], postgresql_where=sa.text("match_email IS NOT NULL")
    )
    op.create_index(
        "ix_players_match_name",
        "players",
        ["match_name", "date_of_birth"],
        postgresql_where=sa.text("match_name IS NOT NULL"),
    )
    op.create_index(
        "ix_players_match_phone", "players", ["match_phone"], postgresql_where=sa.text("match_phone IS NOT NULL")
    )
    op.add_column("rg_exclusions", sa.Column("origin_exclusion_id", sa.Uuid(), nullable=True))
    op.add_column("rg_exclusions", sa.Column("origin_player_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "rg_exclusions_origin_exclusion_id_fkey", "rg_exclusions", "rg_exclusions", ["origin_exclusion_id"], ["id"]
    )
    op.create_foreign_key(
        "rg_exclusions_origin_player_id_fkey", "rg_exclusions", "players", ["origin_player_id"], ["id"]
    )


def downgrade() -> None:
    op.drop_constraint("rg_exclusions_origin_player_id_fkey", "rg_exclusions", type_="foreignkey")
    op.drop_constraint("rg_exclusions_origin_exclusion_id_fkey", "rg_exclusions", type_="foreignkey")
    op.drop_column("rg_exclusions", "origin_player_id")
    op.drop_column("rg_exclusions", "origin_exclusion_id")
    op.drop_index("ix_players_match_phone", table_name="players")
    op.drop_index("ix_players_match_name", table_name="players")
    op.drop_index("ix_players_match_email", table_name="players")
    op.drop_column("players", "match_phone")
    op.drop_column("players", "match_name")
    op.drop_column("players", "match_email")
