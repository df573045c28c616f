"""affiliate_manager: the staff role that manages affiliate partners, links, plans and deals

Revision ID: 0044
Revises: 0043

The role is checked by `ck_staff_roles_role` (models/staff.py STAFF_ROLES); authz/policy.csv says what it
may read and do (docs/affiliates.md).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0044"
down_revision: str | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = (
    "support",
    "kyc_officer",
    "risk_analyst",
    "finance",
    "marketing",
    "brand_admin",
    "superadmin",
    "content_manager",
    "mlro",
    "dpo",
)
NEW_ROLES = (*OLD_ROLES, "affiliate_manager")


def _roles_check(roles: Sequence[str]) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade() -> None:
    op.drop_constraint("ck_staff_roles_role", "staff_roles", type_="check")
    op.create_check_constraint("ck_staff_roles_role", "staff_roles", _roles_check(NEW_ROLES))


def downgrade() -> None:
    op.execute("DELETE FROM staff_roles WHERE role = 'affiliate_manager'")
    op.drop_constraint("ck_staff_roles_role", "staff_roles", type_="check")
    op.create_check_constraint("ck_staff_roles_role", "staff_roles", _roles_check(OLD_ROLES))
