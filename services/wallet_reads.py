"""The wallet's read side: a player's money movements page by page, one transaction, the transactions
recorded for a payment or an adjustment, and the postings of many transactions at once.

Every read starts from the viewer's ownership filter in SQL (`wallet.readable_transactions`,
`players.readable_players`), never from a fetch filtered afterwards. The batch reads take many keys and
run one statement, so a DataLoader turns a page of rows into one query whatever the page size.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, String, cast, exists
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.pagination import Page, paginate
from models.ledger import LedgerAccount, LedgerPosting, LedgerTransaction
from models.players import Player
from services import players
from services.wallet import readable_transactions

Reference = tuple[str, str]  # (reference type, reference id), e.g. ("payment", "<uuid>")
PostingLine = tuple[LedgerPosting, LedgerAccount]


@dataclass(frozen=True)
class Change:
    """How one of the transaction's own player's accounts moved."""

    account: str  # the account's purpose: cash | bonus | withdrawal_pending | debt (after a chargeback)
    amount: int  # signed, minor units
    currency: str
    balance_after: int


@dataclass(frozen=True)
class Movement:
    transaction: LedgerTransaction
    changes: list[Change]


@dataclass(frozen=True)
class HistoryFilter:
    kinds: list[str] | None = None
    currency: str | None = None  # only movements of the player's accounts in this currency
    since: datetime | None = None
    until: datetime | None = None


def _own_accounts(currency: str | None = None) -> list[ColumnElement[bool]]:
    """Conditions on `LedgerAccount` (joined to the transaction): an account of the transaction's own player."""
    conditions = [
        col(LedgerAccount.owner_type) == "player",
        col(LedgerAccount.owner_id) == cast(col(LedgerTransaction.player_id), String),
    ]
    if currency:
        conditions.append(col(LedgerAccount.currency) == currency)
    return conditions


async def history(
    db: AsyncSession,
    viewer: Viewer,
    player_id: uuid.UUID,
    where: HistoryFilter,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Page[Movement]:
    """A readable player's committed transactions, newest first, with their own balance changes."""
    readable = players.readable_players(viewer).with_only_columns(col(Player.id))
    stmt = select(LedgerTransaction).where(
        col(LedgerTransaction.player_id) == player_id,
        col(LedgerTransaction.player_id).in_(readable),
        LedgerTransaction.status == "committed",
    )
    if where.kinds:
        stmt = stmt.where(col(LedgerTransaction.kind).in_(where.kinds))
    if where.since:
        stmt = stmt.where(col(LedgerTransaction.created_at) >= where.since)
    if where.until:
        stmt = stmt.where(col(LedgerTransaction.created_at) < where.until)
    currency = where.currency.upper() if where.currency else None
    if currency:  # in SQL, so a page holds `first` movements in that currency
        moved = (
            select(col(LedgerPosting.id))
            .join(LedgerAccount, col(LedgerAccount.id) == col(LedgerPosting.account_id))
            .where(col(LedgerPosting.transaction_id) == col(LedgerTransaction.id), *_own_accounts(currency))
        )
        stmt = stmt.where(exists(moved))
    page = await paginate(
        db,
        stmt,
        (col(LedgerTransaction.created_at), col(LedgerTransaction.id)),
        first=first,
        after=after,
        last=last,
        before=before,
    )
    changes = await changes_of(db, [tx.id for tx in page.items], currency)
    return Page(
        items=[Movement(tx, changes.get(tx.id, [])) for tx in page.items],
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
    )


async def movement(db: AsyncSession, viewer: Viewer, transaction_id: uuid.UUID) -> Movement | None:
    """One transaction, if the viewer may read it."""
    tx = await db.scalar(readable_transactions(viewer).where(col(LedgerTransaction.id) == transaction_id))
    if tx is None:
        return None
    return Movement(tx, (await changes_of(db, [tx.id])).get(tx.id, []))


async def referenced_many(
    db: AsyncSession, viewer: Viewer, references: Sequence[Reference]
) -> dict[Reference, list[Movement]]:
    """The readable transactions recorded for each payment or adjustment, oldest first (for DataLoaders)."""
    if not references:
        return {}
    wanted = {(kind, ref) for kind, ref in references}
    rows = (
        await db.scalars(
            readable_transactions(viewer)
            .where(
                col(LedgerTransaction.reference_type).in_({kind for kind, _ in wanted}),
                col(LedgerTransaction.reference_id).in_({ref for _, ref in wanted}),
            )
            .order_by(col(LedgerTransaction.created_at), col(LedgerTransaction.id))
        )
    ).all()
    changes = await changes_of(db, [tx.id for tx in rows])
    found: dict[Reference, list[Movement]] = defaultdict(list)
    for tx in rows:
        key = (tx.reference_type or "", tx.reference_id or "")
        if key in wanted:  # the IN lists cross types and ids: keep only the pairs asked for
            found[key].append(Movement(tx, changes.get(tx.id, [])))
    return found


async def changes_of(
    db: AsyncSession, transaction_ids: Sequence[uuid.UUID], currency: str | None = None
) -> dict[uuid.UUID, list[Change]]:
    """For each transaction, the postings on its own player's accounts (none for house-only ones), in one query."""
    if not transaction_ids:
        return {}
    stmt = (
        select(LedgerPosting, LedgerAccount.purpose)
        .join(LedgerAccount, col(LedgerAccount.id) == col(LedgerPosting.account_id))
        .join(LedgerTransaction, col(LedgerTransaction.id) == col(LedgerPosting.transaction_id))
        .where(col(LedgerPosting.transaction_id).in_(transaction_ids), *_own_accounts(currency))
        .order_by(col(LedgerPosting.id))
    )
    found: dict[uuid.UUID, list[Change]] = defaultdict(list)
    for posting, purpose in (await db.execute(stmt)).all():
        found[posting.transaction_id].append(
            Change(purpose, posting.amount, posting.currency, posting.balance_after or 0)
        )
    return found


async def postings_of(
    db: AsyncSession, viewer: Viewer, transaction_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PostingLine]]:
    """Every posting of each readable transaction, house side included, with its account (for DataLoaders)."""
    if not transaction_ids:
        return {}
    readable = (
        readable_transactions(viewer)
        .where(col(LedgerTransaction.id).in_(transaction_ids))
        .with_only_columns(col(LedgerTransaction.id))
    )
    rows = (
        await db.execute(
            select(LedgerPosting, LedgerAccount)
            .join(LedgerAccount, col(LedgerAccount.id) == col(LedgerPosting.account_id))
            .where(col(LedgerPosting.transaction_id).in_(readable))
            .order_by(col(LedgerPosting.id))
        )
    ).all()
    found: dict[uuid.UUID, list[PostingLine]] = defaultdict(list)
    for posting, account in rows:
        found[posting.transaction_id].append((posting, account))
    return found
