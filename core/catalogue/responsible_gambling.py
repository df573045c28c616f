"""Responsible gambling: exclusions, limits, reality checks, sessions ended (services/rg)."""

from __future__ import annotations

from core.catalogue.fragments import OPTIONAL_TIME, OPTIONAL_UUID, TEXT, TIME, UUID, EventType, obj, one_of

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
    EventType(
        "rg.reality_check_due",
        1,
        "A reality check fell due in a player's session (the player's client shows it).",
        obj({"player_id": UUID, "session_id": UUID, "due_at": TIME}),
    ),
    EventType(
        "rg.session_ended",
        1,
        "A player's login session was ended by a limit, a reality check answer or an exclusion.",
        obj({"player_id": UUID, "session_id": UUID, "reason": TEXT}),
    ),
)
