"""The cashier: deposits and withdrawals through PSPs, with routing, cascade and repair.

Guarantees:
- A payment is credited (deposit) or paid out (withdrawal) at most once: the ledger keys the money
  movement by the payment id (services/wallet.py), and a payment's state only moves forward under
  its row lock. The money movement, the payment's new state and its outbox event commit together.
- The cascade never charges twice: every attempt is written (outcome `sending`) before its PSP is
  called, with the attempt id as the PSP's idempotency key. On a technical failure (timeout, 5xx,
  unreachable) the attempt's status is asked first; only an attempt the PSP never took lets the next
  PSP be tried. A hard decline stops the cascade. A success of an attempt the cascade had already
  left, arriving after another attempt won, is refunded at its PSP, never credited.
- Webhooks (HMAC-signed) are processed once per (PSP, event id), in any order: an attempt's outcome
  never moves back from succeeded, and the same set of events gives the same final state whatever
  their order (a success wins over a decline of the same attempt, because the money moved).
- A crash between a PSP's success and our commit leaves the attempt `sending` or `pending`; its
  webhook or `reconcile` (a status poll) applies the PSP's answer later, through the same function.
- Withdrawals hold the funds when requested (so concurrent requests never overdraw), are approved
  automatically below a threshold, by finance staff above it, and by two different finance staff
  above a second threshold; a rejection or a failed payout voids the hold. Every staff decision is
  in the audit log.
- Card data never reaches the platform: deposits carry a PSP vault token only.

Nothing here holds a database transaction open across a PSP call.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import false
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.logging import get_logger
from core.money import currency as currency_info
from core.money import format_amount, parse_amount
from core.settings import Settings
from integrations.psp import (
    DepositRequest,
    InvalidSignature,
    PayoutRequest,
    PspAdapter,
    PspAnswer,
    PspDeclined,
    PspTechnicalFailure,
    WebhookEvent,
)
from integrations.psp_adapters import ADAPTERS
from models.brands import Brand
from models.payments import (
    TERMINAL_STATUSES,
    AttemptOutcome,
    Payment,
    PaymentAttempt,
    PaymentKind,
    PaymentStatus,
    PspWebhookReceipt,
)
from models.players import Player, PlayerStatus
from services import audit, outbox, wallet
from services.runtime import Runtime
from services.wallet import Actor

log = get_logger(__name__)

DEPOSIT_METHODS = ("card", "ewallet", "bank_transfer")
WITHDRAWAL_METHODS = ("card", "ewallet", "bank_transfer")
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{6,128}$")
LOOKS_LIKE_CARD = re.compile(r"^[\d\s\-]{12,23}$")


class PaymentDeclined(DomainError):
    code = ErrorCode.PAYMENT_DECLINED


class PaymentUnavailable(DomainError):
    code = ErrorCode.PAYMENT_UNAVAILABLE


# ---- routing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutingRule:
    """PSPs to try, in order, for payments matching every condition given (None: any)."""

    psps: tuple[str, ...]
    priority: int = 100
    kinds: frozenset[str] | None = None
    methods: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    currencies: frozenset[str] | None = None
    min_amount: str | None = None  # decimal strings in the payment's currency, inclusive
    max_amount: str | None = None

    def matches(self, *, kind: str, method: str, country: str, currency: str, amount: int) -> bool:
        if self.kinds is not None and kind not in self.kinds:
            return False
        if self.methods is not None and method not in self.methods:
            return False
        if self.countries is not None and country not in self.countries:
            return False
        if self.currencies is not None and currency not in self.currencies:
            return False
        value = Decimal(format_amount(amount, currency))
        if self.min_amount is not None and value < Decimal(self.min_amount):
            return False
        return not (self.max_amount is not None and value > Decimal(self.max_amount))

    @classmethod
    def from_setting(cls, raw: Mapping[str, Any]) -> RoutingRule:
        def group(name: str) -> frozenset[str] | None:
            value = raw.get(name)
            return frozenset(str(v) for v in value) if value else None

        return cls(psps=tuple(str(p) for p in raw["psps"]), priority=int(raw.get("priority", 100)),
                   kinds=group("kinds"), methods=group("methods"), countries=group("countries"),
                   currencies=group("currencies"), min_amount=raw.get("min_amount"), max_amount=raw.get("max_amount"))


DEFAULT_RULES: tuple[RoutingRule, ...] = (
    # Nordic cards: swiftpay acquires locally (cheaper), cardpay as fallback.
    RoutingRule(psps=("swiftpay", "cardpay"), priority=10, methods=frozenset({"card"}),
                countries=frozenset({"SE", "FI", "DK", "NO"})),
    # Very large card deposits: only cardpay has the limits for them.
    RoutingRule(psps=("cardpay",), priority=20, kinds=frozenset({"deposit"}), methods=frozenset({"card"}),
                min_amount="10000"),
    RoutingRule(psps=("cardpay", "swiftpay"), priority=30, methods=frozenset({"card"})),
    RoutingRule(psps=("swiftpay",), priority=40, methods=frozenset({"ewallet"})),
    RoutingRule(psps=("bankwire",), priority=50, methods=frozenset({"bank_transfer"})),
)


def routing_rules(settings: Settings) -> list[RoutingRule]:
    rules = [RoutingRule.from_setting(raw) for raw in settings.psp_routing] or list(DEFAULT_RULES)
    return sorted(rules, key=lambda r: r.priority)


def route(rules: Sequence[RoutingRule], *, kind: str, method: str, country: str, currency: str,
          amount: int) -> list[str]:
    """The cascade: the PSPs of the matching rules, by priority, each once, that support the method.

    The first matching rule decides alone; lower-priority rules only add PSPs when the first one
    lists none that can take the payment.
    """
    for rule in sorted(rules, key=lambda r: r.priority):
        if not rule.matches(kind=kind, method=method, country=country, currency=currency, amount=amount):
            continue
        chosen: list[str] = []
        for psp in rule.psps:
            adapter = ADAPTERS.get(psp)
            if adapter is None or psp in chosen:
                continue
            methods = adapter.deposit_methods if kind == PaymentKind.DEPOSIT else adapter.payout_methods
            if method in methods:
                chosen.append(psp)
        if chosen:
            return chosen
    return []


def adapter_for(settings: Settings, psp: str) -> PspAdapter:
    cls = ADAPTERS.get(psp)
    if cls is None or settings.psp_base_url is None or psp not in settings.psp_secrets:
        raise PaymentUnavailable(f"PSP {psp} is not configured.")
    return cls(settings.psp_base_url, settings.psp_secrets[psp], timeout_seconds=settings.psp_timeout_seconds,
               webhook_tolerance_seconds=settings.psp_webhook_tolerance_seconds)


# ---- reading ----------------------------------------------------------------------------------------


def readable_payments(viewer: Viewer) -> SelectOfScalar[Payment]:
    """Payments this viewer may read, as SQL: a player their own, staff their brand's."""
    stmt = select(Payment)
    if viewer.is_player:
        return stmt.where(col(Payment.player_id) == viewer.id)
    if viewer.is_staff or viewer.kind == "system":
        return stmt if viewer.brand_id is None else stmt.where(col(Payment.brand_id) == viewer.brand_id)
    return stmt.where(false())


