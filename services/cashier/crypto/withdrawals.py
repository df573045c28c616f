"""Crypto withdrawals: to an address screened on chain, in the asset or from a fiat wallet at a quoted rate.

The request is a withdrawal like any other (services/cashier/withdrawals.py: held at once, risk, KYC, closed
loop, auto-approval or finance), its instrument `<asset>:<address>`. Before it is taken the destination is
screened (a refused address is never held for); the processor's adapter screens it again right before the
payout (services/cashier/psp/cryptopay.py), so an address flagged meanwhile is declined and the hold voided.
From a fiat wallet the player first takes a withdrawal quote (quotes.py): its fiat amount is held, its asset
amount is paid, and one quote serves one withdrawal (its idempotency key).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.money import InvalidAmount, parse_amount
from core.runtime import Runtime
from models.crypto import CryptoQuote, CryptoTransfer
from models.payments import Payment, PaymentMethod
from services.cashier.crypto import assets
from services.cashier.crypto.processor import PROCESSOR, processor
from services.cashier.intake import _check_key
from services.cashier.payments import PaymentUnavailable
from services.cashier.psp import PspTechnicalFailure
from services.cashier.psp.cryptopay import Screening
from services.cashier.queries import get_readable
from services.cashier.withdrawals import requested
from services.risk.observe import observed


async def withdraw(
    rt: Runtime,
    viewer: Viewer,
    *,
    asset: str,
    address: str,
    amount: str | None = None,
    quote_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    forfeit_bonuses: bool = False,
) -> Payment:
    """Withdraw `amount` of the asset from the player's wallet in it, or a quote's amounts from a fiat wallet.
    A retry with the same key answers the first payment (screened once)."""
    of = assets.asset(asset)
    destination = assets.check_address(of, address)
    key = _check_key(idempotency_key)
    if not viewer.is_player or viewer.id is None:
        raise DomainError("Only a player can pay in or out.", code=ErrorCode.NOT_ALLOWED)
    async with rt.database.session() as db:
        first = await db.scalar(
            select(Payment).where(col(Payment.player_id) == viewer.id, col(Payment.idempotency_key) == key)
        )
        if first is not None and first.method == PaymentMethod.CRYPTO:
            return await get_readable(db, viewer, first.id)
    try:
        screening = await processor(rt.settings).screen(of.code, destination)
    except PspTechnicalFailure as exc:
        raise PaymentUnavailable("The crypto processor is not answering; try again shortly.") from exc
    if screening.refused:
        raise DomainError(
            "Withdrawals cannot be sent to this address.", field="address", code=ErrorCode.CRYPTO_ADDRESS_REFUSED
        )
    quote: CryptoQuote | None = None
    if quote_id is not None:
        quote = await _take_quote(rt, viewer.id, quote_id, of, key)
        assert quote.amount is not None
        currency, minor = quote.currency, quote.amount
    elif amount is None:
        raise InvalidAmount("An amount of the asset, or a withdrawal quote, is required.", field="amount")
    else:
        currency, minor = of.code, parse_amount(amount, of.code)
    token = assets.instrument_token(of, destination)
    payment = await requested(
        rt,
        viewer,
        currency,
        minor,
        PaymentMethod.CRYPTO.value,
        token,
        key,
        forfeit_bonuses,
        observed(viewer.meta, None),
    )
    await _record(rt, payment, of, destination, screening, quote)
    return payment


async def _take_quote(
    rt: Runtime, player_id: uuid.UUID, quote_id: uuid.UUID, of: assets.Asset, key: str
) -> CryptoQuote:
    """Bind a valid withdrawal quote of the player's to this withdrawal's key (a retry finds it bound)."""
    async with rt.database.transaction() as db:
        quote = await db.get(CryptoQuote, quote_id, with_for_update={"key_share": True}, populate_existing=True)
        if quote is None or quote.player_id != player_id or quote.direction != "withdrawal" or quote.asset != of.code:
            raise NotFound("No such withdrawal quote.", field="quoteId")
        if quote.withdrawal_key not in (None, key):
            raise DomainError(
                "This quote was used for another withdrawal.", field="quoteId", code=ErrorCode.CRYPTO_QUOTE_USED
            )
        # Bound to this key but no payment made (the request was refused and rolled back: an active bonus,
        # the closed loop, a limit): a retry is a new request, and an expired rate is no option to keep.
        if quote.payment_id is None and quote.expires_at <= clock.now():
            raise DomainError(
                "This quote has expired; ask for a new one.", field="quoteId", code=ErrorCode.CRYPTO_QUOTE_EXPIRED
            )
        if quote.withdrawal_key is None:
            taken = await db.scalar(
                select(col(CryptoQuote.id)).where(
                    col(CryptoQuote.player_id) == player_id, col(CryptoQuote.withdrawal_key) == key
                )
            )
            if taken is not None:
                raise DomainError(
                    "This idempotency key was used for a different payment.",
                    field="idempotencyKey",
                    code=ErrorCode.IDEMPOTENCY_CONFLICT,
                )
            quote.withdrawal_key = key
        return quote


async def _record(
    rt: Runtime, payment: Payment, of: assets.Asset, address: str, screening: Screening, quote: CryptoQuote | None
) -> None:
    """The withdrawal's transfer (its asset, address, amount, rate and screening), once per payment."""
    asset_amount = payment.amount if quote is None else int(quote.asset_amount or 0)
    now = clock.now()
    async with rt.database.transaction() as db:
        await db.execute(
            insert(CryptoTransfer)
            .values(
                id=uuid.uuid4(),
                direction="withdrawal",
                processor=PROCESSOR,
                brand_id=payment.brand_id,
                player_id=payment.player_id,
                asset=of.code,
                network=of.network,
                address=address,
                chain_amount=Decimal(assets.to_chain(of, asset_amount)),
                asset_amount=asset_amount,
                confirmations=0,
                required_confirmations=0,
                status="requested",
                credit_currency=payment.currency,
                quote_id=None if quote is None else quote.id,
                rate=None if quote is None else quote.rate,
                payment_id=payment.id,
                screening=screening.summary(),
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(constraint="uq_crypto_transfers_payment")
        )
        if quote is not None:
            bound = await db.get(CryptoQuote, quote.id)
            if bound is not None and bound.payment_id is None:
                bound.payment_id = payment.id
