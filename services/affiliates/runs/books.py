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
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from models.ledger import AccountPurpose, TransactionKind
from services import ledger, wallet
from services.ledger import Entry, Leg, Result


async def payable_account(db: AsyncSession, affiliate_id: uuid.UUID, currency: str) -> uuid.UUID:
    return await wallet.operator_account(
        db, None, AccountPurpose.AFFILIATE_PAYABLE, currency, owner_type="system", owner_id=f"affiliate:{affiliate_id}"
    )


@dataclass(frozen=True)
class Owed:
    """What moves for one partner: an amount of a currency, on a brand's behalf, by whom."""

    brand_id: uuid.UUID
    affiliate_id: uuid.UUID
    currency: str
    amount: int
    actor_type: str
    actor_id: uuid.UUID | None


async def _move(
    db: AsyncSession, owed: Owed, *, key: str, kind: TransactionKind, source: uuid.UUID, target: uuid.UUID,
    reference: tuple[str, uuid.UUID], details: dict[str, str],
) -> Result:  # fmt: skip
    entry = Entry(
        idempotency_key=key,
        kind=kind.value,
        legs=(Leg(source, -owed.amount), Leg(target, owed.amount)),
        actor_type=owed.actor_type,
        actor_id=owed.actor_id,
        brand_id=owed.brand_id,
        reference_type=reference[0],
        reference_id=str(reference[1]),
        details={"affiliate": str(owed.affiliate_id), **details},
    )
    return await ledger.record(db, entry)


async def book_commission(db: AsyncSession, owed: Owed, *, run_id: uuid.UUID) -> Result:
    """The brand's commission cost → the partner's payable."""
    cost = await wallet.operator_account(db, owed.brand_id, AccountPurpose.AFFILIATE_COMMISSION, owed.currency)
    return await _move(
        db,
        owed,
        key=f"affiliate-commission:{run_id}:{owed.affiliate_id}:{owed.currency}",
        kind=TransactionKind.AFFILIATE_COMMISSION,
        source=cost,
        target=await payable_account(db, owed.affiliate_id, owed.currency),
        reference=("affiliate_run", run_id),
        details={},
    )


async def book_payout(db: AsyncSession, owed: Owed, *, payout_id: uuid.UUID, psp: str) -> Result:
    """The partner's payable → the PSP's clearing account (it paid the partner)."""
    clearing = await wallet.operator_account(
        db, owed.brand_id, AccountPurpose.PSP_CLEARING, owed.currency, owner_type="psp", owner_id=psp
    )
    return await _move(
        db,
        owed,
        key=f"affiliate-payout:{payout_id}",
        kind=TransactionKind.AFFILIATE_PAYOUT,
        source=await payable_account(db, owed.affiliate_id, owed.currency),
        target=clearing,
        reference=("affiliate_payout", payout_id),
        details={"psp": psp},
    )
