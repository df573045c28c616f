"""The audit log: append-only, hash-chained, gapless.

Invariants (checked by `verify`): records are numbered 1, 2, 3, … with no gap; each record's
`prev_hash` is the previous record's `hash` (the first one's is 64 zeros); each `hash` is the
SHA-256 of the record's canonical content and its `prev_hash`. Appends take a transaction-level
advisory lock, so concurrent writers queue for the chain's tail instead of forking it; the lock is
held only until the surrounding transaction commits.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, and_, not_, or_, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.clock import clock
from models.audit import AuditRecord

GENESIS_HASH = "0" * 64
_LOCK_KEY = 0x0A0D17  # pg_advisory_xact_lock key of the audit chain


def _json_safe(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    safe: dict[str, Any] = json.loads(json.dumps(value, default=str))
    return safe


def record_hash(record: AuditRecord) -> str:
    content = {
        "seq": record.seq,
        "at": record.at.astimezone(UTC).isoformat(),
        "actor_type": record.actor_type,
        "actor_id": str(record.actor_id) if record.actor_id else None,
        "action": record.action,
        "brand_id": str(record.brand_id) if record.brand_id else None,
        "target_type": record.target_type,
        "target_id": record.target_id,
        "reason": record.reason,
        "ip": record.ip,
        "request_id": record.request_id,
        "before": record.before,
        "after": record.after,
        "prev_hash": record.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def append(
    db: AsyncSession,
    *,
    actor: Viewer,
    action: str,
    target_type: str | None = None,
    target_id: uuid.UUID | str | None = None,
    brand_id: uuid.UUID | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    actor_type: str | None = None,
    actor_id: uuid.UUID | None = None,
) -> AuditRecord:
    """Append one record in the caller's transaction (it commits or rolls back with the change).

    Call it last in the transaction: the chain's lock is held from here until the commit.
    """
    await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = select(col(AuditRecord.seq), col(AuditRecord.hash)).order_by(col(AuditRecord.seq).desc()).limit(1)
    tail = (await db.execute(last)).first()
    seq, prev_hash = (tail[0] + 1, tail[1]) if tail else (1, GENESIS_HASH)
    record = AuditRecord(
        seq=seq,
        at=clock.now(),
        actor_type=actor_type or actor.actor_type,
        actor_id=actor_id if actor_id is not None else actor.id,
        action=action,
        brand_id=brand_id,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        reason=reason,
        ip=actor.meta.ip,
        request_id=actor.meta.request_id,
        before=_json_safe(before),
        after=_json_safe(after),
        prev_hash=prev_hash,
        hash="",
    )
    record.hash = record_hash(record)
    db.add(record)
    await db.flush()
    return record


@dataclass(frozen=True)
class SystemEntry:
    """A record the platform itself writes from a consumer's raw connection (no staff, no request)."""

    action: str
    target_type: str
    target_id: str
    brand_id: uuid.UUID | None
    after: dict[str, Any]
    reason: str | None = None
    before: dict[str, Any] | None = None


_INSERT_RAW = """
INSERT INTO audit_log (seq, at, actor_type, actor_id, action, brand_id, target_type, target_id, reason, ip,
                       request_id, before, after, prev_hash, hash)
VALUES ($1, $2, 'system', NULL, $3, $4, $5, $6, $7, NULL, NULL, $8::jsonb, $9::jsonb, $10, $11)"""