async def get_readable(db: AsyncSession, viewer: Viewer, payment_id: uuid.UUID) -> Payment:
    found: Payment | None = await db.scalar(readable_payments(viewer).where(col(Payment.id) == payment_id))
    if found is None:
        raise NotFound("No such payment.", field="id")
    return found


async def attempts_of(db: AsyncSession, payment_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[PaymentAttempt]]:
    rows = (await db.scalars(select(PaymentAttempt).where(col(PaymentAttempt.payment_id).in_(payment_ids))
                             .order_by(col(PaymentAttempt.payment_id), col(PaymentAttempt.seq)))).all()
    found: dict[uuid.UUID, list[PaymentAttempt]] = {}
    for attempt in rows:
        found.setdefault(attempt.payment_id, []).append(attempt)
    return found


# ---- shared state machine ----------------------------------------------------------------------------


@dataclass
class _FollowUp:
    """Work for after the commit (PSP calls never run inside a database transaction)."""

    refunds: list[tuple[str, uuid.UUID]] = field(default_factory=list)  # (psp, attempt id)
    process_withdrawal: bool = False


def _mask(token: str | None) -> str | None:
    return None if token is None else f"{token[:4]}…{token[-4:]}"


async def _locked_payment(db: AsyncSession, payment_id: uuid.UUID) -> Payment:
    payment = await db.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    if payment is None:
        raise NotFound("No such payment.", field="id")
    return payment


async def _event(db: AsyncSession, payment: Payment, topic: str, **extra: Any) -> None:
    await outbox.emit(db, topic, f"player:{payment.player_id}", {
        "payment_id": str(payment.id), "kind": payment.kind, "status": payment.status,
        "player_id": str(payment.player_id), "brand_id": str(payment.brand_id), "currency": payment.currency,
        "amount": format_amount(payment.amount, payment.currency), "psp": payment.psp, **extra,
    })


def _set_status(payment: Payment, status: PaymentStatus, *, code: ErrorCode | None = None,
                message: str | None = None) -> None:
    payment.status = status.value
    payment.updated_at = clock.now()
    if code is not None:
        payment.failure_code = code.value
        payment.failure_message = (message or "")[:500] or None
    if status in TERMINAL_STATUSES:
        payment.completed_at = clock.now()
        payment.redirect_url = None


def _summarise(answer: PspAnswer | None, error: str | None = None) -> dict[str, Any]:
    if answer is None:
        return {"error": error} if error else {}
    return {"status": answer.status, "psp_reference": answer.psp_reference, "decline_reason": answer.decline_reason,
            "redirect_url": answer.redirect_url, "answer": dict(answer.raw)}


