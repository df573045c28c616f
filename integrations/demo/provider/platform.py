"""The platform's side of the demo provider: its `game_providers` row (code `demo`) must carry the
provider's public key, or every signed wallet call is refused. The row itself comes from the games
seed (integrations/demo/seed.py); this only fills in the key and, when given, where the game client lives."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.demo.provider.app import PROVIDER_CODE
from models.games import Provider


async def register_demo_provider(
    db: AsyncSession, public_key_pem: str, launch_url: str | None = None, *, free_rounds: bool = False
) -> bool:
    """Store the key on the provider row if it exists; True when a row was updated. `free_rounds`: free-spins
    bonuses on its games are granted through its free-rounds API (beside the game client: docs/free-rounds.md)."""
    values: dict[str, object] = {"public_key_pem": public_key_pem}
    if launch_url:
        values["launch_url"] = launch_url
        if free_rounds and launch_url.endswith("/play"):
            values["free_rounds_url"] = launch_url.removesuffix("/play") + "/operator/generic/v2"
    result = await db.execute(update(Provider).where(col(Provider.code) == PROVIDER_CODE).values(**values))
    return bool(getattr(result, "rowcount", 0))
