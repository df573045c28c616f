"""outbox notify when asleep: the outbox trigger NOTIFYs only when the relay may be asleep

Revision ID: 0025
Revises: 0024

Installs `sql/outbox/outbox_notify_v2.sql` (the sequence the relay marks itself awake in, and the trigger
function that reads it) and points the outbox's insert trigger at it, reading the file pinned by its SHA-256
as 0024 does. v1 (`outbox_notify`, from 0002) stays until no running server's relay needs it: an old relay
never marks itself awake, so with it the new function notifies on every insert, as v1 did.
"""

import hashlib
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL = Path(__file__).resolve().parents[2] / "sql"
# Each file with the SHA-256 it was deployed with: a deployed version never changes (a new rule is a new
# version), and a changed file stops this migration instead of installing something else under the old name.
FILES = {
    "outbox/outbox_notify_v2.sql": "e14ba2f183470a2171b0c35947b061ac4b18304023916adcd255aa403e88a283",
}


def upgrade() -> None:
    # 0 (asleep) until a relay marks itself awake: until then every commit notifies, as with v1
    op.execute("CREATE SEQUENCE outbox_relay_awake MINVALUE 0 START 0")
    for name, deployed in FILES.items():
        source = (SQL / name).read_bytes()
        if hashlib.sha256(source).hexdigest() != deployed:
            raise RuntimeError(f"sql/{name} changed after it was deployed: put the change in a new version")
        op.execute(source.decode())
    op.execute("DROP TRIGGER outbox_events_notify ON outbox_events")
    op.execute(
        "CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify_v2()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER outbox_events_notify ON outbox_events")
    op.execute(
        "CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
    )
    op.execute("DROP FUNCTION IF EXISTS outbox_notify_v2()")
    op.execute("DROP SEQUENCE IF EXISTS outbox_relay_awake")
