"""Affiliate plans, deals and CPA qualification (services/affiliates, docs/affiliate-plans.md): a plan made, a
deal made or cancelled before it began, a player qualified for the CPA of their partner (or withheld while
the sub-id they came from is under review). No money moves here: the runs book the CPA."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import (
    CURRENCY,
    MINOR_UNITS,
    OPTIONAL_TEXT,
    OPTIONAL_UUID,
    TIME,
    UUID,
    EventType,
    obj,
    one_of,
)

_PPM = {"type": "integer", "minimum": 0, "maximum": 1_000_000}
_AMOUNT = {"type": "integer", "minimum": 0}
_TIERS = {
    "type": "array",
    "items": obj({"from_ngr": _AMOUNT, "rate_ppm": _PPM}),
}
_TERMS: dict[str, Any] = {
    "type": "object",
    "description": "the plan's terms as stored (docs/affiliate-plans.md)",
    "required": ["second_tier_ppm"],
    "additionalProperties": False,
    "properties": {
        "amount": _AMOUNT,
        "qualification": obj({"min_first_deposit": _AMOUNT, "min_wagering": _AMOUNT, "within_days": _AMOUNT}),
        "revshare": obj({"kind": one_of("flat", "tiered", "ladder")}, {"rate_ppm": _PPM, "tiers": _TIERS}),
        "second_tier_ppm": _PPM,
    },
}
_DEAL = {
    "deal_id": UUID,
    "affiliate_id": UUID,
    "plan_id": UUID,
    "plan_code": {"type": "string", "maxLength": 40},
    "effective_from": {"type": "string", "format": "date"},
    "staff_id": OPTIONAL_UUID,
}
_QUALIFICATION = {
    "player_id": UUID,
    "affiliate_id": UUID,
    "deal_id": UUID,
    "sub_id": OPTIONAL_TEXT,
    "amount": MINOR_UNITS,
    "currency": CURRENCY,
    "qualified_at": TIME,
}

TYPES = (
    EventType(
        "affiliate.plan_created",
        1,
        "Staff made a commission plan (plans are never edited: new terms are a new plan).",
        obj(
            {
                "plan_id": UUID,
                "code": {"type": "string", "maxLength": 40},
                "kind": one_of("cpa", "revshare", "hybrid"),
                "currency": CURRENCY,
                "terms": _TERMS,
                "staff_id": OPTIONAL_UUID,
            }
        ),
    ),
    EventType(
        "affiliate.deal_created",
        1,
        "Staff put a partner on a plan for a brand from a date on (never a past one).",
        obj({**_DEAL, "negative_carry_over": {"type": "boolean"}}),
    ),
    EventType(
        "affiliate.deal_cancelled",
        1,
        "Staff cancelled a deal before it began.",
        obj(_DEAL),
    ),
    EventType(
        "affiliate.qualified",
        1,
        "An attributed player met the CPA rule of their partner's deal: the CPA is payable in the next run.",
        obj(_QUALIFICATION),
    ),
    EventType(
        "affiliate.withheld",
        1,
        "An attributed player met the CPA rule, but the CPA is withheld pending review (its sub-id is flagged).",
        # The reason's words stay on the qualification (staff read them): they may name accounts or devices.
        obj({**_QUALIFICATION, "reason": one_of("subid_flagged")}),
    ),
)
