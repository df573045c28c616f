"""Block and watch lists: emails and email domains, IP addresses and ranges, devices, card BINs and
fingerprints, countries; each entry with its reason, who added it, and an optional expiry.

Guarantees:
- A block refuses the request with `RISK_BLOCKED` inside the flow's transaction, before any money moves
  (the deposit's payment insert and the withdrawal's hold roll back with it); the refusal itself is then
  recorded in a transaction of its own (`record_blocked`): a flag and a `risk.list_hit` event.
- A watch hit lets the request through and records a flag and a `risk.list_hit` event in the flow's own
  transaction, so a rolled-back request leaves no flag and a committed one always has its flag.
- One statement decides, whatever the number of entries: (kind, value) by index, IP ranges by a GiST
  index on `network` (`network >>= ip`). An entry counts from `added_at` until `expires_at` (the clock's
  now) or its removal; entries are never deleted, so the lists' history stays.
- Entries are per brand or (brand_id null, staff with every brand) for all brands.
- Adding and removing are audited (services/audit.py) with the reason.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.clock import utc as clock_utc
from core.errors import DomainError, ErrorCode, NotFound
from core.ids import new_id
from core.runtime import Runtime
from models.risk import RiskFlag, RiskListEntry
from services import audit
from services.risk import signals


class ListName(StrEnum):
    BLOCK = "block"
    WATCH = "watch"


class EntryKind(StrEnum):
    EMAIL = "email"
    EMAIL_DOMAIN = "email_domain"
    IP = "ip"
    DEVICE = "device"
    CARD_BIN = "card_bin"
    CARD_FINGERPRINT = "card_fingerprint"
    COUNTRY = "country"


class Occasion(StrEnum):
    REGISTRATION = "registration"
    LOGIN = "login"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


@dataclass(frozen=True)
class Hit:
    entry_id: uuid.UUID
    list: ListName
    kind: EntryKind


class RiskBlocked(DomainError):
    code = ErrorCode.RISK_BLOCKED

    def __init__(self, hits: list[Hit]) -> None:
        kinds = ", ".join(sorted({h.kind.value for h in hits}))
        super().__init__(f"This request cannot be accepted (blocked: {kinds}).")
        self.hits = hits


@dataclass(frozen=True)
class Facts:
    """What a flow checks against the lists (normalised as the entries are)."""

    email: str | None = None
    ip: str | None = None
    device: str | None = None
    card_bin: str | None = None
    card_fingerprint: str | None = None
    country: str | None = None
    extra: dict[EntryKind, str] = field(default_factory=dict)

    def pairs(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if self.email:
            found += [
                (EntryKind.EMAIL, signals.email(self.email)),
                (EntryKind.EMAIL_DOMAIN, signals.email_domain(self.email)),
            ]
        for kind, value in (
            (EntryKind.DEVICE, self.device),
            (EntryKind.CARD_BIN, self.card_bin),
            (EntryKind.CARD_FINGERPRINT, self.card_fingerprint),
            (EntryKind.COUNTRY, self.country.upper() if self.country else None),
        ):
            if value:
                found.append((kind, value))
        if self.card_bin:  # a listed 6-digit BIN also matches the 8-digit one that starts with it
            found += [(EntryKind.CARD_BIN, self.card_bin[:n]) for n in (6, 7) if len(self.card_bin) > n]
        return found


_CHECK = text("""
SELECT id, list, kind FROM risk_list_entries
WHERE removed_at IS NULL AND (expires_at IS NULL OR expires_at > :now)
  AND (brand_id IS NULL OR brand_id = :brand)
  AND ((kind, value) IN (SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:values AS text[])))
       OR (network IS NOT NULL AND network >>= CAST(:ip AS inet)))
