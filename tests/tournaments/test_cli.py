"""`croupier tournaments`: create from a JSON definition, list, cancel (refunding buy-ins), settle, and the
refusals an operator sees (a coded message, exit 1)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from strawberry import relay

from core.clock import clock
from tests.tournaments.conftest import join, run_cli


def definition(tmp_path: Path, **overrides: Any) -> Path:
    now = clock.now()
    spec = {
        "name": "Night Owls",
        "currency": "EUR",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=3)).isoformat(),
        "scoring": "points_per_wager",
        **overrides,
    }
    path = tmp_path / "tournament.json"
    path.write_text(json.dumps(spec))
    return path


async def test_the_cli_creates_lists_and_cancels_with_refunds(
    tmp_path: Path, gql: Any, make_player: Any, brand: Any
) -> None:
    code, out = await run_cli("tournaments", "create", str(definition(tmp_path, buy_in="2.00")), "--brand", "royal")
    assert code == 0, out
    tid = uuid.UUID(out.strip())
    player = await make_player(balance="10.00 EUR")
    assert (await join(gql, player, str(relay.GlobalID("Tournament", str(tid)))))["errors"] == []

    code, out = await run_cli("tournaments", "list", "--brand", "royal")
    assert code == 0, out
    assert f"{tid} scheduled" in out, out
    assert "entries=1 Night Owls" in out, out

    code, out = await run_cli("tournaments", "cancel", str(tid), "--reason", "duplicate")
    assert (code, out) == (0, "cancelled\n")
    balances = await gql("{ me { wallet { cash { amount } } } }", token=player.token)
    assert balances["data"]["me"]["wallet"][0]["cash"]["amount"] == "10.00", balances  # the buy-in came back


async def test_the_cli_refuses_with_the_services_code(tmp_path: Path, brand: Any) -> None:
    code, out = await run_cli("tournaments", "create", str(definition(tmp_path, max_rebuys=3)), "--brand", "royal")
    assert code == 1
    assert "refused (TOURNAMENT_ENTRY_INVALID)" in out, out
    code, out = await run_cli("tournaments", "settle", str(uuid.uuid4()))
    assert code == 1
    assert "refused (NOT_FOUND)" in out, out
