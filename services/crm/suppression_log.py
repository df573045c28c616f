"""Reading the suppression log (`crm_suppressions`, written by services/crm/suppression.py and the
`crm-suppression` consumer): a player's refusals, newest first, for the staff who may read the player."""

from __future__ import annotations

import uuid

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from models.crm import CrmSuppression
from models.players import Player
from services import players


def readable(viewer: Viewer, player_id: uuid.UUID) -> SelectOfScalar[CrmSuppression]:
    """A player's suppression rows, if the viewer may read the player (SQL ownership filter)."""
    readable_player = (
        players.readable_players(viewer).where(col(Player.id) == player_id).with_only_columns(col(Player.id))
    )
    return select(CrmSuppression).where(col(CrmSuppression.player_id).in_(readable_player.scalar_subquery()))
