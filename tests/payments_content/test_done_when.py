"""Issue 21's "Done when", end to end through the public surfaces, against the processes the suite starts: the
live server (`croupier serve`), the demo PSP (with the demo crypto processor) and the demo game provider.

- Staff change a routing rule in the back office (the browser, on the live server) and the next deposit follows
  it: the demo PSP that takes it is the rule's.
- The demo game provider speaks Pragmatic Play's seamless wallet to the live server, hashed with the key both
  processes hold (tests/conftest.py TEST_ENV): rounds, the protocol's edge cases, and async wins after the
  player's session ended.
- A demo crypto deposit (the demo processor inside the demo PSP's process: its chain driven by the test, its signed
  callbacks delivered to the live server as it signed them) is credited only once it has its confirmations, and a
  withdrawal goes back to it through the closed loop: paid in its asset, on chain, while a card is refused.
- ledger verify is clean throughout: `croupier ledger verify` at the end of each part, and the suite's own
  books check after every test (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import expect

from integrations.demo.provider import fair
from tests.backoffice.browser.conftest import browser, page, sign_in  # noqa: F401  (fixtures)
from tests.cashier.conftest import DemoPsp, psp  # noqa: F401  (fixture)
from tests.cashier.test_closed_loop import licensed_in_malta
from tests.conftest import DEMO_PRAGMATIC_SECRET, GraphQLClient
from tests.crypto.conftest import BTC_DESTINATION, QUOTE, address_of, cash, payments_of, processor_chain, withdraw
from tests.ledger.test_ledger import run_ledger_verify
from tests.providers.conftest import cash as cash_minor
from tests.providers.pragmatic_fixtures import PragmaticProvider

DEPOSIT = """mutation($input: DepositInput!) {
  deposit(input: $input) { payment { id status psp } errors { code field message } } }"""
ADD_PROVIDER = """mutation($input: AddGameProviderInput!) {
  addGameProvider(input: $input) { provider { code secretConfigured } errors { code field message } } }"""
CREATE_GAME = """mutation($input: CreateGameInput!) {
  createGame(input: $input) { game { id code } errors { code field message } } }"""
LAUNCH = """mutation($input: LaunchGameInput!) { launchGame(input: $input) { launchUrl errors { code message } } }"""
LOGOUT = """mutation { logout(input: {allSessions: true}) { revokedSessions errors { code } } }"""
REQUEST_WITHDRAWAL = """mutation($input: RequestWithdrawalInput!) {
  requestWithdrawal(input: $input) { payment { id status } errors { code field message } } }"""
CLOSED_LOOP = "{ me { closedLoop { enforced owed { amount currency } shares { method instrument owed { amount } } } } }"
PRAGMATIC = "demo-pragmatic"  # the demo provider's code for its Pragmatic Play games


@pytest.fixture
async def live(live_server: str) -> AsyncIterator[GraphQLClient]:
    """GraphQL on the live server, as the cashier and the back office reach it."""
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        yield GraphQLClient(http)


def ledger_verify_clean() -> None:
    done = run_ledger_verify()
    assert done.returncode == 0, f"croupier ledger verify failed:\n{done.stdout}\n{done.stderr}"


def sent_for(call: dict[str, Any], user: str, token: str) -> bool:
    """Whether a call the demo provider sent was about this player (authenticate names only the token)."""
    form = parse_qs(call["body"])
    return user in form.get("userId", []) or token in form.get("token", [])


async def closed_loop(live: GraphQLClient, player: Any) -> dict[str, Any]:
    body = await live(CLOSED_LOOP, token=player.token)
    assert "errors" not in body, body
    loop: dict[str, Any] = body["data"]["me"]["closedLoop"]
    return loop


def shares_of(loop: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The open shares: (method, instrument, owed)."""
    return [
        (s["method"], s["instrument"], s["owed"]["amount"]) for s in loop["shares"] if s["owed"]["amount"] != "0.00"
    ]


