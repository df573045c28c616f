"""Antifraud on affiliate sub-ids (services/affiliates/fraud.py, docs/affiliate-fraud.md): a partner's sub-id
flagged (its CPAs withheld) and staff's review of the flag. Never the evidence itself (which device, which
accounts): consumers that need it ask the flag, which staff access controls."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import OPTIONAL_UUID, UUID, EventType, obj, one_of

_CHECK = one_of("linked_accounts", "deposit_and_leave", "one_device", "withheld_unreviewed")
_SUB_ID: dict[str, Any] = {
    "type": "string",
    "maxLength": 100,
    "description": "the partner's sub-id ('' for the players it sent without one)",
}
_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}

TYPES = (
    EventType(
        "affiliate.subid_flagged",
        1,
        "A partner's sub-id was flagged for fraud (its players are linked accounts, deposit and leave without "
        "play, or come from one device): the CPAs of its players that were qualified and not paid are withheld "
        "until staff review the flag, and so are those that qualify meanwhile.",
        obj(
            {
                "flag_id": UUID,
                "affiliate_id": UUID,
                "brand_id": UUID,
                "sub_id": _SUB_ID,
                "checks": {"type": "array", "items": _CHECK, "minItems": 1, "description": "what found fraud"},
                "players": {**_COUNT, "description": "how many players the evidence names"},
                "withheld": {**_COUNT, "description": "the sub-id's CPAs withheld now"},
            }
        ),
    ),
    EventType(
        "affiliate.subid_reviewed",
        1,
        "Staff reviewed a flagged sub-id: cleared (a false positive: its withheld CPAs are qualified again, "
        "payable in the next run) or confirmed (fraud: its withheld CPAs are rejected).",
        obj(
            {
                "flag_id": UUID,
                "affiliate_id": UUID,
                "brand_id": UUID,
                "sub_id": _SUB_ID,
                "verdict": one_of("cleared", "confirmed"),
                "player_ids": {
                    "type": "array",
                    "items": UUID,
                    "maxItems": 100,
                    "description": "the players whose CPA the review changed (the first 100)",
                },
                "changed": {**_COUNT, "description": "how many CPAs were qualified again or rejected"},
                "staff_id": OPTIONAL_UUID,
            }
        ),
    ),
)
