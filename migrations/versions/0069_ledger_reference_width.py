"""ledger reference width: a provider transaction's reference as the ledger names it (`<provider>:<transaction>`)
fits whatever the provider's reference

Revision ID: 0069
Revises: 0068

`ledger_transactions.reference_id` was 64 characters, narrower than the provider transactions it names
(`provider_transactions.transaction_uuid`, 128, prefixed by the provider's code): a Pragmatic Play bet whose
reference had more than about 60 characters (the protocol allows 100) failed on the ledger and was answered 100
for ever. Now 200, as the ledger's idempotency key. Widening a varchar rewrites nothing in PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0069"
down_revision: str | None = "0068"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "ledger_transactions", "reference_id", type_=sa.String(200), existing_type=sa.String(64), existing_nullable=True
    )


def downgrade() -> None:
    op.alter_column(
        "ledger_transactions", "reference_id", type_=sa.String(64), existing_type=sa.String(200), existing_nullable=True
    )