async def append_system(conn: asyncpg.Connection, entries: Sequence[SystemEntry]) -> None:
    """`append` for a consumer, whose effects commit on its asyncpg connection with the processed event ids:
    the same chain lock, the same hash, in the caller's transaction (call it last)."""
    if not entries:
        return
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
    tail = await conn.fetchrow("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev_hash = (tail["seq"], tail["hash"]) if tail else (0, GENESIS_HASH)
    rows = []
    for entry in entries:
        seq += 1
        record = AuditRecord(
            seq=seq,
            at=clock.now(),
            actor_type="system",
            action=entry.action,
            brand_id=entry.brand_id,
            target_type=entry.target_type,
            target_id=entry.target_id,
            reason=entry.reason,
            before=None if entry.before is None else _json_safe(entry.before),
            after=_json_safe(entry.after),
            prev_hash=prev_hash,
            hash="",
        )
        record.hash = prev_hash = record_hash(record)
        rows.append(
            (
                record.seq,
                record.at,
                record.action,
                record.brand_id,
                record.target_type,
                record.target_id,
                record.reason,
                None if record.before is None else json.dumps(record.before),
                json.dumps(record.after),
                record.prev_hash,
                record.hash,
            )
        )
    await conn.executemany(_INSERT_RAW, rows)


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    problem: str


@dataclass(frozen=True)
class AuditVerification:
    checked: int
    problems: Sequence[AuditProblem]
    head_seq: int = 0
    head_hash: str = GENESIS_HASH  # anchor it outside the database to detect a cut-off tail

    @property
    def ok(self) -> bool:
        return not self.problems


async def append_changes(
    db: AsyncSession,
    *,
    actor: Viewer,
    action: str,
    target_type: str,
    target_id: uuid.UUID,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    reason: str | None = None,
    naming: Mapping[str, Any] | None = None,
    brand_id: uuid.UUID | None = None,
) -> bool:
    """Flush and audit the fields that differ between two snapshots of a row (each record also carries
    `naming`, what identifies the row to a reader); nothing differs: nothing is written."""
    changed = sorted(k for k in after if after[k] != before.get(k))
    if not changed:
        return False
    await db.flush()
    await append(
        db,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        brand_id=brand_id,
        before={**(naming or {}), **{k: before.get(k) for k in changed}},
        after={**(naming or {}), **{k: after[k] for k in changed}},
        reason=reason,
    )
    return True


async def verify(db: AsyncSession, *, batch: int = 5000) -> AuditVerification:
    """Walk the whole chain and report every record that is missing, edited or out of place.

    In batches of `batch` records by `seq` (keyset pages, no server-side cursor: a read session runs
    without a transaction, core/db.py); records appended meanwhile join the walk, the chain only grows."""
    problems: list[AuditProblem] = []
    expected_seq, prev_hash, checked, last = 1, GENESIS_HASH, 0, None
    while True:
        page = select(AuditRecord).order_by(col(AuditRecord.seq)).limit(batch)
        if last is not None:
            page = page.where(col(AuditRecord.seq) > last)
        records = (await db.scalars(page)).all()
        for record in records:
            checked += 1
            if record.seq != expected_seq:
                problems.append(AuditProblem(record.seq, f"records {expected_seq}..{record.seq - 1} are missing"))
            if record.prev_hash != prev_hash:
                problems.append(AuditProblem(record.seq, "prev_hash does not match the previous record"))
            if record_hash(record) != record.hash:
                problems.append(AuditProblem(record.seq, "content does not match its hash (edited)"))
            expected_seq, prev_hash, last = record.seq + 1, record.hash, record.seq
        if len(records) < batch:
            break
    return AuditVerification(checked=checked, problems=problems, head_seq=expected_seq - 1, head_hash=prev_hash)


@dataclass(frozen=True)
class AuditFilter:
    actor_id: uuid.UUID | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    brand_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditTopic(StrEnum):
    """What some records reveal beyond the trail itself. A viewer reads a topic's records only when
    allowed to read what protects those facts elsewhere (resolvers/audit.py names the fields), so a
    field's protection holds on the audit path too: a role denied a player's RG view reads no `rg.*`."""

    RESPONSIBLE_GAMBLING = "responsible_gambling"  # limits, time-outs, self-exclusions, RG desk actions
    SESSIONS = "sessions"  # logins, logouts, revoked sessions: when and from where
    NOTES = "notes"  # staff notes on a player, with their text
    ADJUSTMENTS = "adjustments"  # manual balance adjustments: amounts, reasons, approvers
    PAYMENTS = "payments"  # a player's deposits and withdrawals
    KYC_DOCUMENTS = "kyc_documents"  # KYC documents read, reviewed and requested, with the reasons
    AML_CASES = "aml_cases"  # AML cases: suspicions, notes, restrictions, SARs (never shown to other desks)
    RISK = "risk"  # the risk desk's: rules' and staff's restrictions, reviewed flags, list entries, rule changes


# The actions of each topic: exact names, or a family by its prefix (ending in ".").
TOPIC_ACTIONS: dict[AuditTopic, tuple[str, ...]] = {
    AuditTopic.RESPONSIBLE_GAMBLING: ("rg.",),
    AuditTopic.SESSIONS: (
        "player.login",
        "player.login_failed",
        "player.logout",
        "player.session_revoked",
        "auth.refresh_token_reused",
    ),
    AuditTopic.NOTES: ("player.note_added",),
    AuditTopic.ADJUSTMENTS: ("adjustment.",),
    AuditTopic.PAYMENTS: ("withdrawal.", "deposit."),
    AuditTopic.KYC_DOCUMENTS: ("kyc_document.",),
    AuditTopic.AML_CASES: ("aml.",),
    AuditTopic.RISK: ("risk.",),
}


def topic_of(action: str) -> AuditTopic | None:
    for topic, actions in TOPIC_ACTIONS.items():
        if any(action.startswith(a) if a.endswith(".") else action == a for a in actions):
            return topic
    return None


def _of_topics(topics: Collection[AuditTopic]) -> ColumnElement[bool] | None:
    """The SQL condition matching the records of these topics (None: no topic)."""
    action = col(AuditRecord.action)
    names = [a for t in topics for a in TOPIC_ACTIONS[t] if not a.endswith(".")]
    families = [action.startswith(a, autoescape=True) for t in topics for a in TOPIC_ACTIONS[t] if a.endswith(".")]
    conditions = [*families, *([action.in_(names)] if names else [])]
    return or_(*conditions) if conditions else None


def readable_records(
    viewer: Viewer, where: AuditFilter, *, topics: Collection[AuditTopic]
) -> SelectOfScalar[AuditRecord]:
    """The audit records this viewer may read: staff of one brand see that brand's records, and of the
    records that reveal a topic, only those of the `topics` the viewer may read (filtered in SQL)."""
    stmt = select(AuditRecord)
    if viewer.brand_id is not None:
        stmt = stmt.where(col(AuditRecord.brand_id) == viewer.brand_id)
    hidden = _of_topics([t for t in AuditTopic if t not in topics])
    if hidden is not None:
        stmt = stmt.where(not_(hidden))
    if where.actor_id:
        stmt = stmt.where(col(AuditRecord.actor_id) == where.actor_id)
    if where.action:
        stmt = stmt.where(col(AuditRecord.action) == where.action)
    if where.target_type:
        stmt = stmt.where(col(AuditRecord.target_type) == where.target_type)
    if where.target_id:
        stmt = stmt.where(col(AuditRecord.target_id) == where.target_id)
    if where.brand_id:
        stmt = stmt.where(col(AuditRecord.brand_id) == where.brand_id)
    if where.since:
        stmt = stmt.where(col(AuditRecord.at) >= where.since)
    if where.until:
        stmt = stmt.where(col(AuditRecord.at) < where.until)
    return stmt


def player_trail(
    viewer: Viewer, player_id: uuid.UUID, *, topics: Collection[AuditTopic]
) -> SelectOfScalar[AuditRecord]:
    """What a player did and what staff did to the player's account (both indexed: actor, target),
    in the viewer's brand scope and of the topics the viewer may read (paginate it on `seq`)."""
    about = or_(
        and_(col(AuditRecord.actor_type) == "player", col(AuditRecord.actor_id) == player_id),
        and_(col(AuditRecord.target_type) == "player", col(AuditRecord.target_id) == str(player_id)),
    )
    return readable_records(viewer, AuditFilter(), topics=topics).where(about)
