"""Crypto payment types: deposit addresses, quotes, on-chain transfers; inputs and payloads (docs/crypto.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import strawberry
from strawberry.scalars import JSON

from models import crypto as m
from schema.base import Money, UserError, to_global_id
from schema.cashier import Payment, PaymentStatus
from schema.input_limits import IDEMPOTENCY_KEY, text


@strawberry.enum(description="The assets the crypto cashier takes (USDT as an ERC-20 token on Ethereum).")
class CryptoAsset(StrEnum):
    BTC = "BTC"
    ETH = "ETH"
    USDT = "USDT"


@strawberry.enum
class CryptoDirection(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


@strawberry.type(
    description="A player's deposit address for an asset: what arrives there is credited to `creditCurrency`."
)
class CryptoAddress:
    asset: str
    network: str
    address: str
    credit_currency: str
    created_at: datetime

    @classmethod
    def from_model(cls, row: m.CryptoAddress) -> CryptoAddress:
        return cls(
            asset=row.asset,
            network=row.network,
            address=row.address,
            credit_currency=row.credit_currency,
            created_at=row.created_at,
        )


@strawberry.type(
    description="A rate locked until `expiresAt`: `rate` is the value of one unit of `asset` in `currency`."
)
class CryptoQuote:
    id: strawberry.ID
    asset: str
    currency: str
    direction: CryptoDirection
    rate: str
    amount: Money | None = strawberry.field(description="In `currency` (withdrawals: what is held)")
    asset_amount: Money | None = strawberry.field(
        description="Deposits: what to send for `amount`; withdrawals: what will be paid for it"
    )
    expires_at: datetime

    @classmethod
    def from_model(cls, row: m.CryptoQuote) -> CryptoQuote:
        return cls(
            id=strawberry.ID(str(row.id)),
            asset=row.asset,
            currency=row.currency,
            direction=CryptoDirection(row.direction),
            rate=format(row.rate.normalize(), "f"),
            amount=None if row.amount is None else Money.of(row.amount, row.currency),
            asset_amount=None if row.asset_amount is None else Money.of(row.asset_amount, row.asset),
            expires_at=row.expires_at,
        )


@strawberry.type(
    description="An on-chain transfer behind a crypto payment (a deposit's confirmations, a withdrawal's address)."
)
class CryptoTransfer:
    id: strawberry.ID
    direction: CryptoDirection
    asset: str
    network: str
    address: str
    chain_amount: str = strawberry.field(description="The chain's amount exactly (ETH to 18 places)")
    asset_amount: Money = strawberry.field(description="In the ledger's units of the asset (ETH: 10^-8)")
    dust: str = strawberry.field(description="What the ledger's units cannot hold (never credited)")
    txid: str | None = strawberry.field(description="The chain's transaction id (a withdrawal's once paid out)")
    confirmations: int
    required_confirmations: int
    status: str = strawberry.field(
        description="Deposits: confirming, held (a deposit gate refused it: in suspense), credited, refunding, "
        "refunded (sent back to its sender), cancelled, too_small; withdrawals: requested"
    )
    held_reason: str | None = strawberry.field(description="Held deposits: the refusing gate's code (a UserErrorCode)")
    sender_address: str | None = strawberry.field(description="Deposits: where the coins came from (refunds go there)")
    fee: str | None = strawberry.field(description="The processor's fee on a payout or refund, in the asset")
    credit_currency: str
    rate: str | None = strawberry.field(description="The locked rate it was priced at (fiat wallets)")
    screening: JSON | None = strawberry.field(description="Withdrawals: the destination's on-chain screening")
    payment_id: strawberry.ID | None
    payment_status: PaymentStatus | None
    player_id: strawberry.ID
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: m.CryptoTransfer, payment_status: str | None, reference: str | None = None) -> CryptoTransfer:
        return cls(
            id=strawberry.ID(str(row.id)),
            direction=CryptoDirection(row.direction),
            asset=row.asset,
            network=row.network,
            address=row.address,
            chain_amount=format(row.chain_amount.normalize(), "f"),
            asset_amount=Money.of(row.asset_amount, row.asset),
            dust=format(row.dust.normalize(), "f"),
            txid=row.txid or (reference if row.direction == "withdrawal" else None),
            confirmations=row.confirmations,
            required_confirmations=row.required_confirmations,
            status=row.status,
            credit_currency=row.credit_currency,
            rate=None if row.rate is None else format(row.rate.normalize(), "f"),
            screening=JSON(row.screening) if row.screening is not None else None,
            held_reason=row.held_reason,
            sender_address=row.sender_address,
            fee=None if row.fee is None else format(row.fee.normalize(), "f"),
            payment_id=strawberry.ID(str(to_global_id("Payment", row.payment_id))) if row.payment_id else None,
            payment_status=PaymentStatus(payment_status) if payment_status else None,
            player_id=strawberry.ID(str(to_global_id("Player", row.player_id))),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.input
class CryptoTransferFilter:
    direction: CryptoDirection | None = None
    asset: CryptoAsset | None = None
    status: str | None = text(32, default=None)
    player_id: strawberry.ID | None = None


@strawberry.input(description="Get (or create, the first time) the player's deposit address for an asset.")
class CryptoDepositAddressInput:
    asset: CryptoAsset
    currency: str | None = text(
        8, default=None, description="The wallet credited (default: the asset when the casino takes it)"
    )


@strawberry.type
class CryptoDepositAddressPayload:
    address: CryptoAddress | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Lock a rate between an asset and a fiat currency for a while.")
class CryptoQuoteInput:
    asset: CryptoAsset
    currency: str = text(8)
    direction: CryptoDirection
    amount: str | None = text(32, default=None, description="In `currency`; required for a withdrawal quote")


@strawberry.type
class CryptoQuotePayload:
    quote: CryptoQuote | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Withdraw to an address: an amount of the asset, or a withdrawal quote's amounts.")
class CryptoWithdrawInput:
    asset: CryptoAsset
    address: str = text(128)
    amount: str | None = text(32, default=None, description="In the asset (from a wallet in the asset)")
    quote_id: strawberry.ID | None = strawberry.field(default=None, description="From a fiat wallet: the quote")
    idempotency_key: str | None = text(IDEMPOTENCY_KEY, default=None)
    forfeit_bonuses: bool = False


@strawberry.type
class CryptoWithdrawPayload:
    payment: Payment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="A held crypto deposit (status held) to release to its player or refund to its sender.")
class HeldCryptoDepositInput:
    transfer_id: strawberry.ID = strawberry.field(description="The CryptoTransfer's id")
    reason: str = text(500, description="Why (kept in the audit log; at least 3 characters)")


@strawberry.type
class HeldCryptoDepositPayload:
    transfer: CryptoTransfer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
