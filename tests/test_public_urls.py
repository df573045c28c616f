"""Every URL the platform hands out derives from PUBLIC_BASE_URL, which defaults to the address served:
a platform on a port other than 8000 gets its webhooks, its players' browsers and its demo links back."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from core.settings import Settings, served_base_url
from models.games import Game
from tests.conftest import ROOT, TEST_ENV

DEPOSIT = """
mutation($input: DepositInput!) {
  deposit(input: $input) { payment { id status redirectUrl } errors { code message } }
}"""
LAUNCH = """
mutation($input: LaunchGameInput!) { launchGame(input: $input) { launchUrl errors { code message } } }"""
THREE_DS_CARD = "4000 0000 0000 3220"


def test_public_base_url_defaults_to_the_address_served() -> None:
    assert served_base_url("127.0.0.1", 9123) == "http://127.0.0.1:9123"
    assert served_base_url("0.0.0.0", 9123) == "http://127.0.0.1:9123"  # a wildcard bind answers on loopback
    assert served_base_url("::", 9123) == "http://127.0.0.1:9123"
    assert served_base_url("::1", 9123) == "http://[::1]:9123"
    assert Settings(public_base_url="https://casino.example.com/").public_base_url == "https://casino.example.com"
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        Settings(public_base_url="casino.example.com")


async def test_a_deposit_on_a_server_not_on_8000_sends_the_browser_back_to_that_server(
    live_server: str, demo_psp: str, make_player: Any
) -> None:
    """`croupier serve --port P` with no PUBLIC_BASE_URL: the PSP is told to return the player to port P."""
    assert urlsplit(live_server).port != 8000
    player = await make_player()
    async with httpx.AsyncClient(timeout=30) as http:
        card = (await http.post(f"{demo_psp}/vault/tokens", json={"number": THREE_DS_CARD})).json()["token"]
        body = (
            await http.post(
                f"{live_server}/graphql",
                json={
                    "query": DEPOSIT,
                    "variables": {"input": {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": card}},
                },
                headers={"authorization": f"Bearer {player.token}"},
            )
        ).json()
        payment = body["data"]["deposit"]["payment"]
        assert payment["status"] == "PENDING", body
        challenge = await http.post(payment["redirectUrl"], data={"result": "approve"}, follow_redirects=False)
    from strawberry import relay

    payment_id = relay.GlobalID.from_id(payment["id"]).node_id
    assert challenge.headers["location"] == f"{live_server}/cashier/return/{payment_id}"


async def test_seed_demo_for_a_port_other_than_8000_hands_out_that_port(live_server: str, rt: Any, gql: Any) -> None:
    """`croupier seed-demo --port P` while the platform serves P: the demo PSP's webhooks reach it, and the
    demo game links, the printed links and the launch answers all name P."""
    from models.games import Provider
    from models.payments import PspWebhookReceipt

    port = urlsplit(live_server).port
    assert port is not None
    assert port != 8000
    env = {**os.environ, **TEST_ENV, "LOG_LEVEL": "WARNING"}
    for name in ("PSP_BASE_URL", "PUBLIC_BASE_URL", "DEMO_PROVIDER_URL"):  # the seed runs its own demo PSP
        env.pop(name, None)
    seeded = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli", "seed-demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert f"GraphiQL: {live_server}/graphql" in seeded.stdout
    assert f"demo games at {live_server}/demo-games" in seeded.stdout
    assert ":8000" not in seeded.stdout

    async with rt.database.session() as db:
        launch_url = await db.scalar(select(Provider.launch_url).where(Provider.code == "demo"))
        receipts = await db.scalar(select(func.count()).select_from(PspWebhookReceipt))
    assert launch_url == f"{live_server}/demo-games"
    assert receipts, "the demo PSP's webhooks never reached the platform on its port"

    from strawberry import relay

    async with rt.database.session() as db:
        game_id = await db.scalar(select(Game.id).where(Game.code == "demo-slot"))
    launched = await gql(
        LAUNCH, {"input": {"gameId": str(relay.GlobalID("Game", str(game_id))), "mode": "DEMO", "brand": "royal"}}
    )
    assert launched["data"]["launchGame"]["launchUrl"].startswith(f"{live_server}/demo-games?"), launched
