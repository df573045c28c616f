"""Wallet resolvers: balances, transactions, postings, adjustments. Thin: the reads are services/wallet_reads.py's
and services/adjustments.py's (with the ownership filter), relations load through DataLoaders."""

from __future__ import annotations

import uuid

import strawberry

from core.errors import bad_input
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
from services import adjustments, wallet_reads
from services.wallet import Balance


def wallet_balance(balance: Balance) -> WalletBalance:
    return WalletBalance(
        currency=balance.currency,
        cash=Money.of(balance.cash, balance.currency),
        bonus=Money.of(balance.bonus, balance.currency),
        withdrawal_pending=Money.of(balance.withdrawal_pending, balance.currency),
        debt=Money.of(balance.debt, balance.currency),
    )


def _changes(changes: list[wallet_reads.Change]) -> list[BalanceChange]:
    return [
        BalanceChange(
            account=change.account,
            amount=Money.of(change.amount, change.currency),
            balance_after=Money.of(change.balance_after, change.currency),
        )
        for change in changes
    ]


def _transaction(movement: wallet_reads.Movement) -> TransactionType:
    tx = movement.transaction
    return TransactionType(
        id=str(tx.id),
        kind=tx.kind,
        status=tx.status,
        refusal_code=tx.refusal_code,
        created_at=tx.created_at,
        reference_type=tx.reference_type,
        reference_id=tx.reference_id,
        changes=_changes(movement.changes),
        player_id=tx.player_id,
    )


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
    criteria = wallet_reads.HistoryFilter()
    if where is not None:
        criteria = wallet_reads.HistoryFilter(
            kinds=[k.value for k in where.kinds] if where.kinds else None,
            currency=where.currency,
            since=where.since,
            until=where.until,
        )
    async with info.context.rt.database.session() as db:
        page = await wallet_reads.history(
            db, info.context.viewer, player_id, criteria, first=first, after=after, last=last, before=before
        )
    return Connection.of(page, _transaction)


async def ledger_transaction(info: Info, id: strawberry.ID) -> TransactionType | None:
    tx_id = node_uuid(id, "LedgerTransaction")
    async with info.context.rt.database.session() as db:
        found = await wallet_reads.movement(db, info.context.viewer, tx_id)
    return _transaction(found) if found else None


async def referenced_transactions(info: Info, reference_type: str, reference_id: uuid.UUID) -> list[TransactionType]:
    """The transactions recorded for a payment or adjustment (readable ones only), oldest first."""
    loader = info.context.loaders.referenced_transactions(info.context.viewer)
    return [_transaction(m) for m in await loader.load((reference_type, str(reference_id)))]


async def transaction_postings(info: Info, tx_id: uuid.UUID) -> list[PostingType]:
    """Through a DataLoader: a page of transactions loads its postings in one query."""
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
        for posting, account in await info.context.loaders.postings(info.context.viewer).load(tx_id)
    ]


async def list_adjustments(
    info: Info,
    status: AdjustmentStatus | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Adjustment]:
    async with info.context.rt.database.session() as db:
        page = await adjustments.readable_page(
            db,
            info.context.viewer,
            status.value if status is not None else None,
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