ORDER BY list, id""")


async def hits(db: AsyncSession, *, brand_id: uuid.UUID, facts: Facts) -> list[Hit]:
    """The active entries that name one of the facts (one statement)."""
    pairs = facts.pairs()
    if not pairs and not facts.ip:
        return []
    rows = await db.execute(
        _CHECK,
        {
            "now": clock.now(),
            "brand": brand_id,
            "kinds": [k for k, _ in pairs],
            "values": [v for _, v in pairs],
            "ip": signals.ip_address(facts.ip),
        },
    )
    return [Hit(row.id, ListName(row.list), EntryKind(row.kind)) for row in rows]


async def check(
    db: AsyncSession,
    *,
    brand_id: uuid.UUID,
    player_id: uuid.UUID | None,
    occasion: Occasion,
    facts: Facts,
) -> list[Hit]:
    """Refuse on a block hit (`RiskBlocked`: the caller rolls back, then calls `record_blocked`); record
    the watch hits as flags in this transaction. Returns the watch hits."""
    found = await hits(db, brand_id=brand_id, facts=facts)
    blocked = [h for h in found if h.list == ListName.BLOCK]
    if blocked:
        raise RiskBlocked(blocked)
    if found:
        await _flag(db, brand_id=brand_id, player_id=player_id, occasion=occasion, found=found)
    return found


async def record_blocked(
    rt: Runtime, *, brand_id: uuid.UUID, player_id: uuid.UUID | None, occasion: Occasion, refusal: RiskBlocked
) -> None:
    """After the refused flow rolled back: its flags and events, in a transaction of their own."""
    async with rt.database.transaction() as db:
        await _flag(db, brand_id=brand_id, player_id=player_id, occasion=occasion, found=refusal.hits)


async def flag_blocked(
    db: AsyncSession, *, brand_id: uuid.UUID, player_id: uuid.UUID | None, occasion: Occasion, refusal: RiskBlocked
) -> None:
    """`record_blocked` in the caller's transaction, after the refused check was undone (a savepoint: a crypto
    deposit held, services/cashier/crypto/holds.py)."""
    await _flag(db, brand_id=brand_id, player_id=player_id, occasion=occasion, found=refusal.hits)


async def _flag(
    db: AsyncSession, *, brand_id: uuid.UUID, player_id: uuid.UUID | None, occasion: Occasion, found: list[Hit]
) -> None:
    now = clock.now()
    for hit in found:
        flag = RiskFlag(
            id=new_id(),
            player_id=player_id,
            brand_id=brand_id,
            source="list",
            entry_id=hit.entry_id,
            occasion=occasion.value,
            outcome=hit.list.value,
            detail=hit.kind.value,
            raised_at=now,
        )
        db.add(flag)
        subject = f"player:{player_id}" if player_id else f"brand:{brand_id}"
        await outbox.emit(
            db,
            "risk.list_hit",
            subject,
            {
                "flag_id": str(flag.id),
                "entry_id": str(hit.entry_id),
                "list": hit.list.value,
                "kind": hit.kind.value,
                "occasion": occasion.value,
                "player_id": str(player_id) if player_id else None,
            },
            brand_id=brand_id,
        )
    await db.flush()


# ---- managing the lists ----------------------------------------------------------------------------


def normalise(kind: EntryKind, raw: str) -> tuple[str, str | None]:
    """An entry's value as the checks compare it, and its network for IP entries."""
    value = raw.strip()
    problem = "That is not a valid value for this kind of entry."
    if kind == EntryKind.EMAIL:
        if "@" not in value:
            raise DomainError("An email address has an @.", field="value")
        return signals.email(value), None
    if kind == EntryKind.EMAIL_DOMAIN:
        domain = value.lower().lstrip("@")
        if "." not in domain or "@" in domain or len(domain) > 253:
            raise DomainError("A domain such as example.com.", field="value")
        return domain, None
    if kind == EntryKind.IP:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise DomainError("An IP address or a CIDR range (10.0.0.0/8, 2001:db8::/32).", field="value") from exc
        return str(network), str(network)
    if kind == EntryKind.DEVICE:
        device = signals.device_id(value)
        if device is None:
            raise DomainError(problem, field="value")
        return device, None
    if kind == EntryKind.CARD_BIN:
        found = signals.card_bin(value)
        if found is None:
            raise DomainError("A card BIN has 6 to 8 digits.", field="value")
        return found, None
    if kind == EntryKind.CARD_FINGERPRINT:
        if not 8 <= len(value) <= 128 or not value.replace("_", "").replace("-", "").isalnum():
            raise DomainError(problem, field="value")
        return value, None
    if len(value) != 2 or not value.isalpha():
        raise DomainError("Use a two-letter ISO country code.", field="value")
    return value.upper(), None


