"""Crypto cashier resolvers: thin; services/cashier/crypto/ decides everything."""

from __future__ import annotations

import uuid

import strawberry
from sqlmodel import col

from core.errors import NotFound, forbidden
from core.pagination import paginate
from models import crypto as m
from resolvers.cashier import _refusal
from resolvers.common import payload_errors
from schema.base import Connection, node_uuid
from schema.cashier import Payment
from schema.context import Info
from schema.crypto import (
    CryptoAddress,
    CryptoDepositAddressInput,
    CryptoDepositAddressPayload,
    CryptoQuote,
    CryptoQuoteInput,
    CryptoQuotePayload,
    CryptoTransfer,
    CryptoTransferFilter,
    CryptoWithdrawInput,
    CryptoWithdrawPayload,
    HeldCryptoDepositInput,
    HeldCryptoDepositPayload,
)
from services.cashier.crypto import addresses, holds, queries, quotes, withdrawals


def _player(info: Info) -> None:
    if not info.context.viewer.is_player:
        raise forbidden("Only players pay in or out.")


@payload_errors(CryptoDepositAddressPayload)
async def crypto_deposit_address(info: Info, input: CryptoDepositAddressInput) -> CryptoDepositAddressPayload:
    _player(info)
    found = await addresses.deposit_address(
        info.context.rt, info.context.viewer, asset=input.asset.value, currency=input.currency
    )
    return CryptoDepositAddressPayload(address=CryptoAddress.from_model(found))


@payload_errors(CryptoQuotePayload)
async def crypto_quote(info: Info, input: CryptoQuoteInput) -> CryptoQuotePayload:
    _player(info)
    found = await quotes.quote(
        info.context.rt,
        info.context.viewer,
        asset=input.asset.value,
        currency=input.currency,
        direction=input.direction.value,
        amount=input.amount,
    )
    return CryptoQuotePayload(quote=CryptoQuote.from_model(found))


@payload_errors(CryptoWithdrawPayload)
async def crypto_withdraw(info: Info, input: CryptoWithdrawInput) -> CryptoWithdrawPayload:
    _player(info)
    quote_id = None
    if input.quote_id is not None:
        try:
            quote_id = uuid.UUID(str(input.quote_id))
        except ValueError as exc:
            raise NotFound("No such withdrawal quote.", field="quoteId") from exc
    found = await withdrawals.withdraw(
        info.context.rt,
        info.context.viewer,
        asset=input.asset.value,
        address=input.address,
        amount=input.amount,
        quote_id=quote_id,
        idempotency_key=input.idempotency_key,
        forfeit_bonuses=input.forfeit_bonuses,
    )
    return CryptoWithdrawPayload(payment=Payment.from_model(found), errors=_refusal(found))


async def crypto_addresses(info: Info) -> list[CryptoAddress]:
    """The viewer's deposit addresses (a player's own; staff of a brand: theirs)."""
    async with info.context.rt.database.session() as db:
        rows = (await db.scalars(queries.readable_addresses(info.context.viewer))).all()
    return [CryptoAddress.from_model(row) for row in rows]


async def crypto_transfers(
    info: Info,
    filter: CryptoTransferFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[CryptoTransfer]:
    """On-chain transfers of crypto payments, newest first, with their payments' status."""
    where = queries.TransferFilter(
        direction=filter.direction.value if filter and filter.direction else None,
        asset=filter.asset.value if filter and filter.asset else None,
        status=filter.status if filter else None,
        player_id=node_uuid(filter.player_id, "Player") if filter and filter.player_id else None,
    )
    stmt = queries.readable_transfers(info.context.viewer, where)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            stmt,
            (col(m.CryptoTransfer.created_at), col(m.CryptoTransfer.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        states = await queries.payment_states(db, [row.payment_id for row in page.items if row.payment_id])

    def convert(row: m.CryptoTransfer) -> CryptoTransfer:
        state = states.get(row.payment_id) if row.payment_id else None
        return CryptoTransfer.of(row, state.status if state else None, state.reference if state else None)

    return Connection.of(page, convert)


def _transfer_id(value: strawberry.ID) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound("No such crypto deposit.", field="transferId") from exc


async def _decided(info: Info, row: m.CryptoTransfer) -> HeldCryptoDepositPayload:
    async with info.context.rt.database.session() as db:
        states = await queries.payment_states(db, [row.payment_id] if row.payment_id else [])
    state = states.get(row.payment_id) if row.payment_id else None
    return HeldCryptoDepositPayload(transfer=CryptoTransfer.of(row, state.status if state else None))


@payload_errors(HeldCryptoDepositPayload)
async def release_held_crypto_deposit(info: Info, input: HeldCryptoDepositInput) -> HeldCryptoDepositPayload:
    """Finance: credit a held crypto deposit to its player, if the deposit gates now pass."""
    row = await holds.release(
        info.context.rt, info.context.viewer, transfer_id=_transfer_id(input.transfer_id), reason=input.reason
    )
    return await _decided(info, row)


@payload_errors(HeldCryptoDepositPayload)
async def refund_held_crypto_deposit(info: Info, input: HeldCryptoDepositInput) -> HeldCryptoDepositPayload:
    """Finance: send a held crypto deposit back to the address it came from (screened by the processor first)."""
    row = await holds.refund(
        info.context.rt, info.context.viewer, transfer_id=_transfer_id(input.transfer_id), reason=input.reason
    )
    return await _decided(info, row)
