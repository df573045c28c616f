"""Crypto payments (services/cashier/crypto): deposit addresses and on-chain transfers. A crypto payment's own
states are `payment.*` events like any payment's, and its money moves in `ledger.*` events; these say what the
chain did. No address appears in an event (it can identify a person)."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import CURRENCY, MINOR_UNITS, OPTIONAL_UUID, UUID, EventType, obj, one_of

ASSET = one_of("BTC", "ETH", "USDT")
TRANSFER: dict[str, Any] = obj(
    {
        "transfer_id": UUID,
        "player_id": UUID,
        "payment_id": {**OPTIONAL_UUID, "description": "none when worth less than a minor unit (too_small)"},
        "asset": ASSET,
        "asset_amount": {"type": "integer", "description": "minor units of the asset (ETH: 10^-8)"},
        "confirmations": {"type": "integer", "minimum": 0},
        "required_confirmations": {"type": "integer", "minimum": 0},
        "status": one_of("confirming", "held", "credited", "refunding", "refunded", "cancelled", "too_small"),
        "currency": {**CURRENCY, "description": "the wallet credited"},
        "amount": {**MINOR_UNITS, "description": "what it credits (credits), in minor units of `currency`"},
    },
    {"gate": {"type": "string", "pattern": "^[A-Z_]{2,64}$", "description": "held: the refusing gate's error code"}},
)

TYPES = (
    EventType(
        "crypto.address_created",
        1,
        "A player was given a deposit address for an asset at the crypto processor.",
        obj(
            {
                "address_id": UUID,
                "player_id": UUID,
                "asset": ASSET,
                "network": {"type": "string", "maxLength": 16},
                "credit_currency": CURRENCY,
            }
        ),
    ),
    EventType(
        "crypto.deposit_seen",
        1,
        "A transfer to a player's address was first seen on chain: priced (rate locked) and its payment pending.",
        TRANSFER,
    ),
    EventType(
        "crypto.deposit_credited",
        1,
        "A crypto deposit reached its confirmations and was credited (its payment.succeeded and ledger.deposit).",
        TRANSFER,
    ),
    EventType(
        "crypto.deposit_repriced",
        1,
        "A crypto deposit reached its confirmations after its quote expired: its pending payment's amount is now "
        "at the processor's rate of that moment (`amount`; 0 and too_small when worth less than a minor unit).",
        TRANSFER,
    ),
    EventType(
        "crypto.deposit_held",
        1,
        "A confirmed crypto deposit a deposit gate refused (self-exclusion, a limit, KYC, risk): booked to the "
        "brand's suspense account, not credited; `gate` is the refusing gate's error code.",
        TRANSFER,
    ),
    EventType(
        "crypto.deposit_released",
        1,
        "A held crypto deposit passed its gates again (finance asked, or the player's KYC advanced): from suspense "
        "to the player (its crypto.deposit_credited follows).",
        TRANSFER,
    ),
    EventType(
        "crypto.deposit_refunded",
        1,
        "A held crypto deposit was sent back to the address it came from (screened first) by finance or the "
        "system: out of suspense, its payment failed (REFUNDED_TO_SENDER).",
        TRANSFER,
    ),
    EventType(
        "crypto.deposit_refund_confirmed",
        1,
        "The chain confirmed the payout that sent a held crypto deposit back to its sender: the refund is final.",
        TRANSFER,
    ),
    EventType(
        "crypto.deposit_refund_failed",
        1,
        "The processor failed, cancelled or the chain dropped the payout of a held crypto deposit's refund after it "
        "was taken: reversed once, back in suspense and held (its payment pending), for finance to decide again.",
        TRANSFER,
    ),
    EventType(
        "crypto.deposit_refund_conflict",
        1,
        "The processor reported a refund payout the other way after it was final (a failure after its confirmation, "
        "or a confirmation after its failure): flagged for finance, nothing moved.",
        TRANSFER,
    ),
    EventType(
        "crypto.deposit_cancelled",
        1,
        "A transfer was dropped from the chain before its confirmations: its payment failed, nothing credited.",
        TRANSFER,
    ),
    EventType(
        "crypto.deposit_dropped_after_credit",
        1,
        "A transfer already credited (or held in suspense) was reported dropped from the chain: flagged for finance, "
        "nothing debited.",
        TRANSFER,
    ),
)
