"""Deposits: a player pays in through the cascade."""

from __future__ import annotations

from authz.subjects import Viewer
from core.errors import DomainError, ErrorCode
from core.money import currency as currency_info
from core.money import parse_amount
from core.runtime import Runtime
from models.payments import Payment, PaymentKind, PaymentStatus
from models.players import PlayerStatus
from services import wallet
from services.aml import restrictions as aml
from services.bonuses import issue as bonus_issue
from services.cashier import payment_limits
from services.cashier.cascade import _cascade
from services.cashier.intake import (
    DEPOSIT_METHODS,
    _check_key,
    _check_method,
    _check_token,
    _create_payment,
    _payer,
    retried,
)
from services.cashier.payments import _event, _set_status, fail_payment
from services.cashier.queries import get_readable
from services.cashier.routing import deposit_route
from services.kyc import gates as kyc_gates
from services.rg import gates as rg_gates
from services.risk import cards as risk_cards
from services.risk import gates as risk_gates
from services.risk import inline as risk_inline
from services.risk import lists as risk_lists
from services.risk import refused as risk_refused
from services.risk.observe import observed


async def deposit(
    rt: Runtime,
    viewer: Viewer,
    *,
    amount: str,
    currency: str,
    method: str,
    psp_token: str | None = None,
    idempotency_key: str | None = None,
    bonus_code: str | None = None,
) -> Payment:
    """A player pays in: route, then try the PSPs in order until one takes it (or declines it).

    Returns the payment: succeeded, pending (follow `redirect_url` for 3-D Secure), failed
    (`failure_code` PAYMENT_DECLINED or PAYMENT_UNAVAILABLE) or held (a risk rule holds it for risk staff:
    no PSP asked; services/cashier/risk_holds.py). Retrying with the same key returns the same payment and
    never starts a second cascade.
    """
    code = currency_info(currency).code
    minor = parse_amount(amount, code)
    method = _check_method(method, DEPOSIT_METHODS)
    token = _check_token(psp_token, required=method in ("card", "ewallet"))
    key = _check_key(idempotency_key)
    async with rt.database.session() as db:
        player, _ = await _payer(db, viewer, code)
        first = await retried(
            db, kind=PaymentKind.DEPOSIT, player=player, currency=code, amount=minor, method=method, key=key
        )
        if first is not None:  # a retry answers the first result before any other work (no gate, no vault call)
            return await get_readable(db, viewer, first.id)
    # Before the deposit's transaction: an exclusion found at a matching account is copied to this one
    # in a transaction of its own, which the refusal must not roll back.
    await rg_gates.check_person(rt, player)
    # Before the transaction too: the card's BIN and fingerprint from the PSP's vault (services/risk/cards.py).
    card = await risk_cards.describe(rt.settings, token) if method == "card" else None
    seen = observed(viewer.meta, card)
    kept = risk_refused.Kept(risk_lists.Occasion.DEPOSIT, seen)
    try:
        payment, psps, three_ds = await _start(rt, viewer, code, minor, method, token, key, bonus_code, kept)
    except DomainError as refusal:  # rolled back: no payment, no money moved
        await risk_refused.keep(rt, kept)  # its observation and its rules' hits, in a transaction of their own
        if isinstance(refusal, risk_inline.RiskRefused):  # the hits that refused it
            await risk_inline.record_refused(rt, refusal)
        elif isinstance(refusal, kyc_gates.KycRequired):  # the player is asked for the level
            await kyc_gates.record_refused(rt, player.id, refusal)
        elif isinstance(refusal, risk_lists.RiskBlocked):  # flagged for review
            await risk_lists.record_blocked(
                rt, brand_id=player.brand_id, player_id=player.id, occasion=risk_lists.Occasion.DEPOSIT, refusal=refusal
            )
        raise
    if psps is None:
        return payment
    await _cascade(rt, payment.id, psps, three_ds=three_ds)
    async with rt.database.session() as db:
        return await get_readable(db, viewer, payment.id)


async def _start(
    rt: Runtime,
    viewer: Viewer,
    code: str,
    minor: int,
    method: str,
    token: str | None,
    key: str,
    bonus_code: str | None,
    kept: risk_refused.Kept,
) -> tuple[Payment, list[str] | None, bool]:
    """The deposit's transaction: insert it, check the gates, claim its offer; the PSPs to try (None: done)
    and whether they must challenge the card (3-D Secure)."""
    async with rt.database.transaction() as db:
        player, _ = await _payer(db, viewer, code)
        payment, created = await _create_payment(
            db,
            kind=PaymentKind.DEPOSIT,
            player=player,
            currency=code,
            amount=minor,
            method=method,
            token=token,
            key=key,
            status=PaymentStatus.CREATED,
            fingerprint=kept.seen.card_fingerprint if method == "card" else None,
        )
        if not created:
            return payment, None, False
        seen = kept.seen
        kept.reference, kept.player_id = payment.id, player.id
        # After the insert: this payment is in flight, so the limit sees it and every other one.
        await risk_gates.check_payment(db, player, payment, seen)
        await rg_gates.check_deposit(db, rt, player, code)
        # Under the player's row lock (check_deposit took it): the status read before it may be stale. An
        # erasure (or a closure) that committed since would otherwise be paid into, and it saw no payment.
        standing = (await wallet.lock_player_money(db, player.id, standing=True)).player
        if standing is None or standing.status != PlayerStatus.ACTIVE:
            raise DomainError("The account is not active.", code=ErrorCode.ACCOUNT_BLOCKED)
        # The cashier's BIN rules and payment limits, under the money lock (concurrent deposits count in turn).
        limits = await payment_limits.check(db, payment, card_bin=seen.card_bin)
        await aml.check(db, player.id, "depositing")
        # Risk's rules and the restrictions in force (blocked: refused; held; 3-D Secure; PSPs), then KYC.
        risk = await risk_inline.at_deposit(db, player_id=player.id, brand_id=player.brand_id, currency=code, seen=seen)
        kept.decision = risk  # its hits, kept should a later gate refuse the deposit
        await kyc_gates.check_deposit(db, rt, player, payment)
        if bonus_code and bonus_code.strip():  # the offer waits for this deposit (refused: no deposit either)
            await bonus_issue.claim_with_deposit(db, player, payment, bonus_code, seen=seen)
        three_ds = risk.restrictions.three_ds and method == "card"
        psps: list[str] | None = await deposit_route(
            db,
            method=method,
            country=player.country,
            currency=code,
            amount=minor,
            restrictions=risk.restrictions,
            bin_country=limits.bin_country,
            risk_score=limits.risk_score,
            seed=str(payment.id),
            config=limits.config,
        )
        await _event(db, payment, "payment.created")
        if not psps:
            await fail_payment(db, payment, ErrorCode.PAYMENT_UNAVAILABLE, "No payment provider takes this payment.")
            psps = None
        elif risk.hold_deposit:  # no PSP is asked until risk staff release it (its offer keeps waiting)
            _set_status(payment, PaymentStatus.HELD)
            held_by = ",".join(f.rule.code for f in risk.findings if risk_inline.holds_deposit(f))
            await _event(db, payment, "payment.held", reason=f"risk: {held_by}"[:500])
            psps = None
        elif limits.bin_review is not None:  # a BIN rule could not decide on the card: the risk desk does
            _set_status(payment, PaymentStatus.HELD)
            await _event(db, payment, "payment.held", reason=f"bin_rule: {limits.bin_review.name}"[:500])
            psps = None
        await risk_inline.audit_deferred(db)  # last: the audit chain's lock is held until the commit
    return payment, psps, three_ds and psps is not None
