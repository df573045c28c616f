"""Segments as staff build them: create, change, archive, preview before saving, upload a static list.

- A segment belongs to one brand; staff of a brand see and change only their brand's (services/scoping.py's
  rule: staff scoped to no brand see every brand and name the brand they create for).
- A dynamic segment's rules are validated (services/crm/segments/rules.py) before anything is written, and
  its membership is computed in the same transaction as its creation or change, so a saved segment never
  shows an empty or stale member list; a change bumps `version`.
- A static segment's members come from uploads: player ids or e-mail addresses, one per line or separated
  by commas (a CSV's first column), of the segment's brand; what is not found is counted and shown by line
  number, never echoed back (an e-mail address that matches nobody is still personal data).
- Every change is audited; the preview (`preview`) writes nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import prepared
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.ids import new_id
from core.prepared import Statement
from core.runtime import Runtime
from models.brands import Brand
from models.crm import CrmSegment, CrmSegmentMember, SegmentKind
from models.players import Player
from services import audit
from services.crm.segments import membership
from services.crm.segments import rules as segment_rules
from services.risk.store import OnSession

MAX_NAME = 120
PREVIEW_MAX = 50
MAX_UPLOAD_LINES = 50_000
MAX_UPLOAD_CHARS = 2_000_000
_BAD_LINES_SHOWN = 20
_SEPARATORS = re.compile(r"[,;\t]")


@dataclass(frozen=True)
class Preview:
    size: int
    player_ids: list[uuid.UUID]  # the first of them, newest registrations first


@dataclass(frozen=True)
class Upload:
    segment: CrmSegment
    added: int  # new members
    already: int  # already members (or listed twice)
    not_found: int  # no such player at the brand, or not reachable (not active, erased, excluded)
    bad_lines: list[int]  # line numbers (1-based) of the first entries not found or malformed


def readable_segments(
    viewer: Viewer, *, kind: SegmentKind | None = None, archived: bool = False
) -> SelectOfScalar[CrmSegment]:
    stmt = select(CrmSegment).where(col(CrmSegment.status) == ("archived" if archived else "active"))
    if kind is not None:
        stmt = stmt.where(col(CrmSegment.kind) == kind.value)
    if not (viewer.is_staff or viewer.kind == "system"):
        return stmt.where(col(CrmSegment.id).is_(None))
    return stmt if viewer.brand_id is None else stmt.where(col(CrmSegment.brand_id) == viewer.brand_id)


async def readable_segment(db: AsyncSession, viewer: Viewer, segment_id: uuid.UUID) -> CrmSegment:
    found: CrmSegment | None = (
        await db.scalars(readable_segments(viewer).where(col(CrmSegment.id) == segment_id).limit(1))
    ).first() or (
        await db.scalars(readable_segments(viewer, archived=True).where(col(CrmSegment.id) == segment_id).limit(1))
    ).first()
    if found is None:
        raise NotFound("No such segment.", field="segmentId")
    return found


async def _brand(db: AsyncSession, viewer: Viewer, code: str | None) -> Brand:
    if viewer.brand_id is not None:
        brand = await db.get(Brand, viewer.brand_id)
        if brand is not None and code and brand.code != code:
            raise NotFound("No such brand.", field="brand")
    elif code:
        brand = (await db.scalars(select(Brand).where(col(Brand.code) == code))).first()
    else:
        raise DomainError("Name the brand the segment is for.", field="brand")
    if brand is None:
        raise NotFound("No such brand.", field="brand")
    return brand


def _name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise DomainError("Give the segment a name.", field="name")
    if len(cleaned) > MAX_NAME:
        raise DomainError(f"At most {MAX_NAME} characters.", field="name")
    return cleaned


async def _unique_name(db: AsyncSession, brand_id: uuid.UUID, name: str, segment_id: uuid.UUID | None) -> None:
    stmt = select(col(CrmSegment.id)).where(col(CrmSegment.brand_id) == brand_id, col(CrmSegment.name) == name)
    found = await db.scalar(stmt.limit(1))
    if found is not None and found != segment_id:
        raise DomainError(
            f"The brand already has a segment named {name!r}.", field="name", code=ErrorCode.ALREADY_EXISTS
        )


def _view(segment: CrmSegment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "kind": segment.kind,
        "rules": segment.rules,
        "status": segment.status,
        "version": segment.version,
    }


async def create_segment(
    rt: Runtime, viewer: Viewer, *, name: str, kind: SegmentKind, rules: Any = None, brand_code: str | None = None
) -> CrmSegment:
    """A new segment; a dynamic one with its members already computed."""
    name = _name(name)
    if kind == SegmentKind.STATIC and rules:
        raise DomainError("A static segment has no rules: upload its members.", field="rules")
    stored = segment_rules.dump(segment_rules.parse(rules or {})) if kind == SegmentKind.DYNAMIC else {}
    async with _name_taken(name), rt.database.transaction() as db:
        brand = await _brand(db, viewer, brand_code)
        await _unique_name(db, brand.id, name, None)
        now = clock.now()
        segment = CrmSegment(
            id=new_id(), brand_id=brand.id, name=name, kind=kind.value, rules=stored, created_by=viewer.id,
            created_at=now, updated_at=now,
        )  # fmt: skip
        db.add(segment)
        await db.flush()
        if kind == SegmentKind.DYNAMIC:
            await membership.refresh(OnSession(db), None, segment_id=segment.id)
        await audit.append(
            db, actor=viewer, action="crm.segment_created", target_type="crm_segment", target_id=segment.id,
            brand_id=brand.id, after=_view(segment),
        )  # fmt: skip
    return segment


@asynccontextmanager
async def _name_taken(name: str) -> AsyncIterator[None]:
    """The unique index's refusal of a name another transaction took after our check: ALREADY_EXISTS."""
    try:
        yield
    except IntegrityError as clash:
        if "uq_crm_segments_brand_name" not in str(clash.orig):
            raise
        raise DomainError(
            f"The brand already has a segment named {name!r}.", field="name", code=ErrorCode.ALREADY_EXISTS
        ) from clash


