"""Screenshots of the back office for the README: the live dashboard and the player 360 view.

Run it against the demo (`bash scripts/demo.sh` in another terminal):

    .venv/bin/python scripts/screenshots.py --base-url http://127.0.0.1:8000

It signs in as the demo superadmin (TOTP code from `croupier totp`, so run it with the demo's
environment), has a demo player claim the demo free spins and play real-money rounds of the demo
dice game through the public API and the demo provider while the dashboard is open, then opens that
player's 360 view. Headless Debian Chromium (`/usr/bin/chromium`), never a downloaded browser. PNGs
go to docs/img/.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "croupier-demo-1"


def graphql(http: httpx.Client, query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers).json()
    if body.get("errors"):
        raise SystemExit(f"GraphQL refused: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


def launch_demo_dice(http: httpx.Client, brand: str, email: str) -> str:
    """Log the player in and launch the demo dice game for real money; returns the game client URL."""
    login = graphql(
        http,
        """mutation($input: LoginInput!) { login(input: $input) {
        tokens { accessToken } errors { message } } }""",
        {"input": {"brand": brand, "email": email, "password": DEMO_PASSWORD}},
    )["login"]
    if login["errors"]:
        raise SystemExit(f"player login refused: {login['errors']}")
    token = login["tokens"]["accessToken"]
    claimed = graphql(http, """mutation { claimBonus(input: {code: "SPINS10"}) { errors { code } } }""", {}, token)[
        "claimBonus"
    ]  # the 360 shows a bonus in play (already claimed: kept)
    if claimed["errors"] and claimed["errors"][0]["code"] not in ("BONUS_ALREADY_CLAIMED", "BONUS_ACTIVE"):
        raise SystemExit(f"claim refused: {claimed['errors']}")
    games = graphql(http, '{ games(filter: {search: "demo-dice"}) { edges { node { id } } } }', {}, token)
    game_id = games["games"]["edges"][0]["node"]["id"]
    launched = graphql(
        http,
        """mutation($input: LaunchGameInput!) { launchGame(input: $input) {
        launchUrl errors { message } } }""",
        {"input": {"gameId": game_id, "mode": "REAL"}},
        token,
    )["launchGame"]
    if launched["errors"]:
        raise SystemExit(f"launch refused: {launched['errors']}")
    return str(launched["launchUrl"])


def play(launch_url: str, rounds: int, bet: str) -> None:
    """What the demo provider's game page does on each click: a round against our wallet."""
    base = launch_url.split("/play?")[0]
    token = httpx.URL(launch_url).params["token"]
    with httpx.Client(timeout=30) as provider:
        provider.get(launch_url).raise_for_status()
        for _ in range(rounds):
            provider.post(
                f"{base}/api/spin", json={"token": token, "game": "demo-dice", "bet": bet, "target": 5000}
            ).raise_for_status()
            time.sleep(1.2)


def totp_code(email: str) -> str:
    done = subprocess.run(  # noqa: S603
        [str(ROOT / ".venv" / "bin" / "croupier"), "totp", email],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return done.stdout.strip()


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/admin/")
    for _ in range(3):  # a code is accepted once: if the current one was just used, wait for the next
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_label("Authenticator code").fill(totp_code(email))
        page.get_by_role("button", name="Sign in").click()
        try:
            page.get_by_role("navigation", name="Screens").wait_for(timeout=60_000)
            return
        except Exception:  # noqa: BLE001  (refused: try the next code)
            time.sleep(30 - time.time() % 30 + 1)
    raise SystemExit(f"could not sign in as {email}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--staff", default="admin@croupier.dev")
    parser.add_argument("--brand", default="royal")
    parser.add_argument("--player", default="alice@example.com")
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--bet", default="5.00")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)

    with httpx.Client(base_url=base, timeout=30) as http:
        launch_url = launch_demo_dice(http, args.brand, args.player)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        sign_in(page, base, args.staff)

        page.get_by_role("link", name="Dashboard").click()
        page.locator("[data-figure=bets-per-minute]").wait_for()
        players = threading.Thread(target=play, args=(launch_url, args.rounds, args.bet))
        players.start()
        players.join()
        time.sleep(6)  # the next pushes (at most one a second, a heartbeat every 5 s) draw the last points
        page.screenshot(path=str(args.out / "dashboard.png"))

        page.get_by_role("link", name="Players").click()
        search = page.get_by_role("combobox", name="Find a player")
        search.fill(args.player)
        page.get_by_role("listbox", name="Players found").get_by_role("option").first.wait_for()
        search.press("ArrowDown")
        search.press("Enter")
        notes = page.locator("cr-player-notes")
        notes.get_by_label("New note").fill("Played demo dice after the limit was set; no concerns.")
        notes.get_by_role("button", name="Add note").click()
        notes.locator("article").first.wait_for()
        rounds = page.locator("cr-player-rounds")
        rounds.get_by_role("button", name="Show provider calls").first.click()
        page.locator("cr-player-audit-trail table").wait_for()
        page.screenshot(path=str(args.out / "player-360.png"), full_page=True)
        browser.close()
    for name in ("dashboard.png", "player-360.png"):
        size = (args.out / name).stat().st_size
        print(f"{args.out / name}: {size // 1024} KiB")
        if size > 1024 * 1024:
            print("  larger than 1 MiB: keep README images small", file=sys.stderr)


if __name__ == "__main__":
    main()
