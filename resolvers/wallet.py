"""Wallet resolvers: balances, transactions, postings, adjustments."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import strawberry
from sqlmodel import col, select

from core.errors import bad_input
from core.pagination import paginate
from models import adjustments as adjustment_models
from models.ledger import LedgerAccount, LedgerPosting, LedgerTransaction
from models.players import Player
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, Money, node_uuid
from schema.context import Info
from schema.wallet import (
    Adjustment,
    AdjustmentDirection,
    AdjustmentStatus,
    BalanceChange,
    DecideAdjustmentInput,
    DecideAdjustmentPayload,
    LedgerAccountRef,
    RequestAdjustmentInput,
    RequestAdjustmentPayload,
    TransactionFilter,
    WalletBalance,
)
from schema.wallet import (
    LedgerPosting as PostingType,
)
from schema.wallet import (
    LedgerTransaction as TransactionType,
)
from services import adjustments, players, wallet
from services.wallet import Balance


def wallet_balance(balance: Balance) -> WalletBalance:
    return WalletBalance(
        currency=balance.currency,
        cash=Money.of(balance.cash, balance.currency),
        bonus=Money.of(balance.bonus, balance.currency),
        withdrawal_pending=Money.of(balance.withdrawal_pending, balance.currency),
    )


def readable_transactions(info: Info) -> Any:
    return wallet.readable_transactions(info.context.viewer)


async def player_transactions(
    info: Info,
    player_id: uuid.UUID,
    where: TransactionFilter | None,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[TransactionType]:
    readable = players.readable_players(info.context.viewer).with_only_columns(col(Player.id))
    stmt = select(LedgerTransaction).where(
        col(LedgerTransaction.player_id) == player_id,
        col(LedgerTransaction.player_id).in_(readable),
        LedgerTransaction.status == "committed",
    )
    if where is not None:
        if where.kinds:
            stmt = stmt.where(col(LedgerTransaction.kind).in_([k.value for k in where.kinds]))
        if where.since:
            stmt = stmt.where(col(LedgerTransaction.created_at) >= where.since)
        if where.until:
            stmt = stmt.where(col(LedgerTransaction.created_at) < where.until)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            stmt,
            (col(LedgerTransaction.created_at), col(LedgerTransaction.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        changes = await _player_changes(
            db, player_id, [tx.id for tx in page.items], where.currency.upper() if where and where.currency else None
        )
    if where is not None and where.currency:
        keep = [i for i, tx in enumerate(page.items) if changes.get(tx.id)]
        page = type(page)(
            items=[page.items[i] for i in keep],
            cursors=[page.cursors[i] for i in keep],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
        )
    return Connection.of(page, lambda tx: _transaction(tx, changes.get(tx.id, [])))


async def _player_changes(
    db: Any, player_id: uuid.UUID, tx_ids: list[uuid.UUID], currency: str | None
) -> dict[uuid.UUID, list[BalanceChange]]:
    """The player's own postings for a page of transactions, in one query."""
    if not tx_ids:
        return {}
    stmt = (
        select(LedgerPosting, LedgerAccount.purpose)
        .join(LedgerAccount, col(LedgerAccount.id) == col(LedgerPosting.account_id))
        .where(
            col(LedgerPosting.transaction_id).in_(tx_ids),
            LedgerAccount.owner_type == "player",
            LedgerAccount.owner_id == str(player_id),
        )
        .order_by(col(LedgerPosting.id))
    )
    if currency:
        stmt = stmt.where(LedgerAccount.currency == currency)
    found: dict[uuid.UUID, list[BalanceChange]] = defaultdict(list)
    for posting, purpose in (await db.execute(stmt)).all():
        found[posting.transaction_id].append(
            BalanceChange(
                account=purpose,
                amount=Money.of(posting.amount, posting.currency),
                balance_after=Money.of(posting.balance_after or 0, posting.currency),
            )
        )
    return found


def _transaction(tx: LedgerTransaction, changes: list[BalanceChange]) -> TransactionType:
    return TransactionType(
        id=str(tx.id),
        kind=tx.kind,
        status=tx.status,
        refusal_code=tx.refusal_code,
        created_at=tx.created_at,
        reference_type=tx.reference_type,
        reference_id=tx.reference_id,
        changes=changes,
        player_id=tx.player_id,
    )