async def _apply(db: AsyncSession, payment: Payment, attempt: PaymentAttempt, answer: PspAnswer, *,
                 source: str) -> _FollowUp:
    """Apply a PSP's answer about one attempt (from the call itself, a webhook or a poll).

    The caller holds the payment's row lock. Deterministic in any order: see the module docstring.
    """
    follow = _FollowUp()
    now = clock.now()
    outcome = AttemptOutcome(attempt.outcome)
    new = {"succeeded": AttemptOutcome.SUCCEEDED, "declined": AttemptOutcome.DECLINED,
           "pending": AttemptOutcome.PENDING, "requires_action": AttemptOutcome.PENDING,
           "refunded": AttemptOutcome.REFUNDED}[answer.status]
    if outcome in (AttemptOutcome.SUCCEEDED, AttemptOutcome.REFUNDED) and new != AttemptOutcome.REFUNDED:
        return follow  # a final success never moves back (a stale or replayed event)
    if outcome == AttemptOutcome.DECLINED and new != AttemptOutcome.SUCCEEDED:
        return follow
    history = list((attempt.response_summary or {}).get("history", []))
    history.append({"at": now.isoformat(), "source": source, "status": answer.status,
                    "decline_reason": answer.decline_reason})
    attempt.outcome = new.value
    attempt.psp_reference = answer.psp_reference or attempt.psp_reference
    attempt.response_summary = {**_summarise(answer), "history": history[-20:]}
    attempt.updated_at = now
    deposit = payment.kind == PaymentKind.DEPOSIT
    status = PaymentStatus(payment.status)
    actor = Actor("psp") if source != "cashier" else Actor("system")

    if new == AttemptOutcome.SUCCEEDED:
        if deposit:
            if status == PaymentStatus.SUCCEEDED:
                # Another attempt was credited (this one's success would have returned above): the
                # player was charged twice, so this charge goes back.
                follow.refunds.append((attempt.psp, attempt.id))
                await _event(db, payment, "payment.duplicate_charge", attempt_id=str(attempt.id))
                return follow
            result = await wallet.credit_deposit(db, player_id=payment.player_id, currency=payment.currency,
                                                 amount=payment.amount, psp=attempt.psp, payment_id=payment.id,
                                                 actor=actor)
            payment.transaction_id = result.transaction_id
            payment.psp = attempt.psp
            payment.failure_code = payment.failure_message = None
            _set_status(payment, PaymentStatus.SUCCEEDED)
            await _event(db, payment, "payment.succeeded", attempt_id=str(attempt.id))
        else:
            if status == PaymentStatus.PAID:  # a second payout: the player is not debited twice; finance recovers it
                await _event(db, payment, "payment.duplicate_payout", attempt_id=str(attempt.id))
                return follow
            if status in (PaymentStatus.REJECTED, PaymentStatus.FAILED):
                # Paid out although we had given up on it: the hold is gone, so this needs a person.
                await _event(db, payment, "payment.payout_after_failure", attempt_id=str(attempt.id))
                return follow
            assert payment.hold_id is not None
            result = await wallet.pay_withdrawal(db, hold_id=payment.hold_id, psp=attempt.psp, payment_id=payment.id,
                                                 actor=actor)
            payment.transaction_id = result.transaction_id
            payment.psp = attempt.psp
            _set_status(payment, PaymentStatus.PAID)
            await _event(db, payment, "payment.paid", attempt_id=str(attempt.id))
        return follow

    if new == AttemptOutcome.PENDING:
        if deposit and status in (PaymentStatus.CREATED, PaymentStatus.PENDING):
            payment.redirect_url = answer.redirect_url or payment.redirect_url
            payment.psp = attempt.psp
            if status == PaymentStatus.CREATED:
                _set_status(payment, PaymentStatus.PENDING)
                await _event(db, payment, "payment.pending", attempt_id=str(attempt.id))
        return follow

    if new == AttemptOutcome.DECLINED:
        latest = await _latest_attempt(db, payment)
        if latest != attempt.id:
            return follow  # an attempt the cascade already left; the current one decides
        reason = answer.decline_reason or "declined"
        if deposit and status in (PaymentStatus.CREATED, PaymentStatus.PENDING):
            _set_status(payment, PaymentStatus.FAILED, code=ErrorCode.PAYMENT_DECLINED,
                        message=f"{attempt.psp}: {reason}")
            await _event(db, payment, "payment.failed", attempt_id=str(attempt.id), reason=reason)
        elif not deposit and status == PaymentStatus.PROCESSING:
            assert payment.hold_id is not None
            await wallet.void_withdrawal(db, hold_id=payment.hold_id, payment_id=payment.id, actor=actor,
                                         reason=f"payout declined by {attempt.psp}: {reason}")
            _set_status(payment, PaymentStatus.FAILED, code=ErrorCode.PAYMENT_DECLINED,
                        message=f"{attempt.psp}: {reason}")
            await _event(db, payment, "payment.failed", attempt_id=str(attempt.id), reason=reason)
        return follow
    return follow  # REFUNDED: recorded on the attempt only


async def _latest_attempt(db: AsyncSession, payment: Payment) -> uuid.UUID | None:
    found: uuid.UUID | None = await db.scalar(
        select(col(PaymentAttempt.id)).where(col(PaymentAttempt.payment_id) == payment.id)
        .order_by(col(PaymentAttempt.seq).desc()).limit(1))
    return found


