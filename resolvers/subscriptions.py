"""Subscriptions."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

from core.errors import forbidden
from schema.context import Info
from schema.players import AccountEvent, PlayerStatus
from services import events


async def account_events(info: Info) -> AsyncGenerator[AccountEvent, None]:
    """The viewer's own account: status changes (a blocked player is told at once)."""
    viewer = info.context.viewer
    if not viewer.is_player or viewer.id is None:
        raise forbidden("Only players have account events.")
    async for event in events.listen(info.context.rt, events.account_channel(viewer.id)):
        status = event.get("status")
        yield AccountEvent(kind=str(event["kind"]), status=PlayerStatus(status) if status else None,
                           at=datetime.fromisoformat(event["at"]))
