"""placeholder for crmseg's migration 0052 (drop this file at merge: crmseg's own 0052 replaces it)

Revision ID: 0052
Revises: 0051

Only so that this branch's 0054 (down_revision "0053") has its parent until the parts of issue 20 are merged.
"""

from collections.abc import Sequence

revision: str = "0052"
down_revision: str | None = "0051"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
