"""Quotes: a rate between an asset and a fiat currency, locked until `expires_at` (`settings.crypto_quote_ttl_seconds`
after it was locked, 15 minutes by default, as processors lock theirs).

A deposit quote prices every transfer first seen at the player's address while it is valid (so the player
knows what their coins will be worth when they send them); a transfer that arrives with no valid quote is
priced at the processor's rate when it is first seen, locked then in a quote of its own (`first_seen`) for the
same lifetime. The rate a transfer is credited at is its quote's if the transfer reaches its confirmations
while the quote is valid; confirmed after the quote expired, it is credited at the processor's rate at that
moment, locked in a quote of its own (`confirmed`): the rate risk of a slow chain is the player's, as at the
processors. A withdrawal quote fixes both amounts of one withdrawal: the fiat amount held and the asset amount
paid, whenever the payout happens.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation, localcontext

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.money import MAX_MINOR_UNITS, InvalidAmount, parse_amount
from core.money import currency as currency_info
from core.runtime import Runtime
from models.crypto import CryptoAddress, CryptoQuote
from services.cashier.crypto import assets
from services.cashier.crypto.processor import processor
from services.cashier.intake import _payer
from services.cashier.payments import PaymentUnavailable
from services.cashier.psp import PspTechnicalFailure

DIRECTIONS = ("deposit", "withdrawal")


def parse_rate(text: str) -> Decimal:
    """The processor's rate, exactly; positive and within the column's precision, or the processor is broken."""
    try:
        rate = Decimal(text)
    except (InvalidOperation, ValueError) as exc:
        raise PaymentUnavailable("The crypto processor answered no usable rate.") from exc
    if not rate.is_finite() or rate <= 0 or rate >= Decimal(10) ** 18:
        raise PaymentUnavailable("The crypto processor answered no usable rate.")
    with localcontext() as exact:  # 18 digits each side of the point: more than the default context's 28
        exact.prec = 36
        return rate.quantize(Decimal(1).scaleb(-18))


async def current_rate(rt: Runtime, asset: str, currency: str) -> Decimal:
    try:
        return parse_rate(await processor(rt.settings).rate(asset, currency))
    except PspTechnicalFailure as exc:
        raise PaymentUnavailable("The crypto processor is not answering; try again shortly.") from exc


async def quote(
    rt: Runtime, viewer: Viewer, *, asset: str, currency: str, direction: str, amount: str | None = None
) -> CryptoQuote:
    """Lock the processor's rate for `settings.crypto_quote_ttl_seconds`. With `amount` (in `currency`) the
    quote also says the asset's amount: what to send for it (deposits, rounded up) or what will be paid for it
    (withdrawals, rounded down; a withdrawal quote needs one)."""
    of = assets.asset(asset)
    code = currency_info(currency).code
    if code in assets.ASSETS:
        raise DomainError("Quote an asset in a fiat currency.", field="currency", code=ErrorCode.INVALID_INPUT)
    if direction not in DIRECTIONS:
        raise DomainError("A quote is for a deposit or a withdrawal.", field="direction")
    if direction == "withdrawal" and not amount:
        raise InvalidAmount("A withdrawal quote needs the amount to withdraw.", field="amount")
    minor = parse_amount(amount, code) if amount else None
    async with rt.database.session() as db:
        player, _ = await _payer(db, viewer, code)
    rate = await current_rate(rt, of.code, code)
    asset_amount = None
    if minor is not None:
        units = Decimal(minor) / Decimal(10) ** currency_info(code).exponent / rate * Decimal(10) ** of.ledger_exponent
        asset_amount = int(units.to_integral_value(rounding="ROUND_UP" if direction == "deposit" else "ROUND_DOWN"))
        if asset_amount <= 0:
            raise InvalidAmount(f"That is less than the smallest amount of {of.code}.", field="amount")
        if asset_amount > MAX_MINOR_UNITS:  # a BIGINT of the asset's minor units, as every ledger amount
            raise InvalidAmount("The amount is too large.", field="amount")
    async with rt.database.transaction() as db:
        now = clock.now()
        row = CryptoQuote(
            brand_id=player.brand_id,
            player_id=player.id,
            asset=of.code,
            currency=code,
            direction=direction,
            source="player",
            rate=rate,
            amount=minor,
            asset_amount=asset_amount,
            expires_at=now + timedelta(seconds=rt.settings.crypto_quote_ttl_seconds),
            created_at=now,
        )
        db.add(row)
        await db.flush()
        return row


async def deposit_rate(
    db: AsyncSession, address: CryptoAddress, at: datetime, rate_now: Decimal | None, *, ttl_seconds: int
) -> CryptoQuote | None:
    """The rate a transfer first seen `at` is priced at: the player's deposit quote valid then, else
    `rate_now` (the processor's, asked before this transaction) locked now. None: no rate to lock."""
    valid = await valid_deposit_quote(db, address, at)
    if valid is not None or rate_now is None:
        return valid
    return await lock_deposit_rate(db, address, at, rate_now, source="first_seen", ttl_seconds=ttl_seconds)


async def expired(db: AsyncSession, quote_id: uuid.UUID | None, at: datetime) -> bool:
    """Whether the quote a transfer was priced at has expired by `at` (its confirmation)."""
    if quote_id is None:
        return False
    expires_at = await db.scalar(select(col(CryptoQuote.expires_at)).where(col(CryptoQuote.id) == quote_id))
    return expires_at is not None and expires_at <= at


async def lock_deposit_rate(
    db: AsyncSession, address: CryptoAddress, at: datetime, rate: Decimal, *, source: str, ttl_seconds: int
) -> CryptoQuote:
    """`rate` (the processor's, asked before this transaction) locked `at` for a transfer at `address`."""
    locked = CryptoQuote(
        id=uuid.uuid4(),
        brand_id=address.brand_id,
        player_id=address.player_id,
        asset=address.asset,
        currency=address.credit_currency,
        direction="deposit",
        source=source,
        rate=rate,
        expires_at=at + timedelta(seconds=ttl_seconds),
        created_at=at,
    )
    db.add(locked)
    await db.flush()
    return locked


async def valid_deposit_quote(db: AsyncSession, address: CryptoAddress, at: datetime) -> CryptoQuote | None:
    found: CryptoQuote | None = await db.scalar(
        select(CryptoQuote)
        .where(
            col(CryptoQuote.player_id) == address.player_id,
            col(CryptoQuote.asset) == address.asset,
            col(CryptoQuote.currency) == address.credit_currency,
            col(CryptoQuote.direction) == "deposit",
            col(CryptoQuote.source) == "player",
            col(CryptoQuote.expires_at) > at,
        )
        .order_by(col(CryptoQuote.created_at).desc())
        .limit(1)
    )
    return found
