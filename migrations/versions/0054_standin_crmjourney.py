"""stand-in for the parallel CRM part's migration 0054 (crmjourney's branch only: delete at merge)

Revision ID: 0054
Revises: 0053
"""

from collections.abc import Sequence

revision: str = "0054"
down_revision: str | None = "0053"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
