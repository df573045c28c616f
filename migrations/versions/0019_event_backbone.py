"""the event backbone: envelope columns on the outbox, consumers' exactly-once bookkeeping

Revision ID: 0019
Revises: 0018

`outbox_events` gains what the CloudEvents-style envelope needs beside the type (`topic`), subject (`key`)
and data (`payload`): the brand the fact belongs to and the version of its type's schema. Events
written before have no brand and version 0 (their data predates the catalogue).

A consumer's effects commit with the ids of the events they came from:
- `event_consumers`: one row per consumer, with `cursor`: every event with an id at or below it has
  been processed (or parked), so its processed rows below can go;
- `consumer_processed`: the ids above the cursor already processed (a redelivery finds its id here);
- `consumer_parked`: poison events, set aside with the error, so they never block the stream;
- `sink_inflight`: the events a sink (NATS JetStream) is publishing now, written before it publishes,
  so after a crash it can tell which of them reached the broker even past the broker's duplicate window.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox_events", sa.Column("brand_id", postgresql.UUID(), nullable=True))
    op.add_column("outbox_events", sa.Column("schema_version", sa.SmallInteger(), nullable=False, server_default="0"))
    op.create_table(
        "event_consumers",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("cursor", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "consumer_processed",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.BigInteger(), primary_key=True),
    )
    op.create_table(
        "consumer_parked",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.BigInteger(), primary_key=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("retried_at", sa.DateTime(timezone=True), nullable=True),
    )

    op.create_table(
        "sink_inflight",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("event_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("sink_inflight")
    op.drop_table("consumer_parked")
    op.drop_table("consumer_processed")
    op.drop_table("event_consumers")
    op.drop_column("outbox_events", "schema_version")
    op.drop_column("outbox_events", "brand_id")