def _entry_view(entry: RiskListEntry) -> dict[str, Any]:
    return {
        "list": entry.list,
        "kind": entry.kind,
        "value": entry.value,
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "brand_id": str(entry.brand_id) if entry.brand_id else None,
    }


async def add_entry(
    rt: Runtime,
    viewer: Viewer,
    *,
    list_name: ListName,
    kind: EntryKind,
    value: str,
    reason: str,
    expires_at: datetime | None = None,
) -> RiskListEntry:
    """Add an entry for the viewer's brand (staff scoped to every brand: for all brands)."""
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why.", field="reason")
    now = clock.now()
    expires_at = clock_utc(expires_at)  # without an offset: UTC
    if expires_at is not None and expires_at <= now:
        raise DomainError("The expiry is in the past.", field="expiresAt")
    normalised, network = normalise(kind, value)
    entry = RiskListEntry(
        id=new_id(),
        list=list_name.value,
        kind=kind.value,
        value=normalised,
        network=network,
        brand_id=viewer.brand_id,
        reason=reason[:500],
        added_by=viewer.id,
        added_at=now,
        expires_at=expires_at,
    )
    async with rt.database.transaction() as db:
        db.add(entry)
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="risk.list_entry_added",
            target_type="risk_list_entry",
            target_id=entry.id,
            brand_id=entry.brand_id,
            after=_entry_view(entry),
            reason=entry.reason,
        )
    return entry


async def remove_entry(rt: Runtime, viewer: Viewer, *, entry_id: uuid.UUID, reason: str) -> RiskListEntry:
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why.", field="reason")
    async with rt.database.transaction() as db:
        found = readable_entries(viewer, active_only=False).where(col(RiskListEntry.id) == entry_id)
        entry = await db.scalar(found.with_for_update())
        if entry is None:
            raise NotFound("No such list entry.")
        if entry.removed_at is not None:
            raise DomainError("This entry was already removed.", code=ErrorCode.INVALID_STATE)
        if viewer.brand_id is not None and entry.brand_id != viewer.brand_id:
            raise DomainError("This entry applies to every brand.", code=ErrorCode.NOT_ALLOWED)
        entry.removed_at = clock.now()
        entry.removed_by = viewer.id
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="risk.list_entry_removed",
            target_type="risk_list_entry",
            target_id=entry.id,
            brand_id=entry.brand_id,
            before=_entry_view(entry),
            reason=reason[:500],
        )
    return entry


def readable_entries(
    viewer: Viewer,
    *,
    list_name: ListName | None = None,
    kind: EntryKind | None = None,
    active_only: bool = True,
) -> SelectOfScalar[RiskListEntry]:
    """The entries a staff member sees: their brand's and those for every brand."""
    stmt = select(RiskListEntry)
    if viewer.brand_id is not None:
        stmt = stmt.where(or_(col(RiskListEntry.brand_id).is_(None), col(RiskListEntry.brand_id) == viewer.brand_id))
    if list_name is not None:
        stmt = stmt.where(col(RiskListEntry.list) == list_name.value)
    if kind is not None:
        stmt = stmt.where(col(RiskListEntry.kind) == kind.value)
    if active_only:
        stmt = stmt.where(
            col(RiskListEntry.removed_at).is_(None),
            or_(col(RiskListEntry.expires_at).is_(None), col(RiskListEntry.expires_at) > clock.now()),
        )
    return stmt


async def player_flags(db: AsyncSession, player_id: uuid.UUID, *, limit: int = 50) -> list[RiskFlag]:
    """The player's flags, newest first (list hits and signals for review; one statement)."""
    stmt = (
        select(RiskFlag)
        .where(col(RiskFlag.player_id) == player_id)
        .order_by(col(RiskFlag.raised_at).desc(), col(RiskFlag.id).desc())
        .limit(limit)
    )
    return list((await db.scalars(stmt)).all())
