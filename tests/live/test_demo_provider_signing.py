"""The demo provider's wallet calls, as a stand-in operator receives them over real HTTP: signed over
the exact body bytes, amounts in 1/100000 units, unique uuids, and resent unchanged on a timeout."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.demo.provider import ensure_demo_provider_keys, fair
from integrations.demo.provider.app import create_demo_provider
from integrations.demo.provider.keys import signature_valid


@dataclass
class Operator:
    """A minimal operator wallet: records each call's raw bytes; can stall the first few calls."""

    url: str = ""
    calls: list[tuple[str, bytes, str]] = field(default_factory=list)
    stall_bets: int = 0  # how many bet calls (attempts) are answered too late
    stall_seconds: float = 1.0
    balance: int = 50_000_000  # 500.00 in Hub88 units
    unknown_wins: int = 0  # how many win calls are answered RS_ERROR_UNKNOWN (nothing booked)


@pytest.fixture
def operator() -> Iterator[Operator]:
    state = Operator()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["content-length"]))
            state.calls.append((self.path, raw, self.headers.get("x-hub88-signature", "")))
            if self.path.endswith("/bet") and state.stall_bets > 0:
                state.stall_bets -= 1
                time.sleep(state.stall_seconds)
                return  # the caller gave up: no answer, no money moved
            body = json.loads(raw)
            status = "RS_OK"
            if self.path.endswith("/win") and state.unknown_wins > 0:
                state.unknown_wins -= 1
                status = "RS_ERROR_UNKNOWN"
            elif self.path.endswith("/bet"):
                state.balance -= body["amount"]
            elif self.path.endswith("/win"):
                state.balance += body["amount"]
            answer = json.dumps(
                {
                    "user": body.get("user"),
                    "status": status,
                    "request_uuid": body["request_uuid"],
                    "currency": body.get("currency"),
                    "balance": state.balance,
                }
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def provider_client(
    tmp_path: Path, operator: Operator, timeout: float = 2.0, **options: Any
) -> tuple[httpx.AsyncClient, str]:
    private_key, public_pem = ensure_demo_provider_keys(tmp_path)
    app = create_demo_provider(platform_url=operator.url, private_key_path=private_key, timeout=timeout, **options)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://provider.test"), public_pem


def winning_nonce_seed(server_seed: str, client_seed: str) -> int:
    return next(n for n in range(10_000) if fair.play(fair.SLOT, server_seed, client_seed, n, 1).win > 0)


async def test_calls_are_signed_over_the_exact_bytes_and_verify_with_the_public_key(
    tmp_path: Path, operator: Operator
) -> None:
    client, public_pem = provider_client(tmp_path, operator)
    async with client:
        page = await client.get(
            "/play",
            params={"token": "tok-123", "game": fair.SLOT, "mode": "real", "currency": "EUR", "user": "player-1"},
        )
        assert page.status_code == 200
        assert '<button id="spin">' in page.text
        for _ in range(30):  # enough rounds to see a win call too (the hit rate is 6.5 %)
            answer = (
                await client.post(
                    "/api/spin",
                    json={"token": "tok-123", "game": fair.SLOT, "bet": "0.50", "client_seed": "chosen-by-me"},
                )
            ).json()
            assert answer["status"] == "RS_OK", answer
    assert operator.calls[0][0] == "/providers/demo/user/balance"
    bets = [json.loads(raw) for path, raw, _ in operator.calls if path.endswith("/bet")]
    assert len(bets) == 30
    for path, raw, signature in operator.calls:
        assert signature_valid(public_pem, raw, signature), path
        assert not signature_valid(public_pem, raw + b" ", signature)  # the bytes, not a re-serialised body
    assert {b["amount"] for b in bets} == {50_000}  # 0.50 EUR in 1/100000 units
    assert len({b["transaction_uuid"] for b in bets}) == 30
    assert len({b["request_uuid"] for b in bets}) == 30
    wins = [json.loads(raw) for path, raw, _ in operator.calls if path.endswith("/win")]
    by_uuid = {b["transaction_uuid"]: b for b in bets}
    for win in wins:  # a win names its bet and closes the round; a bet with no win closes it itself
        bet = by_uuid[win["reference_transaction_uuid"]]
        assert (win["round"], win["round_closed"], bet["round_closed"]) == (bet["round"], True, False)
    assert sum(not b["round_closed"] for b in bets) == len(wins)


async def test_a_timed_out_call_is_resent_with_the_same_bytes(tmp_path: Path, operator: Operator) -> None:
    operator.stall_bets, operator.stall_seconds = 1, 1.0
    client, _ = provider_client(tmp_path, operator, timeout=0.5)
    async with client:
        await client.get("/play", params={"token": "tok-9", "game": fair.DICE, "currency": "EUR", "user": "p-9"})
        answer = (
            await client.post("/api/spin", json={"token": "tok-9", "game": fair.DICE, "bet": "1.00", "target": 9800})
        ).json()
    assert answer["status"] == "RS_OK", answer
    bet_attempts = [raw for path, raw, _ in operator.calls if path.endswith("/bet")]
    assert len(bet_attempts) == 2
    assert bet_attempts[0] == bet_attempts[1]


async def test_demo_mode_plays_with_play_money_and_calls_no_wallet(tmp_path: Path, operator: Operator) -> None:
    client, _ = provider_client(tmp_path, operator)
    async with client:
        await client.get("/play", params={"token": "demo-1", "game": fair.DICE, "mode": "demo", "currency": "EUR"})
        state = (await client.get("/api/session", params={"token": "demo-1"})).json()
        assert (state["currency"], state["balance"], state["nonce"]) == ("XXX", "1000.00", 0)
        committed = state["server_seed_hash"]
        rounds = [
            (
                await client.post(
                    "/api/spin",
                    json={"token": "demo-1", "game": fair.DICE, "bet": "2.00", "target": 5000, "client_seed": "mine"},
                )
            ).json()
            for _ in range(5)
        ]
        assert [r["nonce"] for r in rounds] == [0, 1, 2, 3, 4]
        total = sum(float(r["win"]) - 2 for r in rounds)
        assert float(rounds[-1]["balance"]) == pytest.approx(1000 + total)
        rotated = (await client.post("/api/seed", json={"token": "demo-1"})).json()
        revealed = rotated["revealed"]
        assert revealed["server_seed_hash"] == committed
        assert fair.seed_hash(revealed["server_seed"]) == committed
        assert rotated["nonce"] == 0
        assert rotated["server_seed_hash"] != committed
        for played in rounds:  # every round recomputes from the revealed seed
            check = (
                await client.post(
                    "/api/verify",
                    json={
                        "game": fair.DICE,
                        "server_seed": revealed["server_seed"],
                        "client_seed": "mine",
                        "nonce": played["nonce"],
                        "target": 5000,
                        "server_seed_hash": committed,
                    },
                )
            ).json()
            assert check["hash_matches"] is True
            assert check["outcome"]["roll"] == played["outcome"]["roll"]
    assert operator.calls == []


async def test_control_calls_are_served_only_when_asked_for(tmp_path: Path, operator: Operator) -> None:
    """/control/calls shows signed bodies with live session tokens: off by default."""
    client, _ = provider_client(tmp_path, operator)
    async with client:
        await client.get("/play", params={"token": "tok-secret", "game": fair.DICE, "currency": "EUR", "user": "p-1"})
        assert (await client.get("/control/calls")).status_code == 404
    client, _ = provider_client(tmp_path, operator, control=True)
    async with client:
        await client.get("/play", params={"token": "tok-secret", "game": fair.DICE, "currency": "EUR", "user": "p-1"})
        assert (await client.get("/control/calls")).status_code == 200


@pytest.mark.parametrize("bet", ["NaN", "Infinity", "-Infinity", "sNaN"])
async def test_a_non_finite_bet_is_refused_not_a_crash(tmp_path: Path, operator: Operator, bet: str) -> None:
    client, _ = provider_client(tmp_path, operator)
    async with client:
        await client.get("/play", params={"token": "tok-n", "game": fair.DICE, "currency": "EUR", "user": "p-n"})
        answer = await client.post("/api/spin", json={"token": "tok-n", "game": fair.DICE, "bet": bet, "target": 5000})
    assert answer.status_code == 422, answer.text
    assert not [path for path, _, _ in operator.calls if path.endswith("/bet")]


async def test_a_win_answered_unknown_is_resent_with_the_same_transaction(tmp_path: Path, operator: Operator) -> None:
    """RS_ERROR_UNKNOWN is not final: the player won, so the win goes again (same transaction_uuid)."""
    import asyncio

    operator.unknown_wins = 2
    client, _ = provider_client(tmp_path, operator, resend_delay=0.05)
    async with client:
        await client.get("/play", params={"token": "tok-w", "game": fair.DICE, "currency": "EUR", "user": "p-w"})
        for _ in range(20):  # target 9800: a win is all but certain within a few rounds
            answer = (
                await client.post(
                    "/api/spin", json={"token": "tok-w", "game": fair.DICE, "bet": "1.00", "target": 9800}
                )
            ).json()
            if any(path.endswith("/win") for path, _, _ in operator.calls):
                break
        assert answer["status"] == "RS_ERROR_UNKNOWN"
        assert answer["pending"]
        for _ in range(100):
            wins = [json.loads(raw) for path, raw, _ in operator.calls if path.endswith("/win")]
            if len(wins) >= 3:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # room for a (wrong) fourth resend
        wins = [json.loads(raw) for path, raw, _ in operator.calls if path.endswith("/win")]
    assert len(wins) == 3  # two undecided answers, then RS_OK: no more
    assert len({w["transaction_uuid"] for w in wins}) == 1
    assert len({w["request_uuid"] for w in wins}) == 3
