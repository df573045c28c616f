"""A player's deposit address for an asset: taken from the processor once, then always the same one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.money import currency as currency_info
from core.runtime import Runtime
from models.brands import Brand
from models.crypto import CryptoAddress
from models.players import Player
from services.cashier.crypto import assets
from services.cashier.crypto.processor import PROCESSOR, processor
from services.cashier.intake import _payer
from services.cashier.payments import PaymentUnavailable
from services.cashier.psp import PspTechnicalFailure


async def deposit_address(rt: Runtime, viewer: Viewer, *, asset: str, currency: str | None = None) -> CryptoAddress:
    """The player's address for `asset` (taken from the processor the first time). What arrives there is
    credited to `currency`: by default the asset itself when the casino takes it, else the player's own
    currency (at a locked rate). An address keeps the currency it was first taken for."""
    of = assets.asset(asset)
    if not viewer.is_player or viewer.id is None:
        raise DomainError("Only a player has deposit addresses.", code=ErrorCode.NOT_ALLOWED)
    async with rt.database.session() as db:
        known = await _address(db, viewer.id, of.code)
        if known is not None:
            return known
        player = await db.get(Player, viewer.id)
        brand = await db.get(Brand, player.brand_id) if player else None
        if player is None or brand is None:
            raise DomainError("Only a player has deposit addresses.", code=ErrorCode.NOT_ALLOWED)
        credit = (
            currency_info(currency).code if currency else (of.code if of.code in brand.currencies else player.currency)
        )
        if credit in assets.ASSETS and credit != of.code:  # quotes price an asset in fiat only: no rate to credit
            raise DomainError(
                "Coins are credited as themselves or to a fiat wallet.", field="currency", code=ErrorCode.INVALID_INPUT
            )
        await _payer(db, viewer, credit)  # an active player, and a currency the casino takes
    try:  # outside any transaction: the processor answers the same address for the same pair every time
        taken = await processor(rt.settings).take_address(str(player.id), of.code)
    except PspTechnicalFailure as exc:
        raise PaymentUnavailable("The crypto processor is not answering; try again shortly.") from exc
    if not of.address.match(taken.address):
        raise PaymentUnavailable("The crypto processor answered an address of another network.")
    async with rt.database.transaction() as db:
        inserted = (
            await db.execute(
                insert(CryptoAddress)
                .values(
                    id=uuid.uuid4(),
                    brand_id=player.brand_id,
                    player_id=player.id,
                    processor=PROCESSOR,
                    asset=of.code,
                    network=taken.network[:16],
                    address=taken.address,
                    credit_currency=credit,
                    processor_ref=taken.processor_ref[:100],
                    created_at=clock.now(),
                )
                .on_conflict_do_nothing(constraint="uq_crypto_addresses_player_asset")
                .returning(col(CryptoAddress.id))
            )
        ).scalar_one_or_none()
        found = await _address(db, player.id, of.code)
        assert found is not None
        if inserted is not None:
            await outbox.emit(
                db,
                "crypto.address_created",
                f"player:{player.id}",
                {
                    "address_id": str(found.id),
                    "player_id": str(player.id),
                    "asset": found.asset,
                    "network": found.network,
                    "credit_currency": found.credit_currency,
                },
                brand_id=player.brand_id,
            )
        return found


async def _address(db: AsyncSession, player_id: uuid.UUID, asset: str) -> CryptoAddress | None:
    found: CryptoAddress | None = await db.scalar(
        select(CryptoAddress).where(col(CryptoAddress.player_id) == player_id, col(CryptoAddress.asset) == asset)
    )
    return found


async def addresses_of(db: AsyncSession, player_id: uuid.UUID) -> Sequence[CryptoAddress]:
    return (
        await db.scalars(
            select(CryptoAddress).where(col(CryptoAddress.player_id) == player_id).order_by(col(CryptoAddress.asset))
        )
    ).all()
