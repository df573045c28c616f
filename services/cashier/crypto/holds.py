"""Crypto deposits a deposit gate refuses: held in suspense, then released to the player or refunded to the sender.

Coins arrive whether or not we would take them. A card deposit meets its gates before the PSP is asked; a crypto
deposit meets the same ones (services/cashier/deposits.py `_start`: self-exclusion and time-out, the RG deposit
limits, an inactive account, risk's block lists, the cashier's payment limits, an AML restriction, risk's rules,
KYC's deposit thresholds) once its confirmations are in, before it is credited. Refused, it is never credited
and never lost:
- **held**: booked PSP clearing → the brand's `crypto_held` suspense account (a liability: owed to the player or
  to the sender), the transfer `held` with the gate's code (`held_reason`), its payment still pending;
- **released** when the gates pass again (staff ask, or the player's KYC advanced: `release_cleared`): booked
  suspense → clearing, then credited as any crypto deposit (`ledger.deposit`, `payment.succeeded`);
- **refunded** to the address the coins came from (staff of finance, or the system's sweep for deposits held longer
  than `CRYPTO_HELD_REFUND_AFTER_DAYS`: `sweep`): screened by the processor
  first (a refused address keeps it held), paid out by the processor once per round (its `foreign_id`), then
  booked suspense → clearing and the payment failed (`REFUNDED_TO_SENDER`); the processor's fee as fees.py books.
  The processor's later word on that payout (confirmed, or failed, cancelled, dropped: reversed once and held
  again, a new refund being a new round) is refunds.py's, the only path for a refund's callbacks.
Exactly once: every step runs under the transfer's row lock (taken first, as in deposits.py) and checks the status
it moves from; the ledger's keys (`crypto-held:`, `crypto-released:`, `crypto-refunded[-<round>]:` + payment id)
make a replay write nothing. A refund's payout happens between two transactions: `refunding` marks it asked, so a
release cannot cross it, and a retry of a refund (finance's, or the next sweep's) asks the processor again under
the same round's foreign id (paid once).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import SYSTEM, Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.crypto import CryptoTransfer
from models.ledger import AccountPurpose
from models.payments import Payment, PaymentAttempt
from models.players import Player, PlayerStatus
from services import audit, ledger, wallet
from services.aml import restrictions as aml
from services.cashier import payment_limits
from services.cashier.answers import _apply
from services.cashier.crypto import assets
from services.cashier.crypto.processor import processor
from services.cashier.payments import PaymentUnavailable, lock_attempt
from services.cashier.psp import PayoutRequest, PspAnswer, PspDeclined, PspTechnicalFailure
from services.kyc import gates as kyc_gates
from services.rg import gates as rg_gates
from services.risk import gates as risk_gates
from services.risk import inline as risk_inline
from services.risk import lists as risk_lists
from services.risk.signals import of_request

FINANCE = frozenset({"finance", "superadmin"})
REFUND_REASON = "REFUNDED_TO_SENDER"
DROPPED = str(ErrorCode.CRYPTO_DEPOSIT_DROPPED)  # a held deposit's `held_reason` once the chain dropped it


class DepositHeld(DomainError):
    code = ErrorCode.RISK_HOLD


async def refusal(db: AsyncSession, rt: Runtime, payment: Payment) -> DomainError | None:
    """The card deposit's gates for this crypto deposit, in a savepoint (what a gate writes before refusing is
    undone, as a card deposit's rollback undoes it): None when it may be credited, else the refusal."""
    player = await db.get(Player, payment.player_id)
    assert player is not None
    try:
        async with db.begin_nested():
            await rg_gates.check_deposit(db, rt, player, payment.currency)
            standing = (await wallet.lock_player_money(db, player.id, standing=True)).player
            if standing is None or standing.status != PlayerStatus.ACTIVE:
                raise DomainError("The account is not active.", code=ErrorCode.ACCOUNT_BLOCKED)
            seen = of_request(ip=None, user_agent=None, device=None)
            await risk_gates.check_payment(db, player, payment, seen)  # the block lists (the player's email, country)
            await payment_limits.check(db, payment)
            await aml.check(db, player.id, "depositing")
            risk = await risk_inline.at_deposit(
                db, player_id=player.id, brand_id=player.brand_id, currency=payment.currency, seen=seen
            )
            if risk.hold_deposit:
                raise DepositHeld("A risk rule holds this deposit for review.")
            await kyc_gates.check_deposit(db, rt, player, payment)
            await risk_inline.audit_deferred(db)
    except DomainError as refused:
        risk_inline.forget_deferred(db)  # the hits' audit records went with the savepoint
        if isinstance(refused, kyc_gates.KycRequired):  # the player is asked for the level, as for a card
            await kyc_gates.record_fired(db, player, refused)
        if isinstance(refused, risk_lists.RiskBlocked):  # the block's flag for the analysts, as for a card
            await risk_lists.flag_blocked(
                db, brand_id=player.brand_id, player_id=player.id, occasion=risk_lists.Occasion.DEPOSIT, refusal=refused
            )
        return refused
    return None


