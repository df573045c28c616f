"""A player's marketing consents: one per product and channel, and how the old single flag maps onto them.

Products are data (`PRODUCTS`), channels are `models.crm.Channel`. The effective consent for a product
and a channel is, in this order:
1. `players.marketing_consent` false: no consent at all (the master switch; an exclusion and an erasure
   turn it off, and so does withdrawing every consent);
2. a `crm_consents` row for the product and channel: its `granted`;
3. no row: the registration default, granted on the email and inbox channels (the registration's consent
   box reads "news and offers by e-mail and on the site"), for every product.

The first `setConsents` of a player writes the whole matrix (every product and channel), so the defaults
never apply to them again; the flag then follows the rows (true while any consent is granted). An
unsubscribe writes `granted = false` with source `unsubscribe`, which `refusal` reports as UNSUBSCRIBED
rather than NO_CONSENT. Re-granting is refused while an exclusion lasts, as the profile's flag is.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from models.crm import Channel, CrmConsent
from models.players import Player
from services import audit, wallet
from services.rg import exclusions as rg_exclusions

PRODUCTS: tuple[str, ...] = ("casino", "live_casino", "sports", "poker")
CHANNELS: tuple[str, ...] = tuple(channel.value for channel in Channel)
REGISTRATION_CHANNELS: frozenset[str] = frozenset({Channel.EMAIL.value, Channel.INBOX.value})


class Source:
    """Who set a consent row (`crm_consents.source`)."""

    PLAYER = "player"
    UNSUBSCRIBE = "unsubscribe"
    REGISTRATION = "registration"  # never written: the default where no row exists


@dataclass(frozen=True)
class Consent:
    product: str
    channel: str
    granted: bool  # effective: the master flag and the row (or the default)
    source: str  # the row's source, or `registration` for a default
    changed_at: datetime | None  # the row's time; None for a default


@dataclass(frozen=True)
class ConsentChange:
    product: str
    channel: str
    granted: bool


def default_granted(channel: str) -> bool:
    return channel in REGISTRATION_CHANNELS


def effective(master: bool, rows: Iterable[CrmConsent]) -> list[Consent]:
    """The whole matrix, products then channels in their listed order."""
    by_key = {(row.product, row.channel): row for row in rows}
    matrix: list[Consent] = []
    for product in PRODUCTS:
        for channel in CHANNELS:
            row = by_key.get((product, channel))
            if row is None:
                matrix.append(Consent(product, channel, master and default_granted(channel), Source.REGISTRATION, None))
            else:
                matrix.append(Consent(product, channel, master and row.granted, row.source, row.changed_at))
    return matrix


async def rows_of(db: AsyncSession, player_id: uuid.UUID) -> list[CrmConsent]:
    return list((await db.scalars(select(CrmConsent).where(col(CrmConsent.player_id) == player_id))).all())


async def consents_of(db: AsyncSession, player: Player) -> list[Consent]:
    return effective(player.marketing_consent, await rows_of(db, player.id))


async def rows_of_players(db: AsyncSession, player_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[CrmConsent]]:
    """Consent rows of many players in one statement (the DataLoader's batch)."""
    found: dict[uuid.UUID, list[CrmConsent]] = {player_id: [] for player_id in player_ids}
    rows = await db.scalars(select(CrmConsent).where(col(CrmConsent.player_id).in_(list(player_ids))))
    for row in rows:
        found[row.player_id].append(row)
    return found


def _validate(changes: Sequence[ConsentChange]) -> None:
    if not changes:
        raise DomainError("Name at least one consent to change.", field="consents")
    seen: set[tuple[str, str]] = set()
    for change in changes:
        if change.product not in PRODUCTS:
            raise DomainError(f"Unknown product {change.product[:40]!r}.", field="product")
        if change.channel not in CHANNELS:
            raise DomainError(f"Unknown channel {change.channel[:40]!r}.", field="channel")
        if (change.product, change.channel) in seen:
            raise DomainError("Each product and channel may appear once.", field="consents")
        seen.add((change.product, change.channel))


_CANCEL_QUEUED = text("""
WITH cancelled AS (
    UPDATE crm_messages SET status = 'cancelled', reason = :reason, lease_until = NULL
    WHERE player_id = :player AND status = 'queued'
      AND (CAST(:channel AS text) IS NULL OR channel = :channel)
      AND (CAST(:product AS text) IS NULL OR product = :product)
    RETURNING id, brand_id, player_id, channel, product
)
INSERT INTO crm_suppressions (brand_id, player_id, purpose, channel, product, reason, source_kind, source_id,
                              message_id, at)
SELECT brand_id, player_id, 'message', channel, product, :reason, :source_kind, NULL, id, :at FROM cancelled
""")


async def cancel_queued(
    db: AsyncSession,
    player_id: uuid.UUID,
    *,
    reason: str,
    source_kind: str,
    channel: str | None = None,
    product: str | None = None,
) -> int:
    """The player's queued messages (of a channel and product, or all) are cancelled with the reason, each
    with its suppression row. Returns how many."""
    result = await db.execute(
        _CANCEL_QUEUED,
        {
            "player": player_id,
            "reason": reason,
            "source_kind": source_kind,
            "channel": channel,
            "product": product,
            "at": clock.now(),
        },
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def announce(db: AsyncSession, player_id: uuid.UUID, brand_id: uuid.UUID, *, consent: bool, cause: str) -> None:
    """`player.marketing_consent_changed`: the master flag flipped (cause `player` or `exclusion`)."""
    await outbox.emit(
        db,
        "player.marketing_consent_changed",
        f"player:{player_id}",
        {"player_id": str(player_id), "consent": consent, "cause": cause},
        brand_id=brand_id,
    )


async def write(
    db: AsyncSession, player: Player, changes: Sequence[ConsentChange], *, source: str
) -> tuple[list[Consent], list[Consent]]:
    """Materialise the matrix with the changes applied, under the player's row lock; the master flag follows
    (and its event when it flips). Withdrawn consents cancel the queued messages they covered. Returns the
    matrix before and after."""
    rows = await rows_of(db, player.id)
    before = effective(player.marketing_consent, rows)
    wanted = {(c.product, c.channel): c.granted for c in changes}
    now = clock.now()
    written: list[CrmConsent] = []
    for consent in before:
        key = (consent.product, consent.channel)
        if key in wanted:
            granted, row_source, changed_at = wanted[key], source, now
        elif consent.changed_at is None or not player.marketing_consent:
            # A default made explicit, or a row kept under a master switch that was off (now it shows so).
            granted, row_source, changed_at = consent.granted, consent.source, consent.changed_at or now
        else:
            continue
        written.append(
            CrmConsent(
                player_id=player.id,
                product=consent.product,
                channel=consent.channel,
                granted=granted,
                source=row_source,
                changed_at=changed_at,
            )
        )
    if written:
        statement = insert(CrmConsent).values(
            [
                {
                    "player_id": row.player_id,
                    "product": row.product,
                    "channel": row.channel,
                    "granted": row.granted,
                    "source": row.source,
                    "changed_at": row.changed_at,
                }
                for row in written
            ]
        )
        await db.execute(
            statement.on_conflict_do_update(
                index_elements=["player_id", "product", "channel"],
                set_={
                    "granted": statement.excluded.granted,
                    "source": statement.excluded.source,
                    "changed_at": statement.excluded.changed_at,
                },
            )
        )
    merged = {(row.product, row.channel): row for row in rows}
    merged.update({(row.product, row.channel): row for row in written})
    now_rows = list(merged.values())
    master = any(row.granted for row in now_rows)
    after = effective(master, now_rows)
    if master != player.marketing_consent:
        player.marketing_consent = master
        await db.flush()
        await announce(db, player.id, player.brand_id, consent=master, cause="player")
    reason = "UNSUBSCRIBED" if source == Source.UNSUBSCRIBE else "NO_CONSENT"
    for old, new in zip(before, after, strict=True):
        if old.granted and not new.granted:
            await cancel_queued(
                db, player.id, reason=reason, source_kind=source, channel=new.channel, product=new.product
            )
    return before, after


async def set_consents(
    db: AsyncSession, viewer: Viewer, player_id: uuid.UUID, changes: Sequence[ConsentChange]
) -> list[Consent]:
    """The player sets their own consents (in the caller's transaction). Audited."""
    _validate(changes)
    player = (await wallet.lock_player_money(db, player_id, standing=True)).player
    if player is None:
        raise DomainError("No such player.", code=ErrorCode.NOT_FOUND)
    if any(c.granted for c in changes) and await rg_exclusions.active(db, player.id) is not None:
        raise DomainError(
            "Marketing stays off while a time-out or self-exclusion lasts.",
            field="consents",
            code=ErrorCode.NOT_ALLOWED,
        )
    before, after = await write(db, player, changes, source=Source.PLAYER)
    await audit.append(
        db,
        actor=viewer,
        action="crm.consents_set",
        target_type="player",
        target_id=player.id,
        brand_id=player.brand_id,
        before={"granted": _granted(before)},
        after={"granted": _granted(after)},
    )
    return after


def _granted(matrix: Sequence[Consent]) -> list[str]:
    return [f"{c.product}:{c.channel}" for c in matrix if c.granted]
