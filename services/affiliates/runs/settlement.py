"""Booking an approved run, and paying its partners out through the cashier's PSPs.

Booking (approved → booked), one database transaction: per partner and currency with a positive total, one
`affiliate_commission` ledger transaction (books.py) and one payout row that owes it. Booking again changes
nothing (the run is no longer approved; the ledger's keys would answer the first result anyway).

Paying (booked → paid): each payout not yet paid is sent to a PSP as the cashier sends a withdrawal — routed by
the partner's `payout_method` (services/cashier/routing.py), the payout's id as the PSP's idempotency key, so a
PSP asked twice pays once. Nothing holds a database transaction open across the PSP call: the payout is marked
`sending` and committed first; the answer is applied in a second transaction. A payout left `sending` (a
crash, a timeout, a pending answer) is asked about (`get_status`) on the next `pay_run` rather than sent again;
one the PSP never heard of is sent again under the same reference. Succeeded: the `affiliate_payout` ledger
transaction (payable → the PSP's clearing account, keyed by the payout, so once whatever the attempts) and
`paid`. Declined: `failed`, with the reason; the next pay_run sends it as a new attempt (a new reference,
`<payout id>.<attempt>`: a PSP answers a reference it has seen with its first answer). The run is `paid` once
every payout is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlmodel import col

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.affiliate_runs import AffiliatePayout, AffiliateRun, PayoutStatus, RunState
from models.affiliates import Affiliate
from services import audit
from services.affiliates.runs import books
from services.affiliates.runs.drafts import lock_run, staff_id
from services.cashier.psp import PayoutRequest, PspAnswer, PspDeclined, PspTechnicalFailure
from services.cashier.routing import adapter_for, payout_route

_PARTNER_TOTALS = text("""
SELECT affiliate_id, currency, sum(revshare + cpa_amount + second_tier) AS total FROM affiliate_run_lines
WHERE run_id = :run GROUP BY affiliate_id, currency HAVING sum(revshare + cpa_amount + second_tier) > 0
ORDER BY affiliate_id, currency""")


async def book_run(rt: Runtime, viewer: Viewer, *, run_id: uuid.UUID) -> AffiliateRun:
    staff_id(viewer)
    async with rt.database.transaction() as db:
        run = await lock_run(db, run_id, viewer)
        if run.state != RunState.APPROVED:
            raise DomainError(
                f"Only an approved run can be booked (this one is {run.state}).",
                code=ErrorCode.INVALID_STATE,
                field="runId",
            )
        booked = {}
        for row in await db.execute(_PARTNER_TOTALS, {"run": run_id}):
            owed = books.Owed(
                run.brand_id, row.affiliate_id, row.currency, int(row.total), viewer.actor_type, viewer.id
            )
            result = await books.book_commission(db, owed, run_id=run.id)
            db.add(
                AffiliatePayout(
                    run_id=run.id,
                    affiliate_id=row.affiliate_id,
                    currency=row.currency,
                    amount=int(row.total),
                    commission_transaction_id=result.transaction_id,
                )
            )
            booked[f"{row.affiliate_id}:{row.currency}"] = int(row.total)
            await outbox.emit(
                db,
                "affiliate.commission_booked",
                f"affiliate:{row.affiliate_id}",
                {
                    "run_id": str(run.id),
                    "affiliate_id": str(row.affiliate_id),
                    "currency": row.currency,
                    "amount": int(row.total),
                    "transaction_id": str(result.transaction_id),
                },
                brand_id=run.brand_id,
            )
        run.state, run.booked_at = RunState.BOOKED.value, clock.now()
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="affiliate_run.book",
            target_type="affiliate_run",
            target_id=run.id,
            brand_id=run.brand_id,
            before={"state": RunState.APPROVED.value},
            after={"state": run.state, "booked": booked},
        )
        return run


@dataclass(frozen=True)
class PayoutOutcome:
    payout_id: uuid.UUID
    affiliate_id: uuid.UUID
    currency: str
    amount: int
    status: str
    failure: str | None


@dataclass(frozen=True)
class _Sending:
    payout: AffiliatePayout
    request: PayoutRequest
    psp: str
    ask_first: bool  # it was already sent once: ask the PSP before sending again


async def pay_run(rt: Runtime, viewer: Viewer, *, run_id: uuid.UUID) -> list[PayoutOutcome]:
    """Send every payout of a booked run not yet paid; returns each payout's state after."""
    staff_id(viewer)
    sending = await _claim(rt, viewer, run_id)
    for item in sending:
        answer, failure = await _ask_psp(rt, item)
        await _apply(rt, viewer, item, answer, failure)
    async with rt.database.transaction() as db:
        run = await lock_run(db, run_id, viewer)
        payouts = (await db.execute(select(AffiliatePayout).where(col(AffiliatePayout.run_id) == run_id))).scalars()
        outcomes = [
            PayoutOutcome(p.id, p.affiliate_id, p.currency, p.amount, p.status, p.failure)
            for p in sorted(payouts, key=lambda p: (str(p.affiliate_id), p.currency))
        ]
        if run.state == RunState.BOOKED and all(o.status == PayoutStatus.PAID for o in outcomes):
            run.state, run.paid_at = RunState.PAID.value, clock.now()
            await db.flush()
            await audit.append(
                db,
                actor=viewer,
                action="affiliate_run.paid",
                target_type="affiliate_run",
                target_id=run.id,
                brand_id=run.brand_id,
                before={"state": RunState.BOOKED.value},
                after={"state": run.state},
            )
    return outcomes


