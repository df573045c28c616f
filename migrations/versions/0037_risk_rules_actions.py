"""risk: rules and actions as data, the explained score, reviewed flags

Revision ID: 0037
Revises: 0036

models/risk.py describes each table. `risk_rules` holds the rules staff edit (the defaults of services/risk/
defaults.toml are installed at start-up, never over a rule of the same code); `risk_score_items` the players'
score contributions, one per rule; `risk_actions` the restrictions in force; `risk_flags` gains the rule
flags and the review.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_STATUSES = (
    "status IN ('created', 'pending', 'succeeded', 'failed', 'requested', 'approved', 'processing', 'paid', "
    "'rejected', 'cancelled', 'waiting_for_kyc', 'returned'"
)

# Frozen copies (a migration never imports the code it migrates for).
_RULE_KINDS = (
    "velocity",
    "cluster_bonus_claim",
    "score_at_least",
    "deposit_withdraw_cycling",
    "chargeback_history",
    "covering_bets",
    "linked_accounts",
    "list_watch",
)
_ACTION_KINDS = (
    "flag_review",
    "require_kyc_level",
    "block_bonuses",
    "route_3ds",
    "route_psps",
    "hold_withdrawals",
    "hold_deposit",
    "block_account",
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "risk_rules",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column("points", sa.SmallInteger(), nullable=False),
        sa.Column("actions", postgresql.JSONB(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(_in("kind", _RULE_KINDS), name="ck_risk_rules_kind"),
        sa.CheckConstraint("points BETWEEN 0 AND 100", name="ck_risk_rules_points"),
        sa.CheckConstraint("code ~ '^[a-z0-9][a-z0-9-]{1,63}$'", name="ck_risk_rules_code"),
    )
    op.create_index("ix_risk_rules_kind", "risk_rules", ["kind"], postgresql_where=sa.text("enabled"))
    op.create_table(
        "risk_score_items",
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("rule_code", sa.String(64), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("points", sa.SmallInteger(), nullable=False),
        sa.Column("reason", sa.String(320), nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("first_hit_at", _TS, nullable=False),
        sa.Column("last_hit_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("player_id", "rule_code", name="pk_risk_score_items"),
        sa.CheckConstraint("points BETWEEN 0 AND 100", name="ck_risk_score_items_points"),
    )
    op.create_table(
        "risk_actions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column("rule_code", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("imposed_at", _TS, nullable=False),
        sa.Column("imposed_by", sa.Uuid(), nullable=True),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("lifted_at", _TS, nullable=True),
        sa.Column("lifted_by", sa.Uuid(), nullable=True),
        sa.Column("lift_reason", sa.String(500), nullable=True),
        sa.CheckConstraint(_in("kind", _ACTION_KINDS), name="ck_risk_actions_kind"),
    )
    op.create_index(
        "uq_risk_actions_in_force",
        "risk_actions",
        ["player_id", "kind"],
        unique=True,
        postgresql_where=sa.text("lifted_at IS NULL"),
    )
    op.create_index("ix_risk_actions_player", "risk_actions", ["player_id", "imposed_at"])
    # Velocity counts (services/risk/rules_inline.py): observations by device or IP in a window.
    op.create_index(
        "ix_risk_observations_device",
        "risk_observations",
        ["device_id", "occasion", "observed_at"],
        postgresql_where=sa.text("device_id IS NOT NULL"),
    )
    op.create_index(
        "ix_risk_observations_ip",
        "risk_observations",
        ["ip", "occasion", "observed_at"],
        postgresql_where=sa.text("ip IS NOT NULL"),
    )
    op.drop_constraint("ck_risk_flags_source", "risk_flags", type_="check")
    op.drop_constraint("ck_risk_flags_outcome", "risk_flags", type_="check")
    op.add_column("risk_flags", sa.Column("rule_code", sa.String(64), nullable=True))
    op.add_column("risk_flags", sa.Column("reviewed_by", sa.Uuid(), nullable=True))
    op.add_column("risk_flags", sa.Column("reviewed_at", _TS, nullable=True))
    op.add_column("risk_flags", sa.Column("review_note", sa.String(500), nullable=True))
    op.create_check_constraint("ck_risk_flags_source", "risk_flags", "source IN ('list', 'disposable_email', 'rule')")
    op.create_check_constraint("ck_risk_flags_outcome", "risk_flags", "outcome IN ('block', 'watch', 'review')")
    op.create_check_constraint("ck_risk_flags_status", "risk_flags", "status IN ('open', 'confirmed', 'dismissed')")
    op.create_check_constraint("ck_risk_flags_rule", "risk_flags", "(source = 'rule') = (rule_code IS NOT NULL)")
    # One open flag per player and rule: a burst of hits is one item in the queue, not fifty.
    op.create_index(
        "uq_risk_flags_open_rule",
        "risk_flags",
        ["player_id", "rule_code"],
        unique=True,
        postgresql_where=sa.text("status = 'open' AND source = 'rule'"),
    )
    op.drop_constraint("ck_payments_status", "payments", type_="check")
    op.create_check_constraint("ck_payments_status", "payments", _STATUSES + ", 'held')")


def downgrade() -> None:
    # A held deposit moved no money: it fails (kept, as every payment is), rather than being deleted (its
    # bonus claim and its risk observation point at it).
    op.execute(
        "UPDATE payments SET status = 'failed', failure_code = 'RISK_DECLINED', "
        "failure_message = 'Held by a risk rule when the risk engine was rolled back.' WHERE status = 'held'"
    )
    op.drop_constraint("ck_payments_status", "payments", type_="check")
    op.create_check_constraint("ck_payments_status", "payments", _STATUSES + ")")
    op.drop_index("uq_risk_flags_open_rule", table_name="risk_flags")
    op.execute("DELETE FROM risk_flags WHERE source = 'rule' OR outcome = 'review'")
    for name in ("ck_risk_flags_rule", "ck_risk_flags_status", "ck_risk_flags_outcome", "ck_risk_flags_source"):
        op.drop_constraint(name, "risk_flags", type_="check")
    for column in ("review_note", "reviewed_at", "reviewed_by", "rule_code"):
        op.drop_column("risk_flags", column)
    op.create_check_constraint("ck_risk_flags_source", "risk_flags", "source IN ('list', 'disposable_email')")
    op.create_check_constraint("ck_risk_flags_outcome", "risk_flags", "outcome IN ('block', 'watch')")
    op.drop_index("ix_risk_observations_ip", table_name="risk_observations")
    op.drop_index("ix_risk_observations_device", table_name="risk_observations")
    op.drop_table("risk_actions")
    op.drop_table("risk_score_items")
    op.drop_table("risk_rules")
