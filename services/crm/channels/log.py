"""The message log (staff) and the inbox (a player's own), as SQL statements with their ownership filter.

- Staff of a brand read its messages (services/scoping.py), filtered by status, channel, player, source, reason
  and template; the log holds no body (an inbox message's is the player's), only the subject sent.
- A player reads their own inbox: inbox messages that were sent, newest first, and marks one read (the first
  read is kept).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.clock import clock
from core.errors import NotFound
from core.runtime import Runtime
from models.crm import Channel, CrmMessage, MessageStatus
from services.scoping import scoped


@dataclass(frozen=True)
class MessageFilter:
    status: str | None = None
    channel: str | None = None
    player_id: uuid.UUID | None = None
    source_kind: str | None = None
    source_id: uuid.UUID | None = None
    reason: str | None = None
    template: str | None = None


def readable_messages(viewer: Viewer, where: MessageFilter) -> SelectOfScalar[CrmMessage]:
    stmt = select(CrmMessage)
    if viewer.is_player:  # the log is staff's: a player reads their inbox
        stmt = stmt.where(col(CrmMessage.id).is_(None))
    stmt = scoped(stmt, viewer, player_column=col(CrmMessage.player_id), brand_column=col(CrmMessage.brand_id))
    for column, value in (
        (CrmMessage.status, where.status),
        (CrmMessage.channel, where.channel),
        (CrmMessage.player_id, where.player_id),
        (CrmMessage.source_kind, where.source_kind),
        (CrmMessage.source_id, where.source_id),
        (CrmMessage.reason, where.reason),
        (CrmMessage.template, where.template),
    ):
        if value is not None:
            stmt = stmt.where(col(column) == value)
    return stmt


def inbox(viewer: Viewer, player_id: uuid.UUID, *, unread_only: bool = False) -> SelectOfScalar[CrmMessage]:
    """The player's sent inbox messages; nobody else's (staff read the log instead)."""
    owner = viewer.id if viewer.is_player and viewer.id == player_id else None
    stmt = select(CrmMessage).where(
        col(CrmMessage.player_id) == owner,
        col(CrmMessage.channel) == Channel.INBOX.value,
        col(CrmMessage.status) == MessageStatus.SENT.value,
    )
    if unread_only:
        stmt = stmt.where(col(CrmMessage.read_at).is_(None))
    return stmt


async def mark_read(rt: Runtime, viewer: Viewer, message_id: uuid.UUID) -> CrmMessage:
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "UPDATE crm_messages SET read_at = coalesce(read_at, :at) WHERE id = :id AND player_id = :player "
                "AND channel = 'inbox' AND status = 'sent'"
            ),
            {"id": message_id, "player": viewer.id, "at": clock.now()},
        )
        found = await db.scalar(inbox(viewer, viewer.id or uuid.UUID(int=0)).where(col(CrmMessage.id) == message_id))
    if found is None:
        raise NotFound("No such message in your inbox.", field="messageId")
    return found