async def hold(db: AsyncSession, row: CryptoTransfer, payment: Payment, refused: DomainError) -> None:
    """A confirmed deposit a gate refused: PSP clearing → the brand's suspense account, the transfer held."""
    clearing, held = await _accounts(db, payment)
    await _record(db, payment, "crypto-held", "crypto_deposit_held", [(clearing, -1), (held, 1)], wallet.Actor("psp"))
    row.status, row.held_reason, row.updated_at = "held", str(refused.code)[:64], clock.now()
    await _event(db, row, "crypto.deposit_held", payment.amount)


def dropped(row: CryptoTransfer) -> None:
    """The chain dropped a held deposit: its coins are not ours (sent back, the sender would have them twice;
    released, the player would play with coins the chain took back). It stays in suspense, neither released nor
    refunded (`DROPPED`), until the transfer is mined again (`mined_again`)."""
    row.held_reason, row.updated_at = DROPPED, clock.now()


async def mined_again(
    db: AsyncSession, rt: Runtime, row: CryptoTransfer, payment: Payment, attempt: PaymentAttempt
) -> bool:
    """A held deposit the chain had dropped is reported mined: the gates again (True: they pass, credited now). As
    for a dropped transfer credited (deposits.py), the drop may have been the later fact: flagged for staff."""
    refused = await refusal(db, rt, payment)
    if refused is not None:
        row.held_reason, row.updated_at = str(refused.code)[:64], clock.now()
        return False
    await _credit(db, rt, row, payment, attempt, wallet.Actor("psp"))
    await _event(db, row, "crypto.deposit_dropped_after_credit", payment.amount)
    return True


async def release(rt: Runtime, viewer: Viewer, *, transfer_id: uuid.UUID, reason: str) -> CryptoTransfer:
    """Credit a held deposit to its player now that the gates pass (refused again: the gate's own refusal)."""
    why = _staff(viewer, reason)
    async with rt.database.transaction() as db:
        row, payment, attempt = await _locked(db, viewer, transfer_id, ("held",))
        _not_dropped(row)
        refused = await refusal(db, rt, payment)
        if refused is not None:
            raise refused
        await _credit(db, rt, row, payment, attempt, _actor(viewer))
        await _audit(db, viewer, row, payment, "crypto.deposit_released", why)
        return row


async def _credit(
    db: AsyncSession, rt: Runtime, row: CryptoTransfer, payment: Payment, attempt: PaymentAttempt, actor: wallet.Actor
) -> None:
    clearing, held = await _accounts(db, payment)
    await _record(db, payment, "crypto-released", "crypto_deposit_released", [(held, -1), (clearing, 1)], actor)
    answer = PspAnswer("succeeded", psp_reference=row.txid or row.processor_tx_id)
    await _apply(db, payment, attempt, answer, source="webhook", repay_debt=rt.settings.deposits_repay_debt)
    row.status, row.updated_at = "credited", clock.now()
    await _event(db, row, "crypto.deposit_released", payment.amount)
    await _event(db, row, "crypto.deposit_credited", payment.amount)


def _not_dropped(row: CryptoTransfer) -> None:
    if row.held_reason == DROPPED:
        raise DomainError(
            "The chain dropped this transfer: its coins are not here; it waits until it is mined again.",
            code=ErrorCode.CRYPTO_DEPOSIT_DROPPED,
            field="transferId",
        )


async def release_cleared(rt: Runtime, player_id: uuid.UUID) -> list[uuid.UUID]:
    """After a change that may clear a gate (a KYC level reached, a restriction lifted): release the player's
    held deposits the gates now pass; the others stay held."""
    async with rt.database.session() as db:
        held = (
            await db.scalars(
                select(col(CryptoTransfer.id)).where(
                    col(CryptoTransfer.player_id) == player_id, col(CryptoTransfer.status) == "held"
                )
            )
        ).all()
    released = []
    for transfer_id in held:
        try:
            await release(rt, SYSTEM, transfer_id=transfer_id, reason="the deposit gates pass again")
        except DomainError:
            continue
        released.append(transfer_id)
    return released


@dataclass(frozen=True)
class Swept:
    released: list[uuid.UUID] = field(default_factory=list)
    refunded: list[uuid.UUID] = field(default_factory=list)
    kept: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # still held, and why (a refusal's code)


