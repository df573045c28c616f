"""placeholder for crmsupp's migration 0053 (drop this file at merge: crmsupp's own 0053 replaces it)

Revision ID: 0053
Revises: 0052

Only so that this branch's 0054 (down_revision "0053") has its parent until the parts of issue 20 are merged.
"""

from collections.abc import Sequence

revision: str = "0053"
down_revision: str | None = "0052"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