async def _run_follow_up(rt: Runtime, follow: _FollowUp, payment_id: uuid.UUID) -> None:
    for psp, attempt_id in follow.refunds:
        try:
            answer = await adapter_for(rt.settings, psp).refund(str(attempt_id))
        except (PspTechnicalFailure, DomainError) as exc:
            log.warning("psp_refund_failed", psp=psp, attempt_id=str(attempt_id), error=str(exc))
            continue
        async with rt.database.transaction() as db:
            payment = await _locked_payment(db, payment_id)
            attempt = await db.get(PaymentAttempt, attempt_id, with_for_update=True)
            if attempt is not None:
                await _apply(db, payment, attempt, answer, source="refund")
    if follow.process_withdrawal:
        await process_withdrawal(rt, payment_id)


# ---- deposits -------------------------------------------------------------------------------------


def _check_token(token: str | None, *, required: bool) -> str | None:
    if token is None or not token.strip():
        if required:
            raise DomainError("A PSP token from the payment form is required.", field="pspToken")
        return None
    token = token.strip()
    if LOOKS_LIKE_CARD.match(token):
        raise DomainError("Card numbers are never accepted here: send the token from the PSP's payment form.",
                          field="pspToken")
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
        raise DomainError(f"{currency} is not accepted by this casino.", field="currency",
                          code=ErrorCode.CURRENCY_NOT_ALLOWED)
    return player, brand