async def _locked(db: AsyncSession, viewer: Viewer, segment_id: uuid.UUID, *, members: bool) -> CrmSegment:
    """The segment, its row locked for a change. `members`: the change writes memberships, so it first takes
    the memberships' lock, in the order the consumer and the loop take it (they hold it while their inserts
    share-lock the segment's row: the other order deadlocks). The row lock is FOR NO KEY UPDATE, which those
    inserts' foreign-key checks do not wait for."""
    if members:
        await prepared.execute(db, membership.LOCK)
    segment = await readable_segment(db, viewer, segment_id)
    await db.refresh(segment, with_for_update={"key_share": True})
    return segment


async def update_segment(
    rt: Runtime, viewer: Viewer, *, segment_id: uuid.UUID, name: str | None = None, rules: Any = None
) -> CrmSegment:
    """Rename a segment, or change a dynamic one's rules (its members follow at once; `version` + 1)."""
    async with _name_taken(" ".join((name or "").split())), rt.database.transaction() as db:
        segment = await _locked(db, viewer, segment_id, members=rules is not None)
        if segment.status != "active":
            raise DomainError("The segment is archived.", field="segmentId", code=ErrorCode.INVALID_STATE)
        before = _view(segment)
        if name is not None:
            segment.name = _name(name)
            await _unique_name(db, segment.brand_id, segment.name, segment.id)
        if rules is not None:
            if segment.kind != SegmentKind.DYNAMIC:
                raise DomainError("A static segment has no rules: upload its members.", field="rules")
            segment.rules = segment_rules.dump(segment_rules.parse(rules))
            segment.version += 1
        segment.updated_at = clock.now()
        db.add(segment)
        await db.flush()
        if rules is not None:
            await membership.refresh(OnSession(db), None, segment_id=segment.id)
        await audit.append(
            db, actor=viewer, action="crm.segment_changed", target_type="crm_segment", target_id=segment.id,
            brand_id=segment.brand_id, before=before, after=_view(segment),
        )  # fmt: skip
    return segment


