"""The deposits a risk rule held, as the risk desk lists them (`croupier risk deposits`; the back office reads
the same through `payments(filter: {kind: DEPOSIT, status: HELD})`): each with why, the player's score reasons
a rule gave since the deposit was made (the rule that held it among them). Releasing or declining one is
services/cashier/risk_holds.py's."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col

from authz.subjects import Viewer
from core.money import format_amount
from core.runtime import Runtime
from models.payments import Payment, PaymentKind, PaymentStatus
from services.cashier.queries import PaymentFilter, filtered
from services.risk.score import Reason, scores
from services.risk.store import OnSession


@dataclass(frozen=True)
class HeldDeposit:
    payment: Payment
    amount: str  # in the currency's units, with its code: "30.00 EUR"
    reasons: tuple[Reason, ...]  # the score's reasons hit since the deposit was made, biggest first


async def held_deposits(rt: Runtime, viewer: Viewer, *, first: int = 50) -> list[HeldDeposit]:
    """The viewer's brand's held deposits (every brand's for the system), oldest first: two statements."""
    where = PaymentFilter(status=PaymentStatus.HELD.value, kind=PaymentKind.DEPOSIT.value)
    stmt = filtered(viewer, where).order_by(col(Payment.created_at), col(Payment.id)).limit(first)
    async with rt.database.session() as db:
        payments = list((await db.scalars(stmt)).all())
        found = await scores(OnSession(db), [p.player_id for p in payments]) if payments else {}
    return [
        HeldDeposit(
            p,
            f"{format_amount(p.amount, p.currency)} {p.currency}",
            tuple(r for r in found[p.player_id].reasons if r.last_hit_at >= p.created_at),
        )
        for p in payments
    ]
