"""The processor's fees: what it charges for moving coins (a payout's or a refund's network fee), booked so the
PSP's clearing account in the asset matches the processor's own balance.

The processor reports a fee in the asset, with the payout (its answer, or its callback once the chain confirms
it). It is booked once per payout (`psp-fee:<payout>`), clearing → the brand's `psp_fees` expense account in the
asset, when the payout succeeded; a fee reported again (a later callback, a replay) is not booked twice. The fee
converts to the ledger's units rounded up (ETH below 10^-8, the ledger's unit: the processor's books are in wei,
ours in 10 gwei; rounding up never shows the clearing account holding more than the processor does).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_UP, Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.crypto import CryptoTransfer
from models.ledger import AccountPurpose
from models.payments import Payment
from services import ledger, wallet
from services.cashier.crypto import assets


def reported(of: assets.Asset, raw: Mapping[str, Any]) -> int:
    """The fee in the processor's answer or callback, in the ledger's minor units of the asset (0: none)."""
    value = raw.get("fee")
    if value is None or isinstance(value, bool) or not isinstance(value, (str, int)):
        return 0
    try:
        amount = assets.chain_amount(of, str(value), zero=True)
    except ValueError:
        return 0  # the adapter refuses a callback with such a fee; an answer's is the processor's to mend
    return int((amount * Decimal(10) ** of.ledger_exponent).to_integral_value(rounding=ROUND_UP))


async def book(db: AsyncSession, payment: Payment, of: assets.Asset, fee: int, *, key: str) -> None:
    """Clearing → fees in the asset, once per `key` (a payout), whatever fee a later report says."""
    await _post(db, payment, of, fee, f"psp-fee:{key}", "psp_fee", 1)


async def give_back(db: AsyncSession, payment: Payment, of: assets.Asset, fee: int, *, key: str) -> None:
    """Fees → clearing: the fee `book` booked under `key` for a payout that then failed (refunds.py), once."""
    await _post(db, payment, of, fee, f"psp-fee-reversed:{key}", "psp_fee_reversed", -1)


async def _post(
    db: AsyncSession, payment: Payment, of: assets.Asset, fee: int, idempotency_key: str, kind: str, sign: int
) -> None:
    if fee <= 0 or await ledger.recorded(db, idempotency_key) is not None:
        return
    assert payment.psp is not None
    clearing = await wallet.operator_account(
        db, payment.brand_id, AccountPurpose.PSP_CLEARING, of.code, owner_type="psp", owner_id=payment.psp
    )
    expense = await wallet.operator_account(
        db, payment.brand_id, AccountPurpose.PSP_FEES, of.code, owner_type="psp", owner_id=payment.psp
    )
    await ledger.record(
        db,
        ledger.Entry(
            idempotency_key=idempotency_key,
            kind=kind,
            legs=(ledger.Leg(expense, -sign * fee), ledger.Leg(clearing, sign * fee)),
            actor_type="psp",
            brand_id=payment.brand_id,
            player_id=payment.player_id,
            reference_type="payment",
            reference_id=str(payment.id),
            details={"psp": payment.psp},
        ),
    )


async def on_payout(db: AsyncSession, payment: Payment, payload: Mapping[str, Any]) -> int:
    """A crypto withdrawal's payout succeeded: its fee, if the processor reported one (in the payout's asset)."""
    destination = assets.split_token(payment.instrument_token)
    if destination is None:
        return 0
    of = destination[0]
    fee = reported(of, payload)
    if fee > 0:
        await book(db, payment, of, fee, key=f"payout:{payment.id}")
        await db.execute(
            update(CryptoTransfer)
            .where(col(CryptoTransfer.payment_id) == payment.id, col(CryptoTransfer.fee).is_(None))
            .values(fee=Decimal(assets.to_chain(of, fee)))
        )
    return fee
