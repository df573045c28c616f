"""What the bonus lifecycle tells the rest of the platform: one `bonus.<what happened>` event per change of
a bonus's status (core/catalogue/bonuses.py), written in the transaction of the change, after it.

Each says which bonus, whose, of what campaign and where it stands now (status, bonus money credited,
wagering required and done), with what the change itself moved or why it happened (codes, never a
reason someone typed). The `bonusProgress` subscription re-reads a player's bonuses on these, as on
the money movements (`ledger.*`) that the same transactions write.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import outbox
from models.bonuses import PlayerBonus


async def announce(db: AsyncSession, bonus: PlayerBonus, type_: str, **fields: Any) -> None:
    await outbox.emit(
        db,
        type_,
        f"player:{bonus.player_id}",
        {
            "bonus_id": str(bonus.id),
            "campaign_id": str(bonus.campaign_id),
            "player_id": str(bonus.player_id),
            "kind": bonus.kind,
            "status": bonus.status,
            "currency": bonus.currency,
            "amount": bonus.amount,
            "wagering_required": bonus.wagering_required,
            "wagering_done": bonus.wagering_done,
            **fields,
        },
        brand_id=bonus.brand_id,
    )


async def issued(db: AsyncSession, bonus: PlayerBonus, origin: str) -> None:
    """`origin`: claim, deposit (claimed with a deposit), staff (granted by hand) or cashback."""
    await announce(
        db,
        bonus,
        "bonus.issued",
        origin=origin,
        claim_number=bonus.claim_number,
        expires_at=bonus.expires_at.isoformat() if bonus.expires_at else None,
        **({"payment_id": str(bonus.payment_id)} if bonus.payment_id else {}),
        **({"staff_id": str(bonus.issued_by)} if bonus.issued_by else {}),
        **({"period": bonus.period_key} if bonus.period_key else {}),
    )
