"""Subscriptions."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from core.clock import clock
from core.errors import forbidden
from schema.context import Info
from schema.players import AccountEvent, PlayerStatus
from services import events


async def account_events(info: Info) -> AsyncGenerator[AccountEvent, None]:
    """The viewer's own account: status changes (a blocked player is told at once)."""
    viewer = info.context.viewer
    if not viewer.is_player or viewer.id is None:
        raise forbidden("Only players have account events.")
    async for event in events.listen(info.context.rt, events.player_channel(viewer.id)):
        if event.get("topic") != "player.status_changed":
            continue
        status = event["data"].get("status")
        yield AccountEvent(kind="status_changed", status=PlayerStatus(status) if status else None,
                           at=clock.now())
