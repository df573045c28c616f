"""The cashier's own limits at intake: card BIN rules, payment limits and velocity per method and player
(services/cashier/payment_rules.py says what they are; the live routing version holds them).

Called in the deposit's or withdrawal's transaction, after the payment's insert and under the player's money
lock, so the payment itself is counted and two concurrent requests of one player are counted one after the
other (the second waits for the first's commit and sees it). A refusal is a DomainError with its code —
CARD_BIN_BLOCKED, CARD_BIN_UNKNOWN (a blocking rule that fails closed could not decide), PAYMENT_LIMIT_EXCEEDED
or PAYMENT_VELOCITY_EXCEEDED, the last two with `LimitDetails` (which cap, how much, when the window frees up) —
and rolls the payment back with the transaction.
Payments that moved no money (failed, rejected, cancelled) do not count. BIN rules apply to card deposits (the
only payments whose card the vault is asked about); a rule that sends undecided cards to review is returned in
`Checked.bin_review`, and the deposit is held (services/cashier/deposits.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import clock
from core.errors import DomainError, ErrorCode, LimitDetails
from core.money import format_amount, parse_amount
from models.payments import Payment, PaymentKind, PaymentStatus
from services.cashier.payment_rules import BinRule, CardVerdict, PaymentLimit, card_verdict
from services.cashier.routing_config import RoutingConfig, live
from services.risk.score import score as risk_score_of
from services.risk.store import OnSession

NOT_COUNTED = (PaymentStatus.FAILED.value, PaymentStatus.REJECTED.value, PaymentStatus.CANCELLED.value)


@dataclass(frozen=True)
class Checked:
    """What the checks learnt and routing reads next: the version, the card's country, the risk score."""

    config: RoutingConfig
    bin_country: str | None
    risk_score: int | None
    bin_review: BinRule | None = None  # a BIN rule that could not decide and sends the deposit to review


def uses_risk_score(config: RoutingConfig) -> bool:
    return any(r.min_risk_score is not None or r.max_risk_score is not None for r in config.rules) or any(
        limit.min_risk_score is not None for limit in config.limits
    )


async def check(db: AsyncSession, payment: Payment, *, card_bin: str | None = None, reviewed: bool = False) -> Checked:
    """Refuse the payment if a BIN rule blocks its card (or cannot decide and fails closed) or a limit that applies
    to it is exceeded. `reviewed`: the risk desk has looked at it (a held deposit released): no review again."""
    config = await live(db)
    by_card = payment.method == "card" and payment.kind == PaymentKind.DEPOSIT
    verdict = card_verdict(config.bin_rules, card_bin) if by_card else CardVerdict(None, None)
    if verdict.blocked_by is not None:
        raise DomainError(
            "Cards of this issuer are not accepted here: please use another card or method.",
            field="pspToken",
            code=ErrorCode.CARD_BIN_BLOCKED,
        )
    if verdict.unknown_refused_by is not None:
        raise DomainError(
            "This card's issuer could not be checked: please use another card or method.",
            field="pspToken",
            code=ErrorCode.CARD_BIN_UNKNOWN,
        )
    score = (await risk_score_of(OnSession(db), payment.player_id)).value if uses_risk_score(config) else None
    limits = [
        limit
        for limit in config.limits
        if limit.applies(kind=payment.kind, method=payment.method, currency=payment.currency, risk_score=score or 0)
    ]
    for limit in limits:
        if limit.max_amount is not None and payment.amount > parse_amount(
            limit.max_amount, payment.currency, allow_zero=True
        ):
            raise DomainError(
                f"At most {limit.max_amount} {payment.currency} per payment.",
                field="amount",
                code=ErrorCode.PAYMENT_LIMIT_EXCEEDED,
                limit=LimitDetails(
                    kind=f"payment_{payment.kind}",
                    amount=parse_amount(limit.max_amount, payment.currency, allow_zero=True),
                    currency=payment.currency,
                ),
            )
    await _velocity(db, payment, [limit for limit in limits if limit.window_hours is not None])
    return Checked(config, verdict.country, score, None if reviewed else verdict.review_by)


_OBSERVED_BIN = text(
    "SELECT card_bin FROM risk_observations WHERE reference = :payment AND occasion = 'deposit' "
    "AND card_bin IS NOT NULL LIMIT 1"
)


async def check_again(db: AsyncSession, payment: Payment) -> Checked:
    """`check` for a deposit taken up again (a risk hold released): its card's BIN as observed at intake (the
    payment does not keep it), so its BIN country still routes it and a BIN blocked since refuses it; a BIN rule's
    review is what the release was (it is not held again for it)."""
    card_bin = await db.scalar(_OBSERVED_BIN, {"payment": payment.id}) if payment.method == "card" else None
    return await check(db, payment, card_bin=card_bin, reviewed=True)


async def _velocity(db: AsyncSession, payment: Payment, limits: list[PaymentLimit]) -> None:
    """Each windowed limit's count and total of the player's payments, in one statement."""
    if not limits:
        return
    now = clock.now()
    columns: list[Any] = []
    for limit in limits:
        since = now - timedelta(hours=limit.window_hours or 0)
        where = col(Payment.created_at) >= since
        if limit.methods is not None:
            where = where & col(Payment.method).in_(sorted(limit.methods))
        columns += [
            func.count().filter(where),
            func.coalesce(func.sum(Payment.amount).filter(where), 0),
            func.min(Payment.created_at).filter(where),
        ]
    longest = max(limit.window_hours or 0 for limit in limits)
    row = (
        await db.execute(
            select(*columns).where(
                col(Payment.player_id) == payment.player_id,
                col(Payment.kind) == payment.kind,
                col(Payment.currency) == payment.currency,
                col(Payment.status).not_in(NOT_COUNTED),
                col(Payment.created_at) >= now - timedelta(hours=longest),
            )
        )
    ).one()
    for index, limit in enumerate(limits):
        count, total, oldest = row[3 * index], int(row[3 * index + 1]), row[3 * index + 2]
        hours = limit.window_hours or 0
        frees_at = (oldest or now) + timedelta(hours=hours)
        if limit.max_count is not None and count > limit.max_count:
            raise DomainError(
                f"At most {limit.max_count} payments in {hours} hours: try again later.",
                field="amount",
                code=ErrorCode.PAYMENT_VELOCITY_EXCEEDED,
                limit=LimitDetails(
                    kind="payment_count", period=f"{hours}h", amount=limit.max_count, resets_at=frees_at
                ),
            )
        cap = parse_amount(limit.max_total, payment.currency, allow_zero=True) if limit.max_total else None
        if cap is not None and total > cap:
            left = max(0, cap - (total - payment.amount))
            raise DomainError(
                f"At most {limit.max_total} {payment.currency} in {hours} hours "
                f"({format_amount(left, payment.currency)} left).",
                field="amount",
                code=ErrorCode.PAYMENT_VELOCITY_EXCEEDED,
                limit=LimitDetails(
                    kind="payment_total", period=f"{hours}h", amount=cap, currency=payment.currency, resets_at=frees_at
                ),
            )
