"""`croupier providers` as an operator runs it (a subprocess on the test database): add, set-key from a
PEM file, rotation, enable/disable, list, and import-games with --dry-run. The wallet answers the
aggregator's signed calls through the app as the CLI left the provider."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from models.games import Game
from tests import cli_process
from tests.onboarding.conftest import Keys, audit_rows, fingerprint, key_body, pem_of, provider_row
from tests.onboarding.test_catalog_import import hub88_list
from tests.providers.conftest import Aggregator, Seat, fund, open_session


def croupier(*args: str) -> subprocess.CompletedProcess[str]:
    """`croupier providers ARGS` as a child process (forked from a warm one: tests/cli_process.py)."""
    return cli_process.run("providers", *args, env=dict(os.environ), timeout=120)


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout


async def test_add_set_key_rotate_switch_and_list_from_the_command_line(
    rt: Any, client: httpx.AsyncClient, make_player: Any, tmp_path: Path, keys: Keys
) -> None:
    first, second = tmp_path / "acme.pem", tmp_path / "acme-2026.pem"
    first.write_text(pem_of(keys.first))
    second.write_text(pem_of(keys.second))
    out = ok(
        croupier(
            "add", "acme", "--name", "Acme Games", "--protocol", "hub88", "--launch-url", "https://acme.example/play"
        )
    )
    assert "added hub88 provider acme (on)" in out
    assert "set-key acme" in out  # it says what comes next
    games = tmp_path / "games.json"
    games.write_text(
        json.dumps([{"game_code": "slot-fortune", "name": "Slot Fortune", "category": "Slots", "rtp": 96}])
    )
    ok(croupier("import-games", "acme", str(games), "--currency", "EUR"))

    out = ok(croupier("set-key", "acme", str(first), "--reason", "onboarding"))
    assert f"acme now verifies with key sha256:{fingerprint(keys.first)} (2048 bits)" in out
    player = await make_player()
    await fund(rt, player.uuid, 10_000)
    seat = Seat(str(player.uuid), player.uuid, await open_session(rt, await provider_row(rt, "acme"), player.uuid))
    old, new = Aggregator(client, keys.first, code="acme"), Aggregator(client, keys.second, code="acme")
    assert (await old.call("user/balance", seat.base(token=seat.token)))["status"] == "RS_OK"

    ok(croupier("set-key", "acme", str(second), "--reason", "rotation"))
    assert (await old.call("user/balance", seat.base(token=seat.token)))["status"] == "RS_ERROR_INVALID_SIGNATURE"
    assert (await new.call("user/balance", seat.base(token=seat.token)))["status"] == "RS_OK"

    assert "acme is off" in ok(croupier("disable", "acme", "--reason", "incident"))
    assert (await new.call("user/balance", seat.base(token=seat.token)))["status"] == "RS_ERROR_INVALID_PARTNER"
    assert "acme is on" in ok(croupier("enable", "acme", "--reason", "resolved"))
    assert (await new.call("user/balance", seat.base(token=seat.token)))["status"] == "RS_OK"

    listed = ok(croupier("list"))
    assert f"key sha256:{fingerprint(keys.second)} (3072 bits)" in listed
    assert "acme" in listed
    assert "1 games" in listed
    assert key_body(pem_of(keys.second)) not in listed

    records = [r for r in await audit_rows(rt) if r.target_type == "game_provider"]
    assert [r.action for r in records] == [
        "game_provider.added",
        "game_provider.catalog_imported",
        "game_provider.key_set",
        "game_provider.key_set",
        "game_provider.status_changed",
        "game_provider.status_changed",
    ]
    assert {r.actor_type for r in records} == {"system"}
    assert records[3].after == {"code": "acme", "public_key_fingerprint": fingerprint(keys.second)}
    logged = json.dumps([[r.before, r.after] for r in await audit_rows(rt)])
    assert key_body(pem_of(keys.first)) not in logged
    assert key_body(pem_of(keys.second)) not in logged


async def test_a_bad_key_file_is_refused_and_changes_nothing(rt: Any, tmp_path: Path, keys: Keys) -> None:
    ok(croupier("add", "acme", "--name", "Acme", "--protocol", "hub88"))
    short, private = tmp_path / "short.pem", tmp_path / "private.pem"
    short.write_text(pem_of(keys.short))
    private.write_bytes(
        keys.first.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    for path, message in (
        (short, "refused (INVALID_PUBLIC_KEY): publicKeyPem: The RSA key has 1024 bits; at least 2048 are required."),
        (private, "): publicKeyPem: That is a private key"),
    ):
        done = croupier("set-key", "acme", str(path), "--reason", "x")
        assert done.returncode == 1
        assert message in done.stderr
    assert key_body(private.read_text()) not in done.stdout + done.stderr
    assert (await provider_row(rt, "acme")).public_key_pem is None
    missing = croupier("set-key", "acme", str(tmp_path / "nowhere.pem"), "--reason", "x")
    assert missing.returncode == 1
    assert "cannot read the public key" in missing.stderr
    assert croupier("set-key", "acme", "--reason", "x").returncode == 2  # neither a key nor a reference


async def test_import_games_dry_run_prints_the_difference_and_a_rerun_changes_nothing(rt: Any, tmp_path: Path) -> None:
    ok(croupier("add", "acme", "--name", "Acme", "--protocol", "hub88"))
    listing = tmp_path / "games.json"
    listing.write_text(json.dumps(hub88_list()))

    dry = ok(croupier("import-games", "acme", str(listing), "--dry-run", "--currency", "EUR", "--currency", "SEK"))
    assert "acme: would add 3, would change 0, unchanged 0, missing from the list 0 (dry run: nothing written)" in dry
    assert '+ clt_dragonrising  "Dragon Rising"' in dry
    assert 'rtp="96.10"' in dry
    assert 'currencies=["EUR", "SEK"]' in dry
    async with rt.database.session() as db:
        assert (await db.scalars(select(Game))).all() == []

    ok(croupier("import-games", "acme", str(listing), "--currency", "EUR"))
    async with rt.database.session() as db:
        stored = {g.code: g.model_dump() for g in (await db.scalars(select(Game))).all()}
    assert sorted(stored) == ["clt_dragonrising", "evo_lightningroulette", "spb_aviator"]
    again = ok(croupier("import-games", "acme", str(listing), "--currency", "EUR"))
    assert "acme: added 0, changed 0, unchanged 3, missing from the list 0" in again
    async with rt.database.session() as db:
        assert {g.code: g.model_dump() for g in (await db.scalars(select(Game))).all()} == stored

    changed = hub88_list()[:2]
    changed[0]["name"] = "Dragon Rising II"
    listing.write_text(json.dumps(changed))
    dry = ok(croupier("import-games", "acme", str(listing), "--dry-run"))
    assert '~ clt_dragonrising  title: "Dragon Rising" → "Dragon Rising II"' in dry
    assert "- spb_aviator  (not in the list; kept as it is)" in dry
    listing.write_text(json.dumps([{"game_code": "x", "name": "X", "category": "Sportsbook", "rtp": 90}]))
    refused = croupier("import-games", "acme", str(listing))
    assert refused.returncode == 1
    assert "refused (INVALID_INPUT): games[0].category: Category 'Sportsbook' maps to no game type" in refused.stderr