async def ledger_transaction(info: Info, id: strawberry.ID) -> TransactionType | None:
    tx_id = node_uuid(id, "LedgerTransaction")
    async with info.context.rt.database.session() as db:
        tx = await db.scalar(readable_transactions(info).where(col(LedgerTransaction.id) == tx_id))
        if tx is None:
            return None
        changes = await _player_changes(db, tx.player_id, [tx.id], None) if tx.player_id else {}
    return _transaction(tx, changes.get(tx.id, []))


async def referenced_transactions(info: Info, reference_type: str, reference_id: uuid.UUID) -> list[TransactionType]:
    """The transactions recorded for a payment or adjustment (readable ones only), oldest first."""
    async with info.context.rt.database.session() as db:
        rows = (
            await db.scalars(
                readable_transactions(info)
                .where(
                    LedgerTransaction.reference_type == reference_type,
                    LedgerTransaction.reference_id == str(reference_id),
                )
                .order_by(col(LedgerTransaction.created_at), col(LedgerTransaction.id))
            )
        ).all()
        changes: dict[uuid.UUID, list[BalanceChange]] = {}
        for player_id in {tx.player_id for tx in rows if tx.player_id}:
            changes.update(
                await _player_changes(db, player_id, [tx.id for tx in rows if tx.player_id == player_id], None)
            )
    return [_transaction(tx, changes.get(tx.id, [])) for tx in rows]


async def transaction_postings(info: Info, tx_id: uuid.UUID) -> list[PostingType]:
    async with info.context.rt.database.session() as db:
        visible = await db.scalar(readable_transactions(info).where(col(LedgerTransaction.id) == tx_id))
        if visible is None:
            return []
        rows = (
            await db.execute(
                select(LedgerPosting, LedgerAccount)
                .join(LedgerAccount, col(LedgerAccount.id) == col(LedgerPosting.account_id))
                .where(LedgerPosting.transaction_id == tx_id)
                .order_by(col(LedgerPosting.id))
            )
        ).all()
    return [
        PostingType(
            account=LedgerAccountRef(
                id=strawberry.ID(str(account.id)),
                owner_type=account.owner_type,
                owner_id=account.owner_id,
                purpose=account.purpose,
                currency=account.currency,
            ),
            amount=Money.of(posting.amount, posting.currency),
            balance_after=Money.of(posting.balance_after, posting.currency)
            if posting.balance_after is not None
            else None,
        )
        for posting, account in rows
    ]


async def list_adjustments(
    info: Info,
    status: AdjustmentStatus | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Adjustment]:
    readable = players.readable_players(info.context.viewer).with_only_columns(col(Player.id))
    stmt = select(adjustment_models.Adjustment).where(col(adjustment_models.Adjustment.player_id).in_(readable))
    if status is not None:
        stmt = stmt.where(adjustment_models.Adjustment.status == status.value)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            stmt,
            (col(adjustment_models.Adjustment.created_at), col(adjustment_models.Adjustment.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, Adjustment.from_model)


@payload_errors(RequestAdjustmentPayload)
async def request_adjustment(info: Info, input: RequestAdjustmentInput) -> RequestAdjustmentPayload:
    require_subject(info)
    if not input.idempotency_key.strip():
        raise bad_input("An idempotency key is required.", field="idempotencyKey")
    form = adjustments.AdjustmentRequest(
        player_id=node_uuid(input.player_id, "Player"),
        amount=input.amount,
        currency=input.currency,
        credit=input.direction == AdjustmentDirection.CREDIT,
        reason=input.reason,
        idempotency_key=input.idempotency_key.strip(),
    )
    row = await adjustments.request(info.context.rt, info.context.viewer, form)
    return RequestAdjustmentPayload(adjustment=Adjustment.from_model(row))


@payload_errors(DecideAdjustmentPayload)
async def decide_adjustment(info: Info, input: DecideAdjustmentInput) -> DecideAdjustmentPayload:
    require_subject(info)
    row = await adjustments.decide(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.adjustment_id, "Adjustment"),
        approve=input.approve,
        reason=input.reason,
    )
    return DecideAdjustmentPayload(adjustment=Adjustment.from_model(row))
