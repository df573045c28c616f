"""Chargebacks and returned payouts: a PSP's notice about a transaction that had succeeded, applied to the
books, the account and its dispute (docs/chargebacks.md).

Guarantees:
- Cash never goes below zero: a chargeback takes from the player's cash what it holds and books the rest
  as the player's debt (a `debt` ledger account, never above zero), decided under the player's money lock,
  so a bet or a withdrawal racing it is wholly before or wholly after it (services/wallet.py
  `charge_back`). A later deposit repays the debt first when `deposits_repay_debt` is on.
- Once per chargeback: the dispute row is unique per (PSP, chargeback id) and locked before anything
  moves; its ledger transactions are keyed by it (`chargeback:<psp>:<id>`, `chargeback-reversal:<psp>:<id>`,
  `payout-returned:<payment>`). A replayed webhook (same event id) stops at its receipt; the same chargeback
  announced again under another event id finds its dispute booked and moves nothing.
- Any order: a reversal that arrives before its chargeback is kept on the dispute (state won, nothing
  booked); the chargeback, when it comes, is booked and reversed at once, and restricts nothing. A notice
  about a deposit (or payout) whose success we have not heard of yet proves that success: it is applied
  first, through the cashier's own answer path.
- A reversal (a won dispute) gives back exactly what the chargeback took: the debt it booked, as far as it
  is still owed, and the rest to cash (a part a deposit repaid meanwhile comes back as cash).
- A chargeback restricts the account (the KYC restriction staff use: no deposits, no game launches,
  withdrawals wait) and forfeits the bonus the charged-back deposit claimed, if still in play (its money
  was never really paid in); lifting the restriction is staff's decision. A won dispute restores neither.
- Nothing moves for a notice that does not fit its payment (a chargeback of a withdrawal, a currency that is
  not the payment's, more charged back than was paid in, a return of a withdrawal never paid): the receipt
  records it as `ignored` and the log says why.

Locks: the cashier's order (package docstring): the payment, its attempt, the webhook receipt, the dispute
row (it references the payment), the player's money, then the KYC state — after the money, as a withdrawal
request takes them (the other way round, a chargeback racing a withdrawal deadlocked: tested).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import outbox
from core.clock import clock
from models.auth import AuthSession
from models.bonuses import BonusStatus, PlayerBonus
from models.disputes import Dispute, DisputeState
from models.games import GameRound, GameSession
from models.kyc import KycCheck, KycState
from models.payments import Payment, PaymentAttempt, PaymentKind, PaymentStatus
from services import wallet
from services.bonuses import lifecycle as bonus_lifecycle
from services.cashier.answers import _apply, _FollowUp
from services.cashier.payments import _event, _set_status, log
from services.cashier.psp import Notice, PspAnswer
from services.kyc import actions as kyc_actions
from services.wallet import Actor

PSP = Actor("psp")
EVIDENCE_ROWS = 50  # of each kind, newest first


async def apply_notice(
    db: AsyncSession, payment: Payment, attempt: PaymentAttempt, notice: Notice, *, repay_debt: bool
) -> tuple[str, _FollowUp]:
    """Apply a chargeback, its reversal or a returned payout (the caller holds the payment and attempt locks
    and wrote the receipt). Returns the receipt's result (applied | duplicate | ignored) and the follow-up
    of a success it had to apply first."""
    follow = _FollowUp()
    if notice.currency != payment.currency:
        return _ignored(payment, notice, "currency differs from the payment's"), follow
    withdrawal = notice.kind == "payout_returned"
    if (payment.kind == PaymentKind.WITHDRAWAL) != withdrawal:
        return _ignored(payment, notice, f"a {notice.kind} of a {payment.kind}"), follow
    waiting = (PaymentStatus.PROCESSING,) if withdrawal else (PaymentStatus.CREATED, PaymentStatus.PENDING)
    if payment.status in waiting:  # the notice proves the success we have not heard of: apply it first
        answer = PspAnswer("succeeded", raw={"notice": notice.kind, "id": notice.notice_id})
        follow = await _apply(db, payment, attempt, answer, source="webhook", repay_debt=repay_debt)
    if withdrawal:
        return await _payout_returned(db, payment, attempt, notice), follow
    if payment.status != PaymentStatus.SUCCEEDED or payment.psp != attempt.psp:
        return _ignored(payment, notice, f"the deposit is {payment.status} (or credited through another PSP)"), follow
    if notice.kind == "chargeback":
        return await _chargeback(db, payment, notice), follow
    return await _reversal(db, payment, notice), follow


def _ignored(payment: Payment, notice: Notice, why: str) -> str:
    log.warning("psp_notice_ignored", payment_id=str(payment.id), notice=notice.kind, id=notice.notice_id, why=why)
    return "ignored"


async def _dispute(db: AsyncSession, payment: Payment, notice: Notice, state: DisputeState) -> tuple[Dispute, bool]:
    """The chargeback's dispute row, inserted if new (True), locked either way."""
    now = clock.now()
    inserted = await db.scalar(
        insert(Dispute)
        .values(
            id=uuid.uuid4(),
            brand_id=payment.brand_id,
            player_id=payment.player_id,
            payment_id=payment.id,
            psp=payment.psp,
            chargeback_id=notice.notice_id,
            reason_code=notice.reason,
            currency=payment.currency,
            amount=notice.amount,
            state=state.value,
            evidence={},
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(constraint="uq_disputes_chargeback")
        .returning(col(Dispute.id))
    )
    dispute = await db.scalar(
        select(Dispute)
        .where(col(Dispute.psp) == payment.psp, col(Dispute.chargeback_id) == notice.notice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert dispute is not None
    return dispute, inserted is not None


async def _charged_back(db: AsyncSession, payment: Payment, other_than: uuid.UUID) -> int:
    """What other chargebacks of the payment took and kept (a won one gave it back)."""
    taken = await db.scalar(
        select(func.coalesce(func.sum(Dispute.amount), 0)).where(
            col(Dispute.payment_id) == payment.id,
            col(Dispute.id) != other_than,
            col(Dispute.chargeback_transaction_id).is_not(None),
            col(Dispute.reversal_transaction_id).is_(None),
        )
    )
    return int(taken or 0)


async def _chargeback(db: AsyncSession, payment: Payment, notice: Notice) -> str:
    dispute, _ = await _dispute(db, payment, notice, DisputeState.OPEN)
    if dispute.chargeback_transaction_id is not None:
        return "duplicate"  # announced again under another event id: booked already
    if notice.amount + await _charged_back(db, payment, dispute.id) > payment.amount:
        if dispute.state == DisputeState.OPEN:  # nothing to keep: no dispute
            await db.delete(dispute)
        return _ignored(payment, notice, "more charged back than the deposit paid in")
    reversed_first = dispute.state == DisputeState.WON  # its reversal came first (kept on the row)
    dispute.amount, dispute.reason_code = notice.amount, notice.reason or dispute.reason_code
    dispute.evidence = await evidence(db, payment.player_id)  # as it stood before the chargeback's effects
    await _forfeit_bonus(db, payment)
    charged = await wallet.charge_back(
        db,
        player_id=payment.player_id,
        currency=payment.currency,
        amount=notice.amount,
        psp=dispute.psp,
        key=f"chargeback:{dispute.psp}:{dispute.chargeback_id}",
        dispute_id=dispute.id,
        actor=PSP,
    )
    if not reversed_first:  # after the money, in the order a withdrawal request takes them (no deadlock)
        await kyc_actions.restrict_for(db, payment.player_id, f"chargeback {notice.notice_id} at {payment.psp}")
    now = clock.now()
    dispute.chargeback_transaction_id = charged.result.transaction_id
    dispute.cash_debited, dispute.debt_booked = charged.from_cash, charged.to_debt
    dispute.opened_at = dispute.updated_at = now
    await db.flush()
    await _event(db, payment, "payment.chargeback", **_figures(dispute))
    await announce(db, dispute, "dispute.opened")
    if reversed_first:
        await _book_reversal(db, payment, dispute)
    return "applied"


async def _reversal(db: AsyncSession, payment: Payment, notice: Notice) -> str:
    dispute, created = await _dispute(db, payment, notice, DisputeState.WON)
    if created:  # before its chargeback: kept, applied when the chargeback comes
        dispute.decided_at = clock.now()
        await db.flush()
        return "applied"
    if dispute.reversal_transaction_id is not None or dispute.chargeback_transaction_id is None:
        return "duplicate"
    await _book_reversal(db, payment, dispute)
    return "applied"


async def _book_reversal(db: AsyncSession, payment: Payment, dispute: Dispute) -> None:
    """The dispute is won: the money the chargeback took returns (wallet.reverse_chargeback says where)."""
    back = await wallet.reverse_chargeback(
        db,
        player_id=dispute.player_id,
        currency=dispute.currency,
        amount=dispute.amount,
        debt_booked=dispute.debt_booked,
        psp=dispute.psp,
        key=f"chargeback-reversal:{dispute.psp}:{dispute.chargeback_id}",
        dispute_id=dispute.id,
        actor=PSP,
    )
    now = clock.now()
    dispute.reversal_transaction_id = back.result.transaction_id
    dispute.state, dispute.updated_at = DisputeState.WON.value, now
    dispute.decided_at = dispute.decided_at or now
    await db.flush()
    await _event(
        db,
        payment,
        "payment.chargeback_reversed",
        **_figures(dispute),
        cash_returned=back.from_cash,
        debt_cancelled=back.to_debt,
    )
    await announce(db, dispute, "dispute.won")


async def _payout_returned(db: AsyncSession, payment: Payment, attempt: PaymentAttempt, notice: Notice) -> str:
    if payment.status == PaymentStatus.RETURNED:
        return "duplicate"
    if payment.status != PaymentStatus.PAID or payment.psp != attempt.psp:
        return _ignored(payment, notice, f"the withdrawal is {payment.status} (or paid through another PSP)")
    if notice.amount != payment.amount:
        return _ignored(payment, notice, "a return of another amount than was paid")
    await wallet.return_payout(
        db,
        player_id=payment.player_id,
        currency=payment.currency,
        amount=payment.amount,
        psp=attempt.psp,
        payment_id=payment.id,
        actor=PSP,
    )
    _set_status(payment, PaymentStatus.RETURNED)
    payment.failure_message = (notice.reason or "returned by the bank")[:500]
    await _event(db, payment, "payment.payout_returned", attempt_id=str(attempt.id), reason=notice.reason)
    return "applied"


async def _forfeit_bonus(db: AsyncSession, payment: Payment) -> None:
    """The bonus the charged-back deposit claimed ends (forfeited): its deposit was never really paid in."""
    bonus_id = await db.scalar(
        select(col(PlayerBonus.id)).where(
            col(PlayerBonus.payment_id) == payment.id,
            col(PlayerBonus.status).in_([BonusStatus.ISSUED.value, BonusStatus.ACTIVE.value]),
        )
    )
    if bonus_id is not None:
        await bonus_lifecycle.end(
            db, bonus_id, BonusStatus.FORFEITED, PSP, "chargeback of its deposit", cause="chargeback"
        )


def _figures(dispute: Dispute) -> dict[str, Any]:
    return {
        "dispute_id": str(dispute.id),
        "chargeback_id": dispute.chargeback_id,
        "charged_back": dispute.amount,
        "cash_debited": dispute.cash_debited,
        "debt_booked": dispute.debt_booked,
    }


async def announce(db: AsyncSession, dispute: Dispute, topic: str, **extra: Any) -> None:
    """A `dispute.*` event (core/catalogue/disputes.py), in the caller's transaction."""
    await outbox.emit(
        db,
        topic,
        f"player:{dispute.player_id}",
        {
            "dispute_id": str(dispute.id),
            "payment_id": str(dispute.payment_id),
            "player_id": str(dispute.player_id),
            "psp": dispute.psp,
            "chargeback_id": dispute.chargeback_id,
            "state": dispute.state,
            "currency": dispute.currency,
            "amount": dispute.amount,
            "reason": dispute.reason_code,
            **extra,
        },
        brand_id=dispute.brand_id,
    )


# ---- evidence ---------------------------------------------------------------------------------------


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def evidence(db: AsyncSession, player_id: uuid.UUID) -> dict[str, Any]:
    """What the operator shows the PSP, as it stood when the chargeback came (a JSON snapshot): the player's
    deposits, login sessions (where from, on what), game sessions and rounds, and KYC state with its checks.
    The newest `EVIDENCE_ROWS` of each."""
    deposits = await db.scalars(
        select(Payment)
        .where(col(Payment.player_id) == player_id, col(Payment.kind) == PaymentKind.DEPOSIT.value)
        .order_by(col(Payment.created_at).desc())
        .limit(EVIDENCE_ROWS)
    )
    logins = await db.scalars(
        select(AuthSession)
        .where(col(AuthSession.subject_type) == "player", col(AuthSession.subject_id) == player_id)
        .order_by(col(AuthSession.created_at).desc())
        .limit(EVIDENCE_ROWS)
    )
    games = await db.scalars(
        select(GameSession)
        .where(col(GameSession.player_id) == player_id)
        .order_by(col(GameSession.created_at).desc())
        .limit(EVIDENCE_ROWS)
    )
    rounds = await db.scalars(
        select(GameRound)
        .where(col(GameRound.player_id) == player_id)
        .order_by(col(GameRound.opened_at).desc())
        .limit(EVIDENCE_ROWS)
    )
    kyc = await db.get(KycState, player_id)
    checks = await db.scalars(
        select(KycCheck)
        .where(col(KycCheck.player_id) == player_id)
        .order_by(col(KycCheck.created_at).desc())
        .limit(EVIDENCE_ROWS)
    )
    return {
        "taken_at": clock.now().isoformat(),
        "deposits": [
            {
                "payment_id": str(p.id),
                "status": p.status,
                "amount": p.amount,
                "currency": p.currency,
                "method": p.method,
                "psp": p.psp,
                "country": p.country,
                "created_at": _when(p.created_at),
            }
            for p in deposits
        ],
        "sessions": [
            {
                "ip": s.ip,
                "country": s.country,
                "user_agent": s.user_agent,
                "device": s.device,
                "created_at": _when(s.created_at),
                "last_seen_at": _when(s.last_seen_at),
            }
            for s in logins
        ],
        "game_sessions": [
            {
                "game_session_id": str(g.id),
                "game_id": str(g.game_id),
                "mode": g.mode,
                "ip": g.ip,
                "country": g.country,
                "created_at": _when(g.created_at),
            }
            for g in games
        ],
        "rounds": [
            {
                "round": r.round_ref,
                "game_id": str(r.game_id) if r.game_id else None,
                "status": r.status,
                "currency": r.currency,
                "total_bet": r.total_bet,
                "total_win": r.total_win,
                "opened_at": _when(r.opened_at),
                "closed_at": _when(r.closed_at),
            }
            for r in rounds
        ],
        "kyc": {
            "level": kyc.level if kyc else None,
            "status": kyc.status if kyc else None,
            "restricted": kyc.restricted if kyc else False,
            "checks": [{"provider": c.provider, "result": c.result, "created_at": _when(c.created_at)} for c in checks],
        },
    }
