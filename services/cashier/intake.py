"""Taking a player's request to pay in or out: check it and the payer, then insert the payment once per key."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from models.brands import Brand
from models.payments import Payment, PaymentKind, PaymentMethod, PaymentStatus
from models.players import Player, PlayerStatus
from services.cashier.payments import lock_payment

# Crypto has entry points of its own (services/cashier/crypto: an address to pay to, a destination screened).
DEPOSIT_METHODS = tuple(m for m in PaymentMethod if m != PaymentMethod.CRYPTO)
WITHDRAWAL_METHODS = DEPOSIT_METHODS
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{6,128}$")
LOOKS_LIKE_CARD = re.compile(r"^[\d\s\-]{12,23}$")


def _check_token(token: str | None, *, required: bool) -> str | None:
    if token is None or not token.strip():
        if required:
            raise DomainError("A PSP token from the payment form is required.", field="pspToken")
        return None
    token = token.strip()
    if LOOKS_LIKE_CARD.match(token):
        raise DomainError(
            "Card numbers are never accepted here: send the token from the PSP's payment form.", field="pspToken"
        )
    if not TOKEN_PATTERN.match(token):
        raise DomainError("That is not a PSP token.", field="pspToken")
    return token


def _check_method(method: str, allowed: Sequence[str]) -> str:
    value = method.strip().lower()
    if value not in allowed:
        raise DomainError(f"Unknown payment method {method!r}; use one of {', '.join(allowed)}.", field="method")
    return value


def _check_key(key: str | None) -> str:
    if key is None:
        return uuid.uuid4().hex
    if not 1 <= len(key) <= 200:
        raise DomainError("An idempotency key has 1 to 200 characters.", field="idempotencyKey")
    return key


async def _payer(db: AsyncSession, viewer: Viewer, currency: str) -> tuple[Player, Brand]:
    if not viewer.is_player or viewer.id is None:
        raise DomainError("Only a player can pay in or out.", code=ErrorCode.NOT_ALLOWED)
    player = await db.get(Player, viewer.id)
    if player is None:
        raise NotFound("No such player.")
    if player.status != PlayerStatus.ACTIVE:
        raise DomainError("The account is not active.", code=ErrorCode.ACCOUNT_BLOCKED)
    brand = await db.get(Brand, player.brand_id)
    assert brand is not None
    if currency not in brand.currencies:
        raise DomainError(
            f"{currency} is not accepted by this casino.", field="currency", code=ErrorCode.CURRENCY_NOT_ALLOWED
        )
    return player, brand


async def _create_payment(
    db: AsyncSession,
    *,
    kind: PaymentKind,
    player: Player,
    currency: str,
    amount: int,
    method: str,
    token: str | None,
    key: str,
    status: PaymentStatus,
    fingerprint: str | None = None,
) -> tuple[Payment, bool]:
    """Insert the payment, or find the one this player already made with this key (same request only)."""
    now = clock.now()
    payment_id = (
        await db.execute(
            insert(Payment)
            .values(
                id=uuid.uuid4(),
                kind=kind.value,
                brand_id=player.brand_id,
                player_id=player.id,
                currency=currency,
                amount=amount,
                method=method,
                country=player.country,
                status=status.value,
                idempotency_key=key,
                instrument_token=token,
                instrument_fingerprint=fingerprint,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(constraint="uq_payments_player_idempotency_key")
            .returning(col(Payment.id))
        )
    ).scalar_one_or_none()
    if payment_id is not None:
        return await lock_payment(db, payment_id), True
    existing = await retried(db, kind=kind, player=player, currency=currency, amount=amount, method=method, key=key)
    assert existing is not None
    return existing, False


async def retried(
    db: AsyncSession, *, kind: PaymentKind, player: Player, currency: str, amount: int, method: str, key: str
) -> Payment | None:
    """The payment this player already made with this key (None: none yet); the key used for another request
    is refused (IDEMPOTENCY_CONFLICT)."""
    existing = await db.scalar(
        select(Payment).where(col(Payment.player_id) == player.id, col(Payment.idempotency_key) == key)
    )
    if existing is None:
        return None
    if (existing.kind, existing.currency, existing.amount, existing.method) != (kind.value, currency, amount, method):
        raise DomainError(
            "This idempotency key was used for a different payment.",
            field="idempotencyKey",
            code=ErrorCode.IDEMPOTENCY_CONFLICT,
        )
    return existing
