"""Tournaments (services/tournaments, docs/tournaments.md): a tournament's life and its entries and prizes.
The money itself is in the `ledger.tournament_*` events of the same transactions."""

from __future__ import annotations

from core.catalogue.fragments import CURRENCY, MINOR_UNITS, OPTIONAL_UUID, TIME, UUID, EventType, obj, one_of

_TOURNAMENT = {"tournament_id": UUID}
_SCORING = one_of("points_per_wager", "biggest_multiplier", "sum_of_multipliers", "consecutive_wins")
_DEFINITION = obj(
    {
        **_TOURNAMENT,
        "scoring": _SCORING,
        "entry_mode": one_of("opt_in", "automatic"),
        "currency": CURRENCY,
        "buy_in": MINOR_UNITS,
        "starts_at": TIME,
        "ends_at": TIME,
        "staff_id": OPTIONAL_UUID,
    }
)

TYPES = (
    EventType(
        "tournament.created",
        1,
        "Staff scheduled a tournament: its scoring, entry, buy-in and window (the definition is in the API).",
        _DEFINITION,
    ),
    EventType(
        "tournament.updated",
        1,
        "Staff changed the definition of a tournament not yet started nor entered (before and after: the audit log).",
        _DEFINITION,
    ),
    EventType("tournament.started", 1, "A tournament reached its start: rounds now count.", obj(_TOURNAMENT)),
    EventType(
        "tournament.finished",
        1,
        "A tournament reached its end: no more rounds count; it awaits settlement.",
        obj(_TOURNAMENT),
    ),
    EventType(
        "tournament.settled",
        1,
        "A tournament's prizes were paid and its results published with their SHA-256 hash.",
        obj(
            {
                **_TOURNAMENT,
                "results_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "entries": {"type": "integer", "minimum": 0},
                "prizes": {"type": "integer", "minimum": 0},
            }
        ),
    ),
    EventType(
        "tournament.cancelled",
        1,
        "Staff cancelled a tournament: every buy-in and re-buy went back to its player once.",
        obj({**_TOURNAMENT, "refunds": {"type": "integer", "minimum": 0}, "staff_id": OPTIONAL_UUID}),
    ),
    EventType(
        "tournament.entry_joined",
        1,
        "A player entered a tournament (opted in, bought in, re-bought, or entered automatically by playing).",
        obj(
            {
                **_TOURNAMENT,
                "player_id": UUID,
                "how": one_of("opt_in", "buy_in", "rebuy", "automatic"),
                "buy_ins": {"type": "integer", "minimum": 0},
            }
        ),
    ),
    EventType(
        "tournament.prize_paid",
        1,
        "A prize of a settled tournament: cash through the ledger, bonus or free spins through the bonus engine.",
        obj(
            {
                **_TOURNAMENT,
                "player_id": UUID,
                "rank": {"type": "integer", "minimum": 1},
                "kind": one_of("cash", "bonus", "free_spins"),
                "amount": {"type": "integer", "description": "minor units of `currency`; free spins: the count"},
                "currency": CURRENCY,
                "status": one_of("paid", "refused"),
            }
        ),
    ),
)
