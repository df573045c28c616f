"""Affiliates, partners and tracking (services/affiliates, docs/affiliates.md): a player attributed to the
partner whose link they clicked last before registering. The click's sub-ids are the partner's own labels
(never personal data: the partner chose them before the player existed)."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import OPTIONAL_TIME, OPTIONAL_UUID, UUID, EventType, obj

SUB_ID: dict[str, Any] = {"type": "string", "maxLength": 100}
OPTIONAL_SUB_ID: dict[str, Any] = {"type": ["string", "null"], "maxLength": 100}
# `sub1` … `sub5` as the click carried them (absent ones left out); `sub1` is also `sub_id`.
SUB_IDS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {f"sub{n}": SUB_ID for n in range(1, 6)},
}

TYPES = (
    EventType(
        "affiliate.attributed",
        1,
        "A new player was attributed, in their registration's transaction, to the partner of the last click "
        "within the window: the partner, brand, link, click and its sub-ids.",
        obj(
            {
                "player_id": UUID,
                "affiliate_id": UUID,
                "affiliate_code": {"type": "string", "maxLength": 40},
                "brand_id": UUID,
                "link_id": UUID,
                "click_id": OPTIONAL_UUID,
                "sub_id": OPTIONAL_SUB_ID,
                "sub_ids": SUB_IDS,
                "clicked_at": OPTIONAL_TIME,
            }
        ),
    ),
)
