"""Affiliate commission runs (services/affiliates/runs, docs/affiliate-commissions.md): the money a run books for a
partner and each payout of it. The ledger transactions (`affiliate_commission`, `affiliate_payout`) move no player
account, so these events are where the outside learns of them."""

from __future__ import annotations

from core.catalogue.fragments import CURRENCY, MINOR_UNITS, UUID, EventType, obj

_OWED = {"run_id": UUID, "affiliate_id": UUID, "currency": CURRENCY, "amount": MINOR_UNITS, "transaction_id": UUID}

TYPES = (
    EventType(
        "affiliate.commission_booked",
        1,
        "A run's commission for one partner and currency was booked: the brand's cost to the partner's payable.",
        obj(_OWED),
    ),
    EventType(
        "affiliate.payout_paid",
        1,
        "A PSP paid a partner's commission out: the payable to the PSP's clearing account.",
        obj({**_OWED, "payout_id": UUID, "psp": {"type": "string", "maxLength": 32}}),
    ),
)
