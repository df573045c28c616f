"""The payouts that send a held crypto deposit back to its sender (services/cashier/crypto/refunds.py).

A refund is a payout at the processor under our foreign id, tracked as a withdrawal's payout is: asked
(`requested`), taken by the processor (`processing`), then `confirmed` by the chain (final) or `failed` (the
processor failed or cancelled it, or the chain dropped it: the deposit is held again). One row per round: a refund
that failed may be asked again, under the next round's foreign id (a processor pays a foreign id once). The
database holds one row per foreign id and per (transfer, round).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class CryptoRefundPayout(SQLModel, table=True):
    __tablename__ = "crypto_refund_payouts"
    __table_args__ = (
        UniqueConstraint("foreign_id", name="uq_crypto_refund_payouts_foreign_id"),
        UniqueConstraint("transfer_id", "round", name="uq_crypto_refund_payouts_round"),
        CheckConstraint(
            "status IN ('requested', 'processing', 'confirmed', 'failed')", name="ck_crypto_refund_payouts_status"
        ),
        CheckConstraint("round >= 1", name="ck_crypto_refund_payouts_round"),
    )

    id: uuid.UUID = id_field()
    transfer_id: uuid.UUID = Field(foreign_key="crypto_transfers.id")
    round: int
    foreign_id: str = Field(max_length=100)
    status: str = Field(max_length=16)
    psp_reference: str | None = Field(default=None, max_length=100)
    # The processor's fee booked for this payout, in the ledger's minor units of the asset (reversed if it fails).
    fee: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    failure: str | None = Field(default=None, max_length=200)  # the processor's status and reason
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
