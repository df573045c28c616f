"""Screening at registration and on every change of name, as a consumer of the event stream.

Why a consumer and not inline in `register`: registration stays as fast as it was (building the index of
a 100,000-entity list takes seconds, once per process; a check is milliseconds, but it is a
compliance step that must not fail a sign-up when the list is being reloaded), and the consumer's
delivery guarantees are what screening needs: every `player.registered` and `player.profile_changed`
(first or last name) is screened exactly once in effect, in one transaction with the event ids
(core/consumers.py), and a screening behind the events catches up by itself. The player waits for
nothing: a match is for staff to review, it restricts nothing by itself. The date of birth and the
country are set at registration only (no profile change touches them).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import ClassVar

import asyncpg

from core.consumers import Event
from core.settings import Settings
from services.aml.screening import current_index, screen_players

NAME = "aml-screening"
NAME_FIELDS = frozenset({"first_name", "last_name"})


class ScreeningConsumer:
    """core.consumers.Consumer: screens the players whose name is new."""

    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = frozenset({"player.registered", "player.profile_changed"})
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        player_ids = {
            uuid.UUID(e.data["player_id"])
            for e in events
            if e.type == "player.registered" or NAME_FIELDS & set(e.data.get("fields") or ())
        }
        if player_ids:
            await screen_players(conn, current_index(self.settings), sorted(player_ids))

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Nothing to forget: alerts are staff's work, and a replay screens again without duplicates."""
