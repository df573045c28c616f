"""The last look before a withdrawal's money leaves: the payout step re-reads what may hold it back.

A withdrawal is approved (automatically or by finance) and sent to a PSP in a later transaction (the
cascade's first step, or `reconcile` after a crash). Between the two the account may have changed: a
chargeback restricted it, the risk desk or a rule held its withdrawals or blocked it, an AML case
restricted it. So the step that moves an approved withdrawal to `processing` asks again, under the
payment's row lock and after risk's turn on the player's withdrawals (services/risk/actions.py
`take_turn`: a hold being imposed commits first, and is seen here):

| what holds it | the withdrawal becomes | `failure_code` |
| --- | --- | --- |
| an AML restriction | `requested` (finance's, once the AML case lifts it) | `AML_RESTRICTED` |
| a risk hold (`hold_withdrawals`, `block_account`) | `requested` (released by the risk desk's lift) | `RISK_HOLD` |
| KYC holds withdrawals (a restriction, as every chargeback sets; a level) | `waiting_for_kyc` | `KYC_REQUIRED` |

Its money stays held, nothing is sent, approvals are cleared (the facts they were given changed: finance
approves again), and `payment.payout_held` says why. The code stays on the payment as the reason it was
held back; the next decision (a lift's automatic approval, finance) goes on as for a new request.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorCode
from models.payments import Payment, PaymentStatus
from models.players import Player
from services.aml import restrictions as aml
from services.cashier.payments import _event, _set_status
from services.kyc import gates as kyc_gates
from services.risk import actions as risk_actions
from services.risk.store import OnSession

_HELD = {
    ErrorCode.AML_RESTRICTED: (PaymentStatus.REQUESTED, "An AML review restricts the account: the payout waits."),
    ErrorCode.RISK_HOLD: (PaymentStatus.REQUESTED, "Risk holds the player's withdrawals: the payout waits."),
    ErrorCode.KYC_REQUIRED: (PaymentStatus.WAITING_FOR_KYC, "KYC holds the player's withdrawals: the payout waits."),
}


async def _holding(db: AsyncSession, payment: Payment) -> ErrorCode | None:
    await risk_actions.take_turn(OnSession(db), payment.player_id)
    if await aml.aml_restriction(db, payment.player_id) is not None:
        return ErrorCode.AML_RESTRICTED
    if (await risk_actions.in_force(OnSession(db), payment.player_id)).withdrawals_held:
        return ErrorCode.RISK_HOLD
    player = await db.get(Player, payment.player_id)
    assert player is not None
    if await kyc_gates.withdrawal_blocked(db, player):
        return ErrorCode.KYC_REQUIRED
    return None


async def held_before_payout(db: AsyncSession, payment: Payment) -> bool:
    """Under the approved withdrawal's row lock, before it is sent: True when it was held back (above)."""
    code = await _holding(db, payment)
    if code is None:
        return False
    status, message = _HELD[code]
    payment.approved_by = payment.first_approved_by = None
    payment.decision_reason = message
    _set_status(payment, status, code=code, message=message)
    await _event(db, payment, "payment.payout_held", reason=code.value)
    return True