async def _claim(rt: Runtime, viewer: Viewer, run_id: uuid.UUID) -> list[_Sending]:
    """Mark the unpaid payouts `sending` (routed to a PSP) and commit, before any PSP is called."""
    async with rt.database.transaction() as db:
        run = await lock_run(db, run_id, viewer)
        if run.state != RunState.BOOKED:
            raise DomainError(
                f"Only a booked run is paid out (this one is {run.state}).", code=ErrorCode.INVALID_STATE, field="runId"
            )
        payouts = (
            await db.execute(
                select(AffiliatePayout)
                .where(col(AffiliatePayout.run_id) == run_id, col(AffiliatePayout.status) != PayoutStatus.PAID)
                .with_for_update()
            )
        ).scalars()
        claimed = []
        for payout in payouts:
            partner = await db.get(Affiliate, payout.affiliate_id)
            assert partner is not None
            method = partner.payout_method or "bank_transfer"
            details = partner.payout_details or {}
            psp = payout.psp or next(
                iter(
                    await payout_route(
                        db,
                        method=method,
                        country=str(details.get("country", "")),
                        currency=payout.currency,
                        amount=payout.amount,
                        seed=str(payout.id),
                    )
                ),
                None,
            )
            if psp is None:
                payout.status, payout.failure = PayoutStatus.FAILED.value, f"no PSP pays out by {method}"
                continue
            ask_first = payout.status == PayoutStatus.SENDING
            if payout.status == PayoutStatus.FAILED:  # the PSP keeps its decline under the old reference
                payout.attempt += 1
            payout.status, payout.psp, payout.failure = PayoutStatus.SENDING.value, psp, None
            token = details.get("token")
            reference = f"{payout.id}.{payout.attempt}"
            request = PayoutRequest(reference, payout.amount, payout.currency, method, str(token) if token else None)
            claimed.append(_Sending(payout, request, psp, ask_first))
        await db.flush()
        return claimed


async def _ask_psp(rt: Runtime, item: _Sending) -> tuple[PspAnswer | None, str | None]:
    """The PSP's answer (None: unknown, the payout stays `sending`) or a decline's reason."""
    try:
        adapter = adapter_for(rt.settings, item.psp)
        if item.ask_first:
            known = await adapter.get_status(item.request.reference)
            if known is not None:
                return known, None
        return await adapter.create_payout(item.request), None
    except PspDeclined as declined:
        return declined.answer, declined.reason
    except (PspTechnicalFailure, DomainError):
        return None, None


async def _apply(rt: Runtime, viewer: Viewer, item: _Sending, answer: PspAnswer | None, failure: str | None) -> None:
    async with rt.database.transaction() as db:
        payout = await db.get(AffiliatePayout, item.payout.id, with_for_update=True, populate_existing=True)
        run = await db.get(AffiliateRun, item.payout.run_id)
        assert payout is not None
        assert run is not None
        if payout.status != PayoutStatus.SENDING or answer is None:
            return
        payout.psp_reference = answer.psp_reference or payout.psp_reference
        if answer.status == "succeeded":
            owed = books.Owed(
                run.brand_id, payout.affiliate_id, payout.currency, payout.amount, viewer.actor_type, viewer.id
            )
            result = await books.book_payout(db, owed, payout_id=payout.id, psp=item.psp)
            payout.status, payout.payout_transaction_id, payout.paid_at = (
                PayoutStatus.PAID.value,
                result.transaction_id,
                clock.now(),
            )
            await outbox.emit(
                db,
                "affiliate.payout_paid",
                f"affiliate:{payout.affiliate_id}",
                {
                    "run_id": str(run.id),
                    "affiliate_id": str(payout.affiliate_id),
                    "currency": payout.currency,
                    "amount": payout.amount,
                    "transaction_id": str(result.transaction_id),
                    "payout_id": str(payout.id),
                    "psp": item.psp,
                },
                brand_id=run.brand_id,
            )
        elif answer.status in ("declined", "refunded"):
            payout.status = PayoutStatus.FAILED.value
            payout.failure = (failure or answer.decline_reason or answer.status)[:500]
        else:  # pending: the next pay_run asks the PSP
            return
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action=f"affiliate_payout.{payout.status}",
            target_type="affiliate_payout",
            target_id=payout.id,
            brand_id=run.brand_id,
            before={"status": PayoutStatus.SENDING.value},
            after={"status": payout.status, "psp": item.psp, "amount": payout.amount, "currency": payout.currency},
        )
