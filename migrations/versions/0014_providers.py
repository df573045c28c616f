"""providers: onboarding without SQL (HMAC secret references, the content_manager role)

Revision ID: 0014
Revises: 0013

`game_providers.secret_ref` names the entry of `PROVIDER_SECRETS` that signs a SoftSwiss-style
provider's calls (null: the entry named after the provider's code, as before): the secret itself stays
in settings, never in the database. `content_manager` is a new staff role that manages providers and
the catalog; providers are platform-wide, so the role is held for every brand (brand_id null) only.
Downgrading removes every content_manager grant (the old CHECK has no room for them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ("support", "kyc_officer", "risk_analyst", "finance", "marketing", "brand_admin", "superadmin")
NEW_ROLES = (*OLD_ROLES, "content_manager")


def _roles_check(roles: Sequence[str]) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade() -> None:
    op.add_column("game_providers", sa.Column("secret_ref", sa.String(length=64), nullable=True))
    op.drop_constraint("ck_staff_roles_role", "staff_roles", type_="check")
    op.create_check_constraint("ck_staff_roles_role", "staff_roles", _roles_check(NEW_ROLES))
    op.create_check_constraint(
        "ck_staff_roles_platform_wide", "staff_roles", "role <> 'content_manager' OR brand_id IS NULL"
    )


def downgrade() -> None:
    op.drop_constraint("ck_staff_roles_platform_wide", "staff_roles", type_="check")
    op.execute("DELETE FROM staff_roles WHERE role = 'content_manager'")
    op.drop_constraint("ck_staff_roles_role", "staff_roles", type_="check")
    op.create_check_constraint("ck_staff_roles_role", "staff_roles", _roles_check(OLD_ROLES))
    op.drop_column("game_providers", "secret_ref")