async def archive_segment(rt: Runtime, viewer: Viewer, *, segment_id: uuid.UUID) -> CrmSegment:
    """Archive a segment: it keeps its name and history but no longer has members (readers see none)."""
    async with rt.database.transaction() as db:
        segment = await _locked(db, viewer, segment_id, members=True)
        if segment.status == "archived":
            return segment
        before = _view(segment)
        segment.status = "archived"
        segment.updated_at = clock.now()
        db.add(segment)
        await prepared.execute(db, _FORGET, {"segment": segment.id})
        await audit.append(
            db, actor=viewer, action="crm.segment_archived", target_type="crm_segment", target_id=segment.id,
            brand_id=segment.brand_id, before=before, after=_view(segment),
        )  # fmt: skip
    return segment


_FORGET = Statement("DELETE FROM crm_segment_members WHERE segment_id = :segment")


async def preview(db: AsyncSession, viewer: Viewer, rules: Any, *, brand_code: str | None, limit: int = 10) -> Preview:
    """How many players the rules hold for now, and the first `limit` (newest registrations first): two
    statements, nothing written."""
    if not 0 <= limit <= PREVIEW_MAX:
        raise DomainError(f"Preview 0 to {PREVIEW_MAX} players.", field="limit")
    where = segment_rules.where(segment_rules.parse(rules or {}))
    brand = await _brand(db, viewer, brand_code)
    params = where.params(clock.now(), brand=brand.id, limit=limit)
    body = f"FROM players p WHERE p.brand_id = :brand AND {where.sql}"
    size = int(await prepared.value(db, Statement(f"SELECT count(*) {body}"), params) or 0)
    ids: list[uuid.UUID] = []
    if size and limit:
        statement = Statement(f"SELECT p.id {body} ORDER BY p.created_at DESC, p.id DESC LIMIT :limit")
        ids = [row.id for row in await prepared.rows(db, statement, params)]
    return Preview(size, ids)


async def sizes(db: AsyncSession, segment_ids: list[uuid.UUID]) -> list[int]:
    """Each segment's member count (for DataLoaders: one statement)."""
    stmt = (
        select(col(CrmSegmentMember.segment_id), func.count())
        .where(col(CrmSegmentMember.segment_id).in_(segment_ids))
        .group_by(col(CrmSegmentMember.segment_id))
    )
    found = {row[0]: int(row[1]) for row in await db.execute(stmt)}
    return [found.get(segment_id, 0) for segment_id in segment_ids]


def members(viewer: Viewer, segment_id: uuid.UUID) -> SelectOfScalar[Player]:
    """A segment's members as players (the viewer's brand scope applies to the segment and the players)."""
    from services.players import readable_players

    scope = readable_segments(viewer).where(col(CrmSegment.id) == segment_id).with_only_columns(col(CrmSegment.id))
    return readable_players(viewer).where(
        col(Player.id).in_(
            select(col(CrmSegmentMember.player_id)).where(col(CrmSegmentMember.segment_id).in_(scope.scalar_subquery()))
        )
    )


