"""AML cases: a suspicion about a player worked by investigators and decided by the MLRO, with its notes,
evidence and history, and the account restriction a case can impose."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class CaseState(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    ESCALATED = "escalated"  # waiting for the MLRO's decision
    CLOSED = "closed"


class CaseOutcome(StrEnum):
    NO_ACTION = "no_action"
    SAR_FILED = "sar_filed"
    ACCOUNT_CLOSED = "account_closed"
    OTHER = "other"


class EvidenceKind(StrEnum):
    ALERT = "alert"  # a screening or monitoring alert
    PAYMENT = "payment"
    LEDGER_TRANSACTION = "ledger_transaction"
    DOCUMENT = "document"
    OTHER = "other"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v.value}'" for v in values) + ")"


class AmlCase(SQLModel, table=True):
    __tablename__ = "aml_cases"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_aml_cases_source"),  # a redelivered alert opens nothing
        CheckConstraint(_in("state", CaseState), name="ck_aml_cases_state"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', CaseOutcome)}", name="ck_aml_cases_outcome"),
        CheckConstraint("(state = 'closed') = (outcome IS NOT NULL)", name="ck_aml_cases_closed_outcome"),
        Index("ix_aml_cases_queue", "brand_id", "state", "due_at", "id"),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    player_id: uuid.UUID = Field(foreign_key="players.id", index=True)
    source: str = Field(max_length=32)  # screening | monitoring | staff | …
    source_id: str = Field(max_length=200)
    case_type: str = Field(max_length=32)  # sets the review deadline (services/aml/cases.toml)
    summary: str = Field(max_length=2000)
    state: str = Field(default=CaseState.OPEN.value, max_length=16)
    outcome: str | None = Field(default=None, max_length=16)
    assignee_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    opened_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    due_at: datetime = timestamp_field(nullable=False)
    escalated_at: datetime | None = timestamp_field()
    # Four eyes: the first MLRO's "no action" on an escalated case, waiting for a second MLRO.
    close_requested_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    outcome_requested: str | None = Field(default=None, max_length=16)
    closed_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    closed_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class AmlCaseNote(SQLModel, table=True):
    """Append-only: a correction is a new note."""

    __tablename__ = "aml_case_notes"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="aml_cases.id", index=True)
    author_id: uuid.UUID = Field(foreign_key="staff_users.id")
    body: str = Field(max_length=4000)
    created_at: datetime = created_at_field()


class AmlCaseEvidence(SQLModel, table=True):
    """A link to what supports the suspicion, by kind and id (an alert, a payment, a ledger transaction, a
    document), with a note; the same item is linked once per case."""

    __tablename__ = "aml_case_evidence"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", "ref_id", name="uq_aml_case_evidence"),
        CheckConstraint(_in("kind", EvidenceKind), name="ck_aml_case_evidence_kind"),
    )

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="aml_cases.id", index=True)
    kind: str = Field(max_length=32)
    ref_id: str = Field(max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    added_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = created_at_field()


class AmlCaseEvent(SQLModel, table=True):
    """The case's own history: opened, assigned, each state change, restriction, export."""

    __tablename__ = "aml_case_events"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="aml_cases.id", index=True)
    action: str = Field(max_length=32)
    actor_id: uuid.UUID | None = None  # staff, or null for the platform (an alert)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_field()


class AmlRestriction(SQLModel, table=True):
    """An account restricted by a case: deposits, real-money play and bonus claims refused, withdrawals held
    for a person (services/aml/restrictions.py). At most one in force per case."""

    __tablename__ = "aml_restrictions"
    __table_args__ = (
        Index("uq_aml_restrictions_case", "case_id", unique=True, postgresql_where="lifted_at IS NULL"),
        Index("ix_aml_restrictions_player", "player_id", postgresql_where="lifted_at IS NULL"),
    )

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="aml_cases.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    imposed_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = created_at_field()
    lifted_at: datetime | None = timestamp_field()
    lifted_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
