"""The platform's side of the demo provider: its `game_providers` row (code `demo`) must carry the
provider's public key, or every signed wallet call is refused. The row itself comes from the games
seed (integrations/demo/seed.py); this only fills in the key and, when given, where the game client lives."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.demo.provider.app import PROVIDER_CODE
from models.games import Provider


async def register_demo_provider(db: AsyncSession, public_key_pem: str, launch_url: str | None = None) -> bool:
    """Store the key on the provider row if it exists; True when a row was updated."""
    values: dict[str, object] = {"public_key_pem": public_key_pem}
    if launch_url:
        values["launch_url"] = launch_url
    result = await db.execute(update(Provider).where(col(Provider.code) == PROVIDER_CODE).values(**values))
    return bool(getattr(result, "rowcount", 0))
