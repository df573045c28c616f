"""Staff notes on a player: what support, risk, KYC and finance want colleagues to know.

Invariants: a note is written by a staff member who may read the player (the brand scope of
`readable_players`), is 1 to 2,000 characters, and is never edited or deleted (a correction is a
new note); writing one appends an audit record in the same transaction.
"""

from __future__ import annotations

import uuid

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.players import Player, PlayerNote
from services import audit, players

MAX_NOTE = 2000


async def add_note(rt: Runtime, viewer: Viewer, player_id: uuid.UUID, body: str) -> PlayerNote:
    """Write a note (audited with its text)."""
    if not viewer.is_staff or viewer.id is None:
        raise DomainError("Only staff write notes on players.", code=ErrorCode.NOT_ALLOWED)
    text = body.strip()
    if not text:
        raise DomainError("Write something.", field="body")
    if len(text) > MAX_NOTE:
        raise DomainError(f"A note holds at most {MAX_NOTE} characters.", field="body")
    async with rt.database.transaction() as db:
        player = await players.get_readable(db, viewer, player_id)
        note = PlayerNote(player_id=player.id, author_id=viewer.id, body=text)
        db.add(note)
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="player.note_added",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            after={"note_id": str(note.id), "body": text},
        )
    return note


def readable_notes(viewer: Viewer, player_id: uuid.UUID) -> SelectOfScalar[PlayerNote]:
    """A player's notes, if the viewer may read the player (SQL ownership filter)."""
    readable = players.readable_players(viewer).where(col(Player.id) == player_id).with_only_columns(col(Player.id))
    return select(PlayerNote).where(col(PlayerNote.player_id).in_(readable.scalar_subquery()))