async def sweep(rt: Runtime, *, refund_after: timedelta) -> Swept:
    """The automatic path (the server's worker, sweeper.py, and `croupier payments crypto-held`): every held deposit
    is released if its gates now pass; one held longer than `refund_after` that still may not be credited goes back
    to its sender. A refund the processor refuses (the sender screened out) stays held for finance; one it could not
    take then (left `refunding`, where no release may cross it) is asked again here, whatever its age, under its
    open round's foreign id (refunds.py `begin`: paid once). One held again after its refund failed counts its
    holding period from the failure."""
    now = clock.now()
    async with rt.database.session() as db:
        held = (
            await db.execute(
                select(col(CryptoTransfer.id), col(CryptoTransfer.updated_at), col(CryptoTransfer.status))
                .where(
                    col(CryptoTransfer.direction) == "deposit",
                    col(CryptoTransfer.status).in_(("held", "refunding")),
                )
                .order_by(col(CryptoTransfer.updated_at))
            )
        ).all()
    swept = Swept()
    for transfer_id, held_since, status in held:
        if status == "refunding":  # decided already: its refund is retried, whatever its age
            try:
                await refund(rt, SYSTEM, transfer_id=transfer_id, reason="the refund's retry")
                swept.refunded.append(transfer_id)
            except (DomainError, PaymentUnavailable) as failed:
                swept.kept.append((transfer_id, str(getattr(failed, "code", "PAYMENT_UNAVAILABLE"))))
            continue
        try:
            await release(rt, SYSTEM, transfer_id=transfer_id, reason="the deposit gates pass again")
            swept.released.append(transfer_id)
            continue
        except DomainError as refused:
            code = str(refused.code)
        if held_since > now - refund_after:
            swept.kept.append((transfer_id, code))
            continue
        why = f"held since {held_since:%Y-%m-%d} ({code}): returned to its sender"
        try:
            await refund(rt, SYSTEM, transfer_id=transfer_id, reason=why)
            swept.refunded.append(transfer_id)
        except (DomainError, PaymentUnavailable) as failed:
            swept.kept.append((transfer_id, str(getattr(failed, "code", "PAYMENT_UNAVAILABLE"))))
    return swept


async def refund(rt: Runtime, viewer: Viewer, *, transfer_id: uuid.UUID, reason: str) -> CryptoTransfer:
    """Return a held deposit's coins to the address they came from, through the processor (which screens it
    first); the suspense account gives the money back to the PSP's clearing account. The processor's later word on
    the payout (confirmed, or failed: held again) is refunds.py's."""
    from services.cashier.crypto import refunds  # refunds.py imports this module

    why = _staff(viewer, reason)
    async with rt.database.transaction() as db:
        row, _, _ = await _locked(db, viewer, transfer_id, ("held", "refunding", "refunded"))
        if row.status == "refunded":  # a retry, or a race lost to the first: its result
            return row
        _not_dropped(row)
        if row.sender_address is None:
            raise DomainError(
                "The processor did not report where these coins came from: they cannot be sent back.",
                code=ErrorCode.INVALID_STATE,
                field="transferId",
            )
        row.status, row.updated_at = "refunding", clock.now()
        of, sender, amount = assets.ASSETS[row.asset], row.sender_address, row.asset_amount
        reference = (await refunds.begin(db, row)).foreign_id  # this round's (refunds.py)
    request = PayoutRequest(
        reference=reference,  # the processor's foreign id: asked twice, paid once
        amount=amount,
        currency=of.code,
        method="crypto",
        destination_token=assets.instrument_token(of, sender),
    )
    try:  # outside any transaction: no database transaction waits on the processor
        paid = await processor(rt.settings).create_payout(request)
    except PspDeclined as exc:  # screening refused the sender (or the processor did): it stays held
        async with rt.database.transaction() as db:
            # Held: a callback failed this round first (refunds.py); there is nothing left to undo.
            row, _, _ = await _locked(db, viewer, transfer_id, ("refunding", "refunded", "held"))
            if row.status == "refunding":
                row.status, row.updated_at = "held", clock.now()
                row.screening = dict(exc.answer.raw.get("screening") or {"declined": exc.answer.decline_reason})
                await refunds.declined(db, reference, exc.answer)
        raise DomainError(
            "The processor refuses to pay the sender's address; the deposit stays held.",
            code=ErrorCode.CRYPTO_ADDRESS_REFUSED,
            field="transferId",
        ) from exc
    except PspTechnicalFailure as exc:  # refunding: the retry asks again under the same foreign id
        raise PaymentUnavailable("The crypto processor is not answering; try again shortly.") from exc
    async with rt.database.transaction() as db:
        # Held: a callback failed this round before its answer was booked; refunding: a later round is asked.
        row, payment, attempt = await _locked(db, viewer, transfer_id, ("refunding", "refunded", "held"))
        if await refunds.taken(db, row, payment, attempt, reference, paid, viewer=viewer, why=why):
            return row
        if row.status == "refunded":  # a race lost, or the processor's callback booked it first
            return row
    raise DomainError(
        "The processor failed this refund; the deposit stays held.",
        code=ErrorCode.INVALID_STATE,
        field="transferId",
    )


