"""What the processor is asked to pay for a crypto withdrawal (the cascade asks, services/cashier/cascade.py)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from models.crypto import CryptoQuote
from models.payments import Payment, PaymentMethod
from services.cashier.crypto import assets
from services.cashier.psp import PayoutRequest


async def payout_request(db: AsyncSession, payment: Payment, request: PayoutRequest) -> PayoutRequest:
    """A withdrawal from a wallet in the asset pays its own amount; from a fiat wallet, the asset amount its
    quote locked (found by the withdrawal's idempotency key). With no quote the request stays in fiat and the
    processor's adapter declines it (no locked rate): it is never paid at a rate nobody quoted."""
    if payment.method != PaymentMethod.CRYPTO:
        return request
    destination = assets.split_token(payment.instrument_token)
    if destination is None or destination[0].code == payment.currency:
        return request
    locked = await db.scalar(
        select(col(CryptoQuote.asset_amount)).where(
            col(CryptoQuote.player_id) == payment.player_id,
            col(CryptoQuote.withdrawal_key) == payment.idempotency_key,
            col(CryptoQuote.asset) == destination[0].code,
            col(CryptoQuote.currency) == payment.currency,
            col(CryptoQuote.amount) == payment.amount,
        )
    )
    if locked is None:
        return request
    return replace(request, amount=int(locked), currency=destination[0].code)
