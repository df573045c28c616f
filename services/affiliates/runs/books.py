"""A run in the ledger: its booking, each payout's ledger side, and what `croupier ledger verify` checks of them.

Accounts (derived: balance = sum of postings, never locked or updated):
- the brand's commission cost: `brand` / <brand id> / affiliate_commission, per currency (its balance, negative,
  is what the brand has paid its partners; kept apart from house_revenue, so GGR stays the games' own result);
- each partner's payable: `system` / `affiliate:<partner id>` / affiliate_payable, no brand, per currency: what
  is owed to the partner (positive) until it is paid out.

Transactions, each under an idempotency key a retry repeats:
- `affiliate_commission`: cost → payable, one per run, partner and currency, key
  `affiliate-commission:<run>:<partner>:<currency>`;
- `affiliate_payout`: payable → the PSP's clearing account, one per payout, key `affiliate-payout:<payout id>`.

Invariants (checks.py, which `croupier ledger verify` runs through services/ledger_checks.py):
- a booked or paid run's partners' payouts each name one committed affiliate_commission transaction that moved
  exactly their amount onto the partner's payable, and the run's lines add up to its payouts;
- a paid payout names one committed affiliate_payout transaction that took exactly its amount from the payable;
- a partner's payable never goes below zero, and equals its booked payouts not yet paid.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from models.ledger import AccountPurpose, TransactionKind
from services import ledger, wallet
from services.ledger import Entry, Leg, Result


async def payable_account(db: AsyncSession, affiliate_id: uuid.UUID, currency: str) -> uuid.UUID:
    return await wallet.operator_account(
        db, None, AccountPurpose.AFFILIATE_PAYABLE, currency, owner_type="system", owner_id=f"affiliate:{affiliate_id}"
    )


async def book_commission(
    db: AsyncSession,
    *,
    run_id: uuid.UUID,
    brand_id: uuid.UUID,
    affiliate_id: uuid.UUID,
    currency: str,
    amount: int,
    actor_type: str,
    actor_id: uuid.UUID | None,
) -> Result:
    cost = await wallet.operator_account(db, brand_id, AccountPurpose.AFFILIATE_COMMISSION, currency)
    payable = await payable_account(db, affiliate_id, currency)
    return await ledger.record(
        db,
        Entry(
            idempotency_key=f"affiliate-commission:{run_id}:{affiliate_id}:{currency}",
            kind=TransactionKind.AFFILIATE_COMMISSION.value,
            legs=(Leg(cost, -amount), Leg(payable, amount)),
            actor_type=actor_type,
            actor_id=actor_id,
            brand_id=brand_id,
            reference_type="affiliate_run",
            reference_id=str(run_id),
            details={"affiliate": str(affiliate_id)},
        ),
    )


async def book_payout(
    db: AsyncSession,
    *,
    payout_id: uuid.UUID,
    brand_id: uuid.UUID,
    affiliate_id: uuid.UUID,
    currency: str,
    amount: int,
    psp: str,
    actor_type: str,
    actor_id: uuid.UUID | None,
) -> Result:
    payable = await payable_account(db, affiliate_id, currency)
    clearing = await wallet.operator_account(
        db, brand_id, AccountPurpose.PSP_CLEARING, currency, owner_type="psp", owner_id=psp
    )
    return await ledger.record(
        db,
        Entry(
            idempotency_key=f"affiliate-payout:{payout_id}",
            kind=TransactionKind.AFFILIATE_PAYOUT.value,
            legs=(Leg(payable, -amount), Leg(clearing, amount)),
            actor_type=actor_type,
            actor_id=actor_id,
            brand_id=brand_id,
            reference_type="affiliate_payout",
            reference_id=str(payout_id),
            details={"affiliate": str(affiliate_id), "psp": psp},
        ),
    )