async def upload_members(
    rt: Runtime, viewer: Viewer, *, segment_id: uuid.UUID, text: str, emails_allowed: bool = True
) -> Upload:
    """Add the listed players (ids or e-mail addresses of the segment's brand) to a static segment.

    `emails_allowed`: whether the viewer may list e-mail addresses. The upload's figures (and the segment's size) tell
    which addresses are players of the brand, so a viewer who may not read players' e-mail addresses lists ids."""
    if len(text) > MAX_UPLOAD_CHARS:
        raise DomainError(f"At most {MAX_UPLOAD_CHARS:,} characters per upload.", field="members")
    if "\x00" in text:
        raise DomainError("The list holds a NUL character.", field="members")
    entries = _entries(text)
    if not entries:
        raise DomainError("List at least one player id or e-mail address.", field="members")
    if not emails_allowed and any(isinstance(value, str) for _, value in entries):
        raise DomainError(
            "Listing players by e-mail address needs the right to read players' e-mail addresses: list player ids.",
            field="members",
            code=ErrorCode.NOT_ALLOWED,
        )
    async with rt.database.transaction() as db:
        # Under the memberships' lock: a player the consumer takes out of every segment (excluded, closed) at
        # this moment is either seen unreachable here or taken out after this upload commits.
        await prepared.execute(db, membership.LOCK)
        segment = await readable_segment(db, viewer, segment_id)
        if segment.kind != SegmentKind.STATIC:
            raise DomainError(
                "A dynamic segment's rules decide its members.", field="segmentId", code=ErrorCode.INVALID_STATE
            )
        if segment.status != "active":
            raise DomainError("The segment is archived.", field="segmentId", code=ErrorCode.INVALID_STATE)
        ids = [value for _, value in entries if isinstance(value, uuid.UUID)]
        emails = [value for _, value in entries if isinstance(value, str)]
        now = clock.now()
        params = {"brand": segment.brand_id, "ids": ids, "emails": emails, "now": now}
        found = {(row.id, row.email): row.reachable for row in await prepared.rows(db, _MATCH, params)}
        by_id = {pid: (pid, reach) for (pid, _), reach in found.items()}
        by_email = {email: (pid, reach) for (pid, email), reach in found.items()}
        wanted: dict[uuid.UUID, None] = {}
        bad: list[int] = []
        not_found = already = 0
        for line, value in entries:
            hit = by_id.get(value) if isinstance(value, uuid.UUID) else by_email.get(value) if value else None
            if hit is None or not hit[1]:
                not_found += 1
                bad.append(line)
            elif hit[0] in wanted:
                already += 1
            else:
                wanted[hit[0]] = None
        added = 0
        if wanted:
            rows = await prepared.rows(db, _INSERT, {"segment": segment.id, "players": list(wanted), "now": now})
            added = len(rows)
            already += len(wanted) - added
        await audit.append(
            db, actor=viewer, action="crm.segment_members_uploaded", target_type="crm_segment", target_id=segment.id,
            brand_id=segment.brand_id, after={"added": added, "already": already, "not_found": not_found},
        )  # fmt: skip
    return Upload(segment, added, already, not_found, bad[:_BAD_LINES_SHOWN])


_MATCH = Statement(f"""
SELECT p.id, p.email, ({segment_rules.REACHABLE}) AS reachable FROM players p
WHERE p.brand_id = :brand AND (p.id = ANY(CAST(:ids AS uuid[])) OR p.email = ANY(CAST(:emails AS text[])))
""")  # noqa: S608  (a constant)
_INSERT = Statement("""
INSERT INTO crm_segment_members (segment_id, player_id, joined_at)
SELECT :segment, unnest(CAST(:players AS uuid[])), :now ON CONFLICT DO NOTHING RETURNING player_id
""")


def _entries(text: str) -> list[tuple[int, uuid.UUID | str | None]]:
    """(line number, a player id, a lower-case e-mail address or None when malformed) per non-empty line: the
    first field of a CSV line; a header line (`player_id`, `email`, `id`) is skipped."""
    entries: list[tuple[int, uuid.UUID | str | None]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        first = _SEPARATORS.split(raw, maxsplit=1)[0].strip().strip('"').strip()
        if not first or (number == 1 and first.lower() in {"player_id", "email", "id", "player"}):
            continue
        if len(entries) >= MAX_UPLOAD_LINES:
            raise DomainError(f"At most {MAX_UPLOAD_LINES:,} players per upload.", field="members")
        try:
            entries.append((number, uuid.UUID(first)))
        except ValueError:
            email = first.lower()
            entries.append((number, email if "@" in email and len(email) <= 254 else None))
    return entries
