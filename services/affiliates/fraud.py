"""Antifraud on sub-ids: whether a CPA is withheld pending review.

PLACEHOLDER of the affplans branch only: the afffraud helper writes the real module (flags per partner and
sub-id from linked accounts, deposit-and-leave, one device). Until that branch is merged, nothing is
withheld. The contract the `affiliate-cpa` consumer relies on is this one function.
"""

from __future__ import annotations

import uuid

import asyncpg


async def cpa_hold_reason(
    conn: asyncpg.Connection, affiliate_id: uuid.UUID, sub_id: str | None, player_id: uuid.UUID
) -> str | None:
    """Why this player's CPA is withheld (their partner and sub-id are flagged), or None to pay it."""
    return None