async def card_deposit(live: GraphQLClient, psp: DemoPsp, player: Any, amount: str) -> dict[str, Any]:  # noqa: F811
    given = {"amount": amount, "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}
    body = await live(DEPOSIT, {"input": given}, token=player.token)
    payload: dict[str, Any] = body["data"]["deposit"]
    payment: dict[str, Any] = payload["payment"]
    assert (payload["errors"], payment["status"]) == ([], "SUCCEEDED"), body
    return payment


async def test_staff_change_a_routing_rule_in_the_back_office_and_the_next_deposit_follows_it(
    page: Any, live: GraphQLClient, psp: DemoPsp, make_player: Any, make_staff: Any  # noqa: F811
) -> None:  # fmt: skip
    player = await make_player(country="MT")
    assert (await card_deposit(live, psp, player, "20.00"))["psp"] == "cardpay"  # the built-in rules: cardpay first

    # Finance moves Maltese card deposits to swiftpay first, in the back office.
    finance = await make_staff(("finance", None), login=False)
    await sign_in(page, finance)
    await page.get_by_role("link", name="Payment routing").click()
    await expect(page.locator("[data-version]")).to_have_text("0")
    form = page.get_by_role("form", name="Save routing rule")
    for label, value in (
        ("Name", "malta-cards"),
        ("PSPs, in order", "swiftpay, cardpay"),
        ("Priority", "10"),
        ("Methods", "card"),
        ("Countries", "MT"),
        ("Reason", "Maltese cards cheaper at swiftpay"),
    ):
        await form.get_by_label(label, exact=True).fill(value)
    await form.get_by_role("button", name="Save rule").click()
    await expect(page.get_by_role("status")).to_have_text("Rule malta-cards saved as a new version.")
    await expect(page.locator("[data-version]")).to_have_text("1")

    # The next deposit follows it: swiftpay takes it (the demo PSP says so too).
    assert (await card_deposit(live, psp, player, "30.00"))["psp"] == "swiftpay"
    taken = sorted((t["psp"], t["amount"]) for t in await psp.transactions() if t["kind"] == "deposit")
    assert taken == [("cardpay", 2000), ("swiftpay", 3000)], taken
    ledger_verify_clean()


async def test_the_demo_provider_plays_pragmatic_play_s_protocol_with_the_live_server(
    rt: Any, gql: Any, live: GraphQLClient, live_server: str, demo_provider: Any, make_player: Any, make_staff: Any
) -> None:
    # Onboarding, as a content manager does it: the provider (its key is the server's PROVIDER_SECRETS entry) and
    # the demo slot in its catalogue.
    manager = await make_staff(("content_manager", None))
    provider = {
        "code": PRAGMATIC,
        "name": "Pragmatic Play (demo)",
        "protocol": "PRAGMATIC",
        "secretRef": PRAGMATIC,
        "launchUrl": f"{demo_provider.base}/pragmatic/play",
    }
    added = (await gql(ADD_PROVIDER, {"input": provider}, token=manager.token))["data"]["addGameProvider"]
    assert (added["errors"], added["provider"]["secretConfigured"]) == ([], True), added
    game = {"provider": PRAGMATIC, "code": fair.SLOT, "title": "Demo Slot", "type": "SLOT", "rtp": "96.33",
            "currencies": ["EUR"]}  # fmt: skip
    made = (await gql(CREATE_GAME, {"input": game}, token=manager.token))["data"]["createGame"]
    assert made["errors"] == [], made

    # The player launches it on the live server; the launch URL's token is what the provider's game gets.
    player = await make_player(country="MT", balance="50.00 EUR")
    launched = (await live(LAUNCH, {"input": {"gameId": made["game"]["id"]}}, token=player.token))["data"]
    assert launched["launchGame"]["errors"] == [], launched
    token = parse_qs(urlsplit(launched["launchGame"]["launchUrl"]).query)["token"][0]

    async with (
        httpx.AsyncClient(base_url=demo_provider.base, timeout=30) as demo,
        httpx.AsyncClient(base_url=live_server, timeout=30) as wallet_http,
    ):
        # Rounds: authenticate (once), bet, result and endRound each, hashed form posts between the processes.
        rounds = []
        for bet in ("0.40", "1.00", "0.40", "2.00", "0.40"):
            answer = (
                await demo.post("/pragmatic/api/spin", json={"token": token, "game": fair.SLOT, "bet": bet})
            ).json()
            assert answer["error"] == 0, answer
            rounds.append(answer)
        net = sum(Decimal(r["win"]) - Decimal(r["bet"]) for r in rounds)
        assert Decimal(str(rounds[-1]["cash"])) == Decimal("50.00") + net
        assert Decimal(await cash_minor(rt, player.uuid)) / 100 == Decimal("50.00") + net

        # The protocol's edge cases, as Pragmatic Play's servers send them to the live server: endRound again
        # succeeds and moves nothing; the refund of a bet never seen succeeds and moves nothing, and that bet
        # arriving late is refused; a wrong hash is refused.
        pp = PragmaticProvider(wallet_http, secret=DEMO_PRAGMATIC_SECRET, code=PRAGMATIC)
        user = str(player.uuid)
        last = {"userId": user, "gameId": fair.SLOT, "roundId": rounds[-1]["round"], "token": token}
        again = await pp.call("endRound", last)
        assert (again["error"], Decimal(str(again["cash"]))) == (0, Decimal("50.00") + net), again
        refund = await pp.call("refund", {"userId": user, "reference": "never-seen-bet"})
        assert refund["error"] == 0, refund
        late = {**last, "roundId": "77", "amount": "1.00", "reference": "never-seen-bet", "timestamp": "1",
                "roundDetails": "spin"}  # fmt: skip
        assert (await pp.call("bet", late))["error"] == 3
        assert (await pp.call("balance", {"userId": user}, secret="not-the-key"))["error"] == 5
        balance = await pp.call("balance", {"userId": user})
        assert (balance["error"], Decimal(str(balance["cash"]))) == (0, Decimal("50.00") + net), balance

        # The player logs out: the game session ends with the login, a further round is refused, and the prizes
        # Pragmatic Play sends on its own later (free rounds, a jackpot, a campaign) are credited all the same.
        assert (await live(LOGOUT, token=player.token))["data"]["logout"]["errors"] == []
        refused = await demo.post("/pragmatic/api/spin", json={"token": token, "game": fair.SLOT, "bet": "0.40"})
        assert refused.json()["error"] == 4, refused.json()
        for method, amount in (("bonusWin", "2.00"), ("jackpotWin", "25.00"), ("promoWin", "1.50")):
            award = await demo.post(
                "/pragmatic/control/award", json={"method": method, "userId": user, "amount": amount}
            )
            assert award.json()["error"] == 0, award.json()
        calls = [c for c in (await demo.get("/pragmatic/control/calls")).json() if sent_for(c, user, token)]

    assert Decimal(await cash_minor(rt, player.uuid)) / 100 == Decimal("50.00") + net + Decimal("28.50")
    methods = [c["method"] for c in calls]
    assert methods[:4] == ["authenticate", "bet", "result", "endRound"]
    assert (methods.count("bet"), methods.count("result"), methods.count("endRound")) == (6, 5, 5), methods
    assert methods[-3:] == ["bonusWin", "jackpotWin", "promoWin"]
    assert [c["error"] for c in calls if c["error"] != 0] == [4]  # only the bet after the logout
    ledger_verify_clean()


async def test_a_crypto_deposit_is_credited_after_its_confirmations_and_a_withdrawal_goes_back_to_it(
    rt: Any, live: GraphQLClient, live_server: str, demo_psp: str, psp: DemoPsp, brand: Any, make_player: Any,  # noqa: F811
) -> None:  # fmt: skip
    # A Maltese player of a brand licensed in Malta (the MGA profile applies the closed loop) whose wallets are in
    # euros: the coins are credited in EUR at the rate locked when the transfer is first seen.
    await licensed_in_malta(rt, brand)
    player = await make_player(country="MT")
    async with (
        httpx.AsyncClient(base_url=live_server, timeout=30) as platform,
        processor_chain(demo_psp, platform) as chain,
    ):
        address = await address_of(live, player, "BTC")
        assert (address["network"], address["creditCurrency"]) == ("bitcoin", "EUR"), address

        # 0.002 BTC (120.00 EUR at the demo's 60,000) reaches the address; the processor's signed callbacks reach
        # the live server as the chain grows. BTC needs 2 confirmations: before them the deposit is pending.
        sent = await chain.send("BTC", address["address"], "0.00200000")
        await chain.deliver_all(sent["id"])
        await chain.mine(1)
        await chain.deliver_all(sent["id"])
        [pending] = await payments_of(live, player)
        assert (pending["kind"], pending["method"], pending["psp"], pending["status"]) == (
            "DEPOSIT", "CRYPTO", "cryptopay", "PENDING"
        ), pending  # fmt: skip
        assert await cash(rt, player, "EUR") == 0
        await chain.mine(1)
        await chain.deliver_all(sent["id"])  # every callback again, in order: applied once each
        [credited] = await payments_of(live, player)
        assert (credited["status"], credited["amount"]) == ("SUCCEEDED", {"amount": "120.00", "currency": "EUR"})
        assert await cash(rt, player, "EUR") == 12_000
        ledger_verify_clean()

        # The closed loop: the deposit's share is owed back in BTC, so a card withdrawal is refused...
        loop = await closed_loop(live, player)
        assert (loop["enforced"], shares_of(loop)) == (True, [("CRYPTO", "BTC", "120.00")]), loop
        card = {"amount": "50.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}
        refused = (await live(REQUEST_WITHDRAWAL, {"input": card}, token=player.token))["data"]["requestWithdrawal"]
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [("CLOSED_LOOP", "method")], refused

        # ... and a withdrawal goes back to it: 60.00 EUR as BTC at a quote's locked rate, to an address the
        # processor's screening passes, paid on chain and confirmed by its callback.
        quoted = await live(
            QUOTE,
            {"input": {"asset": "BTC", "currency": "EUR", "direction": "WITHDRAWAL", "amount": "60.00"}},
            token=player.token,
        )
        quote = quoted["data"]["cryptoQuote"]["quote"]
        assert quote["assetAmount"] == {"amount": "0.00100000", "currency": "BTC"}, quoted
        asked = await withdraw(live, player, asset="BTC", address=BTC_DESTINATION, quoteId=quote["id"])
        assert (asked["errors"], asked["payment"]["status"]) == ([], "PROCESSING"), asked
        [paid_out] = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
        assert (paid_out["amount"], paid_out["currency"], paid_out["address"]) == (
            "0.00100000", "BTC", BTC_DESTINATION
        )  # fmt: skip
        await chain.mine(2)
        await chain.deliver_all(paid_out["foreign_id"])

    statuses = sorted((p["kind"], p["method"], p["status"]) for p in await payments_of(live, player))
    assert statuses == [("DEPOSIT", "CRYPTO", "SUCCEEDED"), ("WITHDRAWAL", "CRYPTO", "PAID")], statuses
    assert await cash(rt, player, "EUR") == 6_000
    loop = await closed_loop(live, player)
    assert shares_of(loop) == [("CRYPTO", "BTC", "60.00")], loop  # what is still owed back to it
    ledger_verify_clean()