async def _create_payment(db: AsyncSession, *, kind: PaymentKind, player: Player, currency: str, amount: int,
                          method: str, token: str | None, key: str, status: PaymentStatus) -> tuple[Payment, bool]:
    """Insert the payment, or find the one this player already made with this key (same request only)."""
    now = clock.now()
    payment_id = (await db.execute(insert(Payment).values(
        id=uuid.uuid4(), kind=kind.value, brand_id=player.brand_id, player_id=player.id, currency=currency,
        amount=amount, method=method, country=player.country, status=status.value, idempotency_key=key,
        instrument_token=token, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(constraint="uq_payments_player_idempotency_key").returning(col(Payment.id)))
    ).scalar_one_or_none()
    if payment_id is not None:
        return await _locked_payment(db, payment_id), True
    existing = await db.scalar(select(Payment).where(col(Payment.player_id) == player.id,
                                                     col(Payment.idempotency_key) == key))
    assert existing is not None
    if (existing.kind, existing.currency, existing.amount, existing.method) != (kind.value, currency, amount, method):
        raise DomainError("This idempotency key was used for a different payment.", field="idempotencyKey",
                          code=ErrorCode.IDEMPOTENCY_CONFLICT)
    return existing, False


async def deposit(rt: Runtime, viewer: Viewer, *, amount: str, currency: str, method: str,
                  psp_token: str | None = None, idempotency_key: str | None = None) -> Payment:
    """A player pays in: route, then try the PSPs in order until one takes it (or declines it).

    Returns the payment: succeeded, pending (follow `redirect_url` for 3-D Secure) or failed
    (`failure_code` PAYMENT_DECLINED or PAYMENT_UNAVAILABLE). Retrying with the same key returns
    the same payment and never starts a second cascade.
    """
    code = currency_info(currency).code
    minor = parse_amount(amount, code)
    method = _check_method(method, DEPOSIT_METHODS)
    token = _check_token(psp_token, required=method in ("card", "ewallet"))
    key = _check_key(idempotency_key)
    async with rt.database.transaction() as db:
        player, _ = await _payer(db, viewer, code)
        payment, created = await _create_payment(db, kind=PaymentKind.DEPOSIT, player=player, currency=code,
                                                 amount=minor, method=method, token=token, key=key,
                                                 status=PaymentStatus.CREATED)
        if not created:
            return payment
        psps = route(routing_rules(rt.settings), kind=PaymentKind.DEPOSIT, method=method, country=player.country,
                     currency=code, amount=minor)
        await _event(db, payment, "payment.created")
        if not psps:
            _set_status(payment, PaymentStatus.FAILED, code=ErrorCode.PAYMENT_UNAVAILABLE,
                        message="No payment provider takes this payment.")
            await _event(db, payment, "payment.failed")
            return payment
    await _cascade(rt, payment.id, psps)
    async with rt.database.session() as db:
        return await get_readable(db, viewer, payment.id)


async def _cascade(rt: Runtime, payment_id: uuid.UUID, psps: Sequence[str]) -> None:
    """Try each PSP in turn; see the module docstring for why this never charges twice."""
    for psp in psps:
        async with rt.database.transaction() as db:
            payment = await _locked_payment(db, payment_id)
            open_status = (PaymentStatus.CREATED,) if payment.kind == PaymentKind.DEPOSIT else (
                PaymentStatus.APPROVED, PaymentStatus.PROCESSING)
            if payment.status not in open_status:
                return  # settled meanwhile (a webhook, a poll, a concurrent run)
            seq = int(await db.scalar(select(PaymentAttempt.seq).where(col(PaymentAttempt.payment_id) == payment_id)
                                      .order_by(col(PaymentAttempt.seq).desc()).limit(1)) or 0) + 1
            attempt = PaymentAttempt(payment_id=payment_id, seq=seq, psp=psp,
                                     operation="deposit" if payment.kind == PaymentKind.DEPOSIT else "payout",
                                     outcome=AttemptOutcome.SENDING.value,
                                     request_summary={"amount": format_amount(payment.amount, payment.currency),
                                                      "currency": payment.currency, "method": payment.method,
                                                      "token": _mask(payment.instrument_token)})
            db.add(attempt)
            payment.psp = psp
            if payment.kind == PaymentKind.WITHDRAWAL and payment.status == PaymentStatus.APPROVED:
                _set_status(payment, PaymentStatus.PROCESSING)
                await _event(db, payment, "payment.processing")
            else:
                payment.updated_at = clock.now()
            await db.flush()
            attempt_id = attempt.id
            request = (DepositRequest(str(attempt_id), payment.amount, payment.currency, payment.method,
                                      payment.instrument_token,
                                      f"{rt.settings.public_base_url.rstrip('/')}/cashier/return/{payment_id}")
                       if payment.kind == PaymentKind.DEPOSIT else
                       PayoutRequest(str(attempt_id), payment.amount, payment.currency, payment.method,
                                     payment.instrument_token))
        answer: PspAnswer | None = None
        error: str | None = None
        try:
            adapter = adapter_for(rt.settings, psp)
            if isinstance(request, DepositRequest):
                answer = await adapter.create_deposit(request)
            else:
                answer = await adapter.create_payout(request)
        except PspDeclined as exc:
            answer = exc.answer
        except (PspTechnicalFailure, PaymentUnavailable) as exc:
            error = str(exc.message if isinstance(exc, DomainError) else exc)
            answer = await _probe(rt, psp, attempt_id)  # did the PSP take it before failing us?
        if answer is not None:
            await record_answer(rt, payment_id, attempt_id, answer, source="cashier")
            return
        async with rt.database.transaction() as db:
            attempt_row = await db.get(PaymentAttempt, attempt_id, with_for_update=True)
            assert attempt_row is not None
            if attempt_row.outcome == AttemptOutcome.SENDING:
                attempt_row.outcome = AttemptOutcome.TECHNICAL_FAILURE.value
                attempt_row.error = (error or "technical failure")[:500]
                attempt_row.response_summary = _summarise(None, error)
                attempt_row.updated_at = clock.now()
            else:
                return  # a webhook already answered for this attempt
    async with rt.database.transaction() as db:
        payment = await _locked_payment(db, payment_id)
        if payment.status in (PaymentStatus.CREATED, PaymentStatus.PROCESSING, PaymentStatus.APPROVED):
            if payment.kind == PaymentKind.WITHDRAWAL and payment.hold_id is not None:
                await wallet.void_withdrawal(db, hold_id=payment.hold_id, payment_id=payment.id,
                                             actor=Actor("system"), reason="no PSP could pay it out")
            _set_status(payment, PaymentStatus.FAILED, code=ErrorCode.PAYMENT_UNAVAILABLE,
                        message="No payment provider is available right now; nothing was charged.")
            await _event(db, payment, "payment.failed")


async def _probe(rt: Runtime, psp: str, attempt_id: uuid.UUID) -> PspAnswer | None:
    """After a technical failure: the PSP's own view of the attempt (None: it never took it)."""
    try:
        return await adapter_for(rt.settings, psp).get_status(str(attempt_id))
    except (PspTechnicalFailure, DomainError):
        return None


async def record_answer(rt: Runtime, payment_id: uuid.UUID, attempt_id: uuid.UUID, answer: PspAnswer, *,
                        source: str) -> None:
    """Apply a PSP's answer in one transaction, then do what must follow the commit."""
    async with rt.database.transaction() as db:
        payment = await _locked_payment(db, payment_id)
        attempt = await db.get(PaymentAttempt, attempt_id, with_for_update=True, populate_existing=True)
        assert attempt is not None
        follow = await _apply(db, payment, attempt, answer, source=source)
    await _run_follow_up(rt, follow, payment_id)



async def refresh(rt: Runtime, payment_id: uuid.UUID) -> Payment:
    """Ask the PSP about the payment's open attempts and apply the answers (the browser's return, polls)."""
    async with rt.database.session() as db:
        attempts = (await db.scalars(select(PaymentAttempt).where(
            col(PaymentAttempt.payment_id) == payment_id,
            col(PaymentAttempt.outcome).in_([AttemptOutcome.SENDING.value, AttemptOutcome.PENDING.value,
                                             AttemptOutcome.TECHNICAL_FAILURE.value])))).all()
    for attempt in attempts:
        try:
            answer = await adapter_for(rt.settings, attempt.psp).get_status(str(attempt.id))
        except (PspTechnicalFailure, DomainError) as exc:
            log.info("psp_status_poll_failed", psp=attempt.psp, attempt_id=str(attempt.id), error=str(exc))
            continue
        if answer is not None:
            await record_answer(rt, payment_id, attempt.id, answer, source="poll")
    async with rt.database.session() as db:
        found = await db.get(Payment, payment_id)
        if found is None:
            raise NotFound("No such payment.", field="id")
        return found


# ---- webhooks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookOutcome:
    duplicate: bool
    result: str  # applied | duplicate | unknown_reference


async def handle_webhook(rt: Runtime, psp: str, body: bytes, headers: Mapping[str, str]) -> WebhookOutcome:
    """A PSP's signed notification: verify, record once per event id, apply to its attempt.

    Raises InvalidSignature (the edge answers 401). The receipt and the state change commit together,
    so a webhook that failed half-way is retried by the PSP and applied then.
    """
    if psp not in ADAPTERS:
        raise InvalidSignature("unknown PSP")
    try:
        adapter = adapter_for(rt.settings, psp)
    except PaymentUnavailable as exc:
        raise InvalidSignature("PSP not configured") from exc
    event: WebhookEvent = adapter.verify_webhook(body, headers)
    attempt_id: uuid.UUID | None
    try:
        attempt_id = uuid.UUID(event.reference)
    except ValueError:
        attempt_id = None
    answer = PspAnswer(event.status, psp_reference=event.psp_reference, decline_reason=event.decline_reason,
                       raw={"event_id": event.event_id, "type": event.event_type, "sequence": event.sequence})
    async with rt.database.transaction() as db:
        attempt = await db.get(PaymentAttempt, attempt_id) if attempt_id else None
        if attempt is not None and attempt.psp != psp:
            attempt = None  # a PSP only speaks about its own attempts
        receipt_id = (await db.execute(insert(PspWebhookReceipt).values(
            id=uuid.uuid4(), psp=psp, event_id=event.event_id, event_type=event.event_type,
            attempt_id=attempt.id if attempt else None, result="applied" if attempt else "unknown_reference",
            payload=dict(event.payload), received_at=clock.now(),
        ).on_conflict_do_nothing(constraint="uq_psp_webhook_receipts_event").returning(col(PspWebhookReceipt.id)))
        ).scalar_one_or_none()
        if receipt_id is None:
            return WebhookOutcome(True, "duplicate")
        if attempt is None:
            log.warning("psp_webhook_unknown_reference", psp=psp, event_id=event.event_id)
            return WebhookOutcome(False, "unknown_reference")
        payment = await _locked_payment(db, attempt.payment_id)
        attempt = await db.get(PaymentAttempt, attempt.id, with_for_update=True, populate_existing=True)
        assert attempt is not None
        follow = await _apply(db, payment, attempt, answer, source="webhook")
        payment_id = payment.id
    await _run_follow_up(rt, follow, payment_id)
    return WebhookOutcome(False, "applied")


# ---- repair -------------------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    checked: int = 0
    repaired: int = 0
    failed_unsent: int = 0
    payouts_started: int = 0
    errors: list[str] = field(default_factory=list)


async def reconcile(rt: Runtime, *, older_than_seconds: int | None = None) -> ReconcileReport:
    """Repair payments left open by a crash or a lost answer: poll their PSPs and apply the answers.

    - attempts `sending`/`pending` (and a technical failure not followed by another attempt) are
      asked about; what the PSP says is applied exactly as a webhook would be;
    - an attempt the PSP never heard of, on a deposit that nothing else is moving, fails the payment
      (nothing was charged);
    - withdrawals approved but never sent to a PSP are sent.
    """
    age = rt.settings.payment_reconcile_after_seconds if older_than_seconds is None else older_than_seconds
    cutoff = clock.now() - timedelta(seconds=age)
    report = ReconcileReport()
    async with rt.database.session() as db:
        stuck = (await db.execute(
            select(PaymentAttempt.id, PaymentAttempt.payment_id, PaymentAttempt.psp, PaymentAttempt.outcome)
            .join(Payment, col(Payment.id) == col(PaymentAttempt.payment_id))
            .where(col(Payment.status).in_([PaymentStatus.CREATED.value, PaymentStatus.PENDING.value,
                                            PaymentStatus.PROCESSING.value]),
                   col(PaymentAttempt.outcome).in_([AttemptOutcome.SENDING.value, AttemptOutcome.PENDING.value]),
                   col(PaymentAttempt.updated_at) <= cutoff)
            .order_by(col(PaymentAttempt.created_at)))).all()
        approved = (await db.scalars(select(col(Payment.id)).where(
            col(Payment.status) == PaymentStatus.APPROVED.value, col(Payment.updated_at) <= cutoff))).all()
        never_tried = (await db.scalars(select(col(Payment.id)).where(
            col(Payment.kind) == PaymentKind.DEPOSIT.value, col(Payment.status) == PaymentStatus.CREATED.value,
            col(Payment.updated_at) <= cutoff,
            ~select(PaymentAttempt.id).where(col(PaymentAttempt.payment_id) == col(Payment.id)).exists()))).all()
    for attempt_id, payment_id, psp, outcome in stuck:
        report.checked += 1
        try:
            answer = await adapter_for(rt.settings, psp).get_status(str(attempt_id))
        except (PspTechnicalFailure, DomainError) as exc:
            report.errors.append(f"{attempt_id}: {exc}")
            continue
        if answer is not None:
            await record_answer(rt, payment_id, attempt_id, answer, source="poll")
            report.repaired += 1
        elif outcome == AttemptOutcome.SENDING and await _fail_unsent(rt, payment_id, attempt_id):
            report.failed_unsent += 1
    for payment_id in approved:
        await process_withdrawal(rt, payment_id)
        report.payouts_started += 1
    for payment_id in never_tried:  # created, then the process died before the first PSP was chosen
        async with rt.database.transaction() as db:
            payment = await _locked_payment(db, payment_id)
            if payment.status == PaymentStatus.CREATED and await _latest_attempt(db, payment) is None:
                _set_status(payment, PaymentStatus.FAILED, code=ErrorCode.PAYMENT_UNAVAILABLE,
                            message="The payment never reached a provider; nothing was charged.")
                await _event(db, payment, "payment.failed")
                report.failed_unsent += 1
    return report


async def _fail_unsent(rt: Runtime, payment_id: uuid.UUID, attempt_id: uuid.UUID) -> bool:
    """The PSP never received this attempt (we crashed before or while sending): close it."""
    async with rt.database.transaction() as db:
        payment = await _locked_payment(db, payment_id)
        attempt = await db.get(PaymentAttempt, attempt_id, with_for_update=True, populate_existing=True)
        if attempt is None or attempt.outcome != AttemptOutcome.SENDING:
            return False
        attempt.outcome = AttemptOutcome.TECHNICAL_FAILURE.value
        attempt.error = "never reached the PSP (found by reconciliation)"
        attempt.updated_at = clock.now()
        if await _latest_attempt(db, payment) != attempt.id:
            return True
        if payment.kind == PaymentKind.DEPOSIT and payment.status in (PaymentStatus.CREATED, PaymentStatus.PENDING):
            _set_status(payment, PaymentStatus.FAILED, code=ErrorCode.PAYMENT_UNAVAILABLE,
                        message="The payment never reached a provider; nothing was charged.")
            await _event(db, payment, "payment.failed")
        elif payment.kind == PaymentKind.WITHDRAWAL and payment.status == PaymentStatus.PROCESSING:
            _set_status(payment, PaymentStatus.APPROVED)  # send it again
    return True


# ---- withdrawals ------------------------------------------------------------------------------------


def _threshold(table: Mapping[str, str], currency: str) -> int | None:
    raw = table.get(currency)
    return None if raw is None else parse_amount(raw, currency, allow_zero=True)


async def request_withdrawal(rt: Runtime, viewer: Viewer, *, amount: str, currency: str, method: str,
                             psp_token: str | None = None, idempotency_key: str | None = None) -> Payment:
    """A player asks to be paid out: the funds are held at once; small amounts are approved at once."""
    code = currency_info(currency).code
    minor = parse_amount(amount, code)
    method = _check_method(method, WITHDRAWAL_METHODS)
    token = _check_token(psp_token, required=False)
    key = _check_key(idempotency_key)
    async with rt.database.transaction() as db:
        player, _ = await _payer(db, viewer, code)
        payment, created = await _create_payment(db, kind=PaymentKind.WITHDRAWAL, player=player, currency=code,
                                                 amount=minor, method=method, token=token, key=key,
                                                 status=PaymentStatus.REQUESTED)
        if created:
            result, hold = await wallet.hold_withdrawal(db, player_id=player.id, currency=code, amount=minor,
                                                        payment_id=payment.id, actor=Actor("player", player.id))
            if hold is None:  # refused (and the refusal is recorded): the request stays refused
                _set_status(payment, PaymentStatus.REJECTED, code=ErrorCode(result.refusal_code or
                                                                            "INSUFFICIENT_FUNDS"),
                            message="Not enough funds.")
                await _event(db, payment, "payment.rejected")
            else:
                payment.hold_id = hold.id
                await _event(db, payment, "payment.requested")
                auto_below = _threshold(rt.settings.withdrawal_auto_approve_below, code)
                if auto_below is not None and minor < auto_below:
                    payment.decision_reason = "approved automatically (below the threshold)"
                    _set_status(payment, PaymentStatus.APPROVED)
                    await _event(db, payment, "payment.approved", automatic=True)
        snapshot = (payment.id, payment.status, payment.failure_code)
    payment_id, status, failure = snapshot
    if status == PaymentStatus.REJECTED and failure == ErrorCode.INSUFFICIENT_FUNDS:
        raise DomainError("Not enough funds to withdraw that amount.", field="amount",
                          code=ErrorCode.INSUFFICIENT_FUNDS)
    if status == PaymentStatus.APPROVED and created:
        await process_withdrawal(rt, payment_id)
    async with rt.database.session() as db:
        return await get_readable(db, viewer, payment_id)


def _check_brand(viewer: Viewer, payment: Payment) -> None:
    if viewer.brand_id is not None and viewer.brand_id != payment.brand_id:
        raise NotFound("No such payment.", field="paymentId")


def _staff_id(viewer: Viewer) -> uuid.UUID:
    if not viewer.is_staff or viewer.id is None:
        raise DomainError("Only staff decide on withdrawals.", code=ErrorCode.NOT_ALLOWED)
    return viewer.id


@dataclass(frozen=True)
class Decision:
    payment: Payment
    awaiting_second_approval: bool


async def approve_withdrawal(rt: Runtime, viewer: Viewer, *, payment_id: uuid.UUID,
                             reason: str | None = None) -> Decision:
    """Finance approves; above the four-eyes threshold a second, different approver completes it."""
    approver = _staff_id(viewer)
    async with rt.database.transaction() as db:
        payment = await _locked_payment(db, payment_id)
        _check_brand(viewer, payment)
        if payment.kind != PaymentKind.WITHDRAWAL or payment.status != PaymentStatus.REQUESTED:
            raise DomainError(f"Only a requested withdrawal can be approved (this one is {payment.status}).",
                              code=ErrorCode.INVALID_STATE, field="paymentId")
        before = {"status": payment.status, "first_approved_by": payment.first_approved_by}
        four_eyes = _threshold(rt.settings.withdrawal_four_eyes_above, payment.currency)
        needs_two = four_eyes is None or payment.amount > four_eyes
        waiting = False
        if needs_two and payment.first_approved_by is None:
            payment.first_approved_by = approver
            payment.updated_at = clock.now()
            waiting = True
            action = "withdrawal.first_approval"
            await _event(db, payment, "payment.first_approval", approver=str(approver))
        else:
            if needs_two and payment.first_approved_by == approver:
                raise DomainError("Four eyes: a second, different finance approver must approve this withdrawal.",
                                  code=ErrorCode.APPROVAL_REQUIRED, field="paymentId")
            payment.approved_by = approver
            payment.decision_reason = (reason or "")[:500] or None
            _set_status(payment, PaymentStatus.APPROVED)
            action = "withdrawal.approve"
            await _event(db, payment, "payment.approved", approver=str(approver))
        await audit.append(db, actor=viewer, action=action, target_type="payment", target_id=payment.id,
                           brand_id=payment.brand_id, before=before,
                           after={"status": payment.status, "first_approved_by": payment.first_approved_by,
                                  "approved_by": payment.approved_by,
                                  "amount": format_amount(payment.amount, payment.currency),
                                  "currency": payment.currency}, reason=reason)
    if not waiting:
        await process_withdrawal(rt, payment_id)
    async with rt.database.session() as db:
        found = await db.get(Payment, payment_id)
        assert found is not None
        return Decision(found, waiting)


async def reject_withdrawal(rt: Runtime, viewer: Viewer, *, payment_id: uuid.UUID, reason: str) -> Payment:
    """Finance refuses: the hold is voided, the money is back in the player's cash."""
    rejecter = _staff_id(viewer)
    if not reason or not reason.strip():
        raise DomainError("A reason is required.", field="reason")
    async with rt.database.transaction() as db:
        payment = await _locked_payment(db, payment_id)
        _check_brand(viewer, payment)
        if payment.kind != PaymentKind.WITHDRAWAL or payment.status not in (PaymentStatus.REQUESTED,
                                                                            PaymentStatus.APPROVED):
            raise DomainError(f"Only a withdrawal not yet sent can be rejected (this one is {payment.status}).",
                              code=ErrorCode.INVALID_STATE, field="paymentId")
        assert payment.hold_id is not None
        before = {"status": payment.status}
        await wallet.void_withdrawal(db, hold_id=payment.hold_id, payment_id=payment.id,
                                     actor=Actor("staff", rejecter), reason=reason.strip())
        payment.rejected_by = rejecter
        payment.decision_reason = reason.strip()[:500]
        _set_status(payment, PaymentStatus.REJECTED)
        await _event(db, payment, "payment.rejected", rejected_by=str(rejecter))
        await audit.append(db, actor=viewer, action="withdrawal.reject", target_type="payment",
                           target_id=payment.id, brand_id=payment.brand_id, before=before,
                           after={"status": payment.status, "amount": format_amount(payment.amount, payment.currency),
                                  "currency": payment.currency}, reason=reason.strip())
        return payment


async def process_withdrawal(rt: Runtime, payment_id: uuid.UUID) -> None:
    """Send an approved withdrawal to its PSPs (cascading on technical failures, like deposits)."""
    async with rt.database.session() as db:
        payment = await db.get(Payment, payment_id)
        if payment is None or payment.status != PaymentStatus.APPROVED:
            return
        psps = route(routing_rules(rt.settings), kind=PaymentKind.WITHDRAWAL, method=payment.method,
                     country=payment.country, currency=payment.currency, amount=payment.amount)
    await _cascade(rt, payment_id, psps)


# ---- queries for the back office ------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentFilter:
    status: str | None = None
    kind: str | None = None
    player_id: uuid.UUID | None = None


def filtered(viewer: Viewer, where: PaymentFilter) -> SelectOfScalar[Payment]:
    stmt = readable_payments(viewer)
    if where.status:
        stmt = stmt.where(col(Payment.status) == where.status)
    if where.kind:
        stmt = stmt.where(col(Payment.kind) == where.kind)
    if where.player_id:
        stmt = stmt.where(col(Payment.player_id) == where.player_id)
    return stmt


async def awaiting_decision(db: AsyncSession, viewer: Viewer) -> Sequence[Payment]:
    """The withdrawal queue: requested withdrawals of the viewer's brand, oldest first."""
    return (await db.scalars(filtered(viewer, PaymentFilter(status=PaymentStatus.REQUESTED.value,
                                                            kind=PaymentKind.WITHDRAWAL.value))
                             .order_by(col(Payment.created_at)))).all()

