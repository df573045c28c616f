"""The demo provider's game list: what the platform's catalogue sync pulls (services/providers/catalogue_sync.py).

`GET /games/list` answers the list in the shape the platform imports (services/providers/imports.py: Hub88's
`/game/list` fields plus `features`, `jurisdictions` and `bet_limits`): the demo provider's two games with their
RTP, volatility, features, bet limits per currency and the jurisdictions they are certified in.

With `control` (tests and `croupier demo` only), `PUT /control/games` replaces the list (a JSON array, served as
given, so a test can add, change or withdraw games between syncs, or serve something that is not a list) and
`POST /control/games/fail` makes the list answer HTTP 503 until the next PUT (a provider whose list is down).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse

from integrations.demo.provider import fair

LIMITS = {
    "EUR": {"min": "0.10", "max": "100.00"},
    "USD": {"min": "0.10", "max": "100.00"},
    "SEK": {"min": "1.00", "max": "1000.00"},
}
CERTIFIED = ["DE", "FI", "GB", "MT", "SE"]

DEMO_GAMES: list[dict[str, Any]] = [
    {
        "game_code": fair.SLOT,
        "name": "Demo Slot",
        "category": "Video Slots",
        "product": "Croupier Demo",
        "rtp": "96.33",
        "volatility": 3,
        "enabled": True,
        "features": ["provably-fair", "paylines"],
        "jurisdictions": CERTIFIED,
        "bet_limits": LIMITS,
    },
    {
        "game_code": fair.DICE,
        "name": "Demo Dice",
        "category": "Table Games",
        "product": "Croupier Demo",
        "rtp": "99.00",
        "volatility": "low",
        "enabled": True,
        "features": ["provably-fair"],
        "jurisdictions": CERTIFIED,
        "bet_limits": LIMITS,
    },
]


@dataclass
class GameList:
    """The list this process serves (in memory, like the rest of the demo provider's state)."""

    games: Any = field(default_factory=lambda: copy.deepcopy(DEMO_GAMES))
    failing: bool = False


def mount_game_list(app: FastAPI, *, control: bool) -> GameList:
    """Serve the game list on `app` (and, with `control`, the routes that change it); returns its state."""
    state = GameList()

    @app.get("/games/list")
    async def game_list() -> JSONResponse:
        if state.failing:
            return JSONResponse({"error": "game list unavailable"}, status_code=503)
        return JSONResponse(state.games)

    if control:

        @app.put("/control/games")
        async def replace_games(games: Any = Body(...)) -> dict[str, int]:
            state.games, state.failing = games, False
            return {"games": len(games) if isinstance(games, list) else 0}

        @app.post("/control/games/fail")
        async def fail_games() -> dict[str, bool]:
            state.failing = True
            return {"failing": True}

    return state
