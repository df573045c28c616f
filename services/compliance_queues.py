"""How long the compliance queues are, for the staff's live counts (the `complianceQueues` subscription).

The counts are those of the queues the desks work, in one statement: KYC states waiting for an officer
(`pending_review`), KYC documents waiting for review, open screening matches, open monitoring alerts, AML
cases per working state and the overdue ones — for one brand, or every brand (a global role).

Who sees which count is the policy's business (a field per count, Casbin): this module counts everything,
once per brand and process, and every subscriber of that brand shares the result. `Shared` coalesces: when
one change wakes a thousand subscribers, the first computes and the others take its figures, provided they
were computed after the change arrived. A quiet queue is recounted at most every `HEARTBEAT_SECONDS` (cases
become overdue as time passes, without an event).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.runtime import Runtime
from models.aml import AlertState, ScreeningAlert
from models.aml_cases import AmlCase, CaseState
from models.aml_monitoring import AmlAlert
from models.kyc import KycState, KycStatus
from models.kyc_documents import DocumentStatus, KycDocument

UPDATE_INTERVAL_SECONDS = 1.0  # at most one pushed update per subscriber per second
HEARTBEAT_SECONDS = 30.0  # and one at least this often (a case becomes overdue without an event)
# Events that can move a count: every KYC event (levels, reviews, documents, restrictions) and every AML
# event (screening matches, monitoring alerts, cases).
TOPIC_PREFIXES = ("kyc.", "aml.")


@dataclass(frozen=True)
class QueueCounts:
    at: datetime
    kyc_level_reviews: int
    kyc_documents: int
    screening_matches: int
    aml_alerts: int
    aml_cases_open: int
    aml_cases_investigating: int
    aml_cases_escalated: int
    aml_cases_overdue: int


def concerns(event: dict[str, Any], brand_id: uuid.UUID | None) -> bool:
    """Whether an event (its envelope) may move the counts of this brand scope."""
    if not str(event.get("type", "")).startswith(TOPIC_PREFIXES):
        return False
    brand = event.get("brand")
    return brand_id is None or brand is None or brand == str(brand_id)


def _count(model: Any, brand_column: Any, brand_id: uuid.UUID | None, *conditions: Any) -> Any:
    stmt = select(func.count()).select_from(model).where(*conditions)
    if brand_id is not None:
        stmt = stmt.where(brand_column == brand_id)
    return stmt.scalar_subquery()


async def counts(db: AsyncSession, brand_id: uuid.UUID | None, now: datetime) -> QueueCounts:
    """Every queue's length for a brand (None: every brand), in one statement."""
    case_state, case_brand = col(AmlCase.state), col(AmlCase.brand_id)
    working = [CaseState.OPEN.value, CaseState.INVESTIGATING.value, CaseState.ESCALATED.value]
    row = (
        await db.execute(
            select_columns(  # sqlmodel's select takes at most four columns
                _count(
                    KycState, col(KycState.brand_id), brand_id, col(KycState.status) == KycStatus.PENDING_REVIEW.value
                ),
                _count(
                    KycDocument,
                    col(KycDocument.brand_id),
                    brand_id,
                    col(KycDocument.status) == DocumentStatus.PENDING.value,
                ),
                _count(
                    ScreeningAlert,
                    col(ScreeningAlert.brand_id),
                    brand_id,
                    col(ScreeningAlert.state) == AlertState.OPEN.value,
                ),
                _count(AmlAlert, col(AmlAlert.brand_id), brand_id, col(AmlAlert.status) == "open"),
                _count(AmlCase, case_brand, brand_id, case_state == CaseState.OPEN.value),
                _count(AmlCase, case_brand, brand_id, case_state == CaseState.INVESTIGATING.value),
                _count(AmlCase, case_brand, brand_id, case_state == CaseState.ESCALATED.value),
                _count(AmlCase, case_brand, brand_id, case_state.in_(working), col(AmlCase.due_at) < now),
            )
        )
    ).one()
    return QueueCounts(now, *(int(n) for n in row))


@dataclass
class _Latest:
    computed_from: float = -1.0  # the loop time at which the stored figures' statement started
    figures: QueueCounts | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Shared:
    """The latest counts per brand scope in this process, recounted only when someone needs newer ones."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.latest: dict[uuid.UUID | None, _Latest] = {}
        self.statements = 0  # how many times the counts were read (tests check the sharing)

    async def since(self, brand_id: uuid.UUID | None, changed_at: float, now: datetime) -> QueueCounts:
        """Counts read no earlier than `changed_at` (loop time): stored ones if fresh enough, else read
        now — once, however many subscribers ask at the same moment."""
        latest = self.latest.setdefault(brand_id, _Latest())
        async with latest.lock:
            if latest.figures is None or latest.computed_from < changed_at:
                started = asyncio.get_running_loop().time()
                async with self.rt.database.session() as db:
                    latest.figures = await counts(db, brand_id, now)
                latest.computed_from = started
                self.statements += 1
            return latest.figures


def shared_of(rt: Runtime) -> Shared:
    if rt.compliance_queues is None:
        rt.compliance_queues = Shared(rt)
    shared: Shared = rt.compliance_queues
    return shared
