"""Responsible gambling: exclusions, limits, reality checks, risk flags and the RG team's interventions
(services/rg). Codes only: staff's notes and resolutions, and a staff exclusion's reason, stay inside."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import OPTIONAL_TIME, OPTIONAL_UUID, TEXT, TIME, UUID, EventType, obj, one_of

BY = {**one_of("player", "staff", "system"), "description": "who made the change"}
LIMIT: dict[str, Any] = {
    "player_id": UUID,
    "kind": one_of("deposit", "loss", "wager", "session_time"),
    "period": one_of("day", "week", "month"),
    "currency": {
        "type": ["string", "null"],
        "pattern": "^[A-Z0-9]{3,8}$",
        "description": "money limits: the currency of the amounts (session_time: null)",
    },
    "by": BY,
}
LIMIT_VALUE = {"type": "integer", "minimum": 0, "description": "minor units of `currency`; session_time: seconds"}
OPTIONAL_LIMIT_VALUE = {**LIMIT_VALUE, "type": ["integer", "null"]}
FLAG = one_of("long_session", "rising_deposits", "night_play", "cancelled_withdrawals", "previously_self_excluded")


def _limit(name: str, summary: str, fields: dict[str, Any]) -> EventType:
    return EventType(name, 1, summary, obj({**LIMIT, **fields}))


TYPES = (
    EventType(
        "player.excluded",
        1,
        "A player was excluded (self-exclusion, a time-out, a national register, staff, a matching account).",
        obj(
            {
                "player_id": UUID,
                "kind": one_of("self_exclusion", "time_out"),
                "ends_at": OPTIONAL_TIME,
                "source": TEXT,
                "marketing_consent_before": {"type": "boolean"},
            },
            {"origin_player_id": OPTIONAL_UUID},
        ),
    ),
    _limit(
        "rg.limit_set",
        "A limit is in force with a new amount from `effective_at`: a new or lower limit at once, a higher "
        "one when the player confirms it after the cooling-off.",
        {"amount": LIMIT_VALUE, "previous_amount": OPTIONAL_LIMIT_VALUE, "effective_at": TIME},
    ),
    _limit(
        "rg.limit_change_requested",
        "A higher limit or a removal was asked for: it waits out the cooling-off, then the player confirms it.",
        {
            "amount": {**LIMIT_VALUE, "description": "the limit in force meanwhile"},
            "requested_amount": {**OPTIONAL_LIMIT_VALUE, "description": "the higher limit asked for (null: removal)"},
            "effective_at": {**TIME, "description": "from when the player can confirm it"},
        },
    ),
    _limit(
        "rg.limit_change_cancelled",
        "A pending increase or removal of a limit was cancelled: the limit stays as it is.",
        {"amount": LIMIT_VALUE},
    ),
    _limit(
        "rg.limit_removed",
        "A limit was removed (confirmed by the player after the cooling-off).",
        {"previous_amount": LIMIT_VALUE, "effective_at": TIME},
    ),
    EventType(
        "rg.reality_check_interval_set",
        1,
        "A player chose how often reality checks interrupt their sessions (0: off, where allowed).",
        obj(
            {
                "player_id": UUID,
                "minutes": {"type": "integer", "minimum": 0},
                "previous_minutes": {
                    "type": ["integer", "null"],
                    "minimum": 0,
                    "description": "null: the jurisdiction's default applied",
                },
                "by": BY,
            }
        ),
    ),
    EventType(
        "rg.reality_check_due",
        1,
        "A reality check fell due in a player's session (the player's client shows it).",
        obj({"player_id": UUID, "session_id": UUID, "due_at": TIME}),
    ),
    EventType(
        "rg.reality_check_answered",
        1,
        "A player answered a reality check: continue (the next is an interval away) or stop (the session ends).",
        obj(
            {
                "player_id": UUID,
                "session_id": UUID,
                "continue": {"type": "boolean"},
                "due_at": TIME,
                "seconds_played": {"type": ["integer", "null"], "description": "in the session, when answered"},
            }
        ),
    ),
    EventType(
        "rg.flag_raised",
        1,
        "A risk pattern opened a flag on a player for the RG team.",
        obj({"player_id": UUID, "flag_id": UUID, "kind": FLAG}),
    ),
    EventType(
        "rg.flag_resolved",
        1,
        "The RG team resolved a flag (what they wrote stays inside).",
        obj({"player_id": UUID, "flag_id": UUID, "kind": FLAG, "staff_id": OPTIONAL_UUID}),
    ),
    EventType(
        "rg.intervention_recorded",
        1,
        "The RG team recorded an intervention with a player (the action's code; their note stays inside).",
        obj(
            {
                "player_id": UUID,
                "action": one_of(
                    "contacted", "warned", "limit_suggested", "account_reviewed", "referred_to_support_service"
                ),
                "staff_id": OPTIONAL_UUID,
            }
        ),
    ),
)