async def held_of(db: AsyncSession, player_id: uuid.UUID) -> Sequence[CryptoTransfer]:
    return (
        await db.scalars(
            select(CryptoTransfer).where(
                col(CryptoTransfer.player_id) == player_id, col(CryptoTransfer.status).in_(("held", "refunding"))
            )
        )
    ).all()


def _staff(viewer: Viewer, reason: str) -> str:
    if viewer is not SYSTEM and (not viewer.is_staff or not viewer.roles & FINANCE):
        raise DomainError("Only finance decides on held crypto deposits.", code=ErrorCode.NOT_ALLOWED)
    why = (reason or "").strip()
    if len(why) < 3:
        raise DomainError("Say why (at least 3 characters).", field="reason")
    return why[:500]


def _actor(viewer: Viewer) -> wallet.Actor:
    return wallet.Actor("system") if viewer is SYSTEM else wallet.Actor("staff", viewer.id)


async def _locked(
    db: AsyncSession, viewer: Viewer, transfer_id: uuid.UUID, statuses: tuple[str, ...]
) -> tuple[CryptoTransfer, Payment, PaymentAttempt]:
    """The transfer's row lock, then its payment's and attempt's (deposits.py's order), in one of `statuses`."""
    row = await db.get(CryptoTransfer, transfer_id, with_for_update={"key_share": True}, populate_existing=True)
    if row is None or row.direction != "deposit" or (viewer.brand_id is not None and viewer.brand_id != row.brand_id):
        raise NotFound("No such crypto deposit.", field="transferId")
    if row.status not in statuses or row.payment_id is None:
        raise DomainError(
            f"This deposit is not held (it is {row.status}).",
            code=ErrorCode.CRYPTO_DEPOSIT_NOT_HELD,
            field="transferId",
        )
    attempt_id = await db.scalar(
        select(col(PaymentAttempt.id)).where(col(PaymentAttempt.payment_id) == row.payment_id).limit(1)
    )
    assert attempt_id is not None
    payment, attempt = await lock_attempt(db, row.payment_id, attempt_id)
    return row, payment, attempt


async def _accounts(db: AsyncSession, payment: Payment) -> tuple[uuid.UUID, uuid.UUID]:
    assert payment.psp is not None
    clearing = await wallet.operator_account(
        db, payment.brand_id, AccountPurpose.PSP_CLEARING, payment.currency, owner_type="psp", owner_id=payment.psp
    )
    held = await wallet.operator_account(db, payment.brand_id, AccountPurpose.CRYPTO_HELD, payment.currency)
    return clearing, held


async def _record(
    db: AsyncSession,
    payment: Payment,
    prefix: str,
    kind: str,
    sides: list[tuple[uuid.UUID, int]],
    actor: wallet.Actor,
) -> None:
    await ledger.record(
        db,
        ledger.Entry(
            idempotency_key=f"{prefix}:{payment.id}",
            kind=kind,
            legs=tuple(ledger.Leg(account, sign * payment.amount) for account, sign in sides),
            actor_type=actor.type,
            actor_id=actor.id,
            brand_id=payment.brand_id,
            player_id=payment.player_id,
            reference_type="payment",
            reference_id=str(payment.id),
            details={"psp": payment.psp},
        ),
    )


async def _event(db: AsyncSession, row: CryptoTransfer, topic: str, amount: int) -> None:
    from services.cashier.crypto.deposits import _transfer_event  # deposits.py imports this module

    await _transfer_event(db, row, topic, credit=amount)


async def _audit(
    db: AsyncSession, viewer: Viewer, row: CryptoTransfer, payment: Payment, action: str, why: str
) -> None:
    await audit.append(
        db,
        actor=viewer,
        action=action,
        target_type="crypto_transfer",
        target_id=row.id,
        brand_id=row.brand_id,
        before={"status": "held", "held_reason": row.held_reason},
        after={
            "status": row.status,
            "payment_id": str(payment.id),
            "amount": payment.amount,
            "currency": payment.currency,
        },
        reason=why,
    )
