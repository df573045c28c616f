"""The bonus engine through its public surfaces: GraphQL for marketing, support, finance and players, the
Hub88 wallet for play. Every test ends with ledger and audit verify (the autouse fixture)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from core.clock import clock
from tests.bonuses.conftest import CLAIM, MY_BONUSES, bonus_balance, bonus_row, rules
from tests.cashier.conftest import CARD, DemoPsp
from tests.conftest import fund, recorded_statements
from tests.providers.conftest import Aggregator, Seat, open_session

EUR = 100_000  # one euro in Hub88 units
CENT = 1_000


async def _claim(gql: Any, token: str, **what: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(CLAIM, {"input": what}, token=token))["data"]["claimBonus"]
    return payload


async def _seat(rt: Any, make_player: Any, hub88_provider: Any, cash: int = 0) -> tuple[Seat, str]:
    player = await make_player()
    if cash:
        await fund(rt, player.uuid, cash)
    token = await open_session(rt, hub88_provider, player.uuid)
    return Seat(str(player.uuid), player.uuid, token), player.token


async def _holder(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, *, cash: int = 0, **campaign_rules: Any
) -> tuple[Seat, str]:
    """A seated player (cash in minor units) holding a 10 EUR no-deposit bonus with these rules."""
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}, **campaign_rules), code="FREE10")
    seat, token = await _seat(rt, make_player, hub88_provider, cash)
    claimed = await _claim(gql, token, code="free10")
    assert claimed["errors"] == [], claimed
    assert claimed["bonus"]["status"] == "ACTIVE"
    return seat, token


async def test_wagering_counts_contributions_and_a_rollback_reverses_split_and_progress(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, _ = await _holder(
        rt, gql, make_player, hub88_provider, campaign, contributions={"games": {"slot-fortune": 50}}
    )
    bet = seat.bet(4 * EUR)
    answer = await aggregator.call("transaction/bet", bet)
    assert (answer["status"], answer["balance"]) == ("RS_OK", 6 * EUR)  # one balance: cash + bonus
    assert await bonus_balance(rt, seat.player_id) == (0, 600)
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.wagering_required, bonus.wagering_done) == (2_000, 200)  # 2 x 10 EUR; 4 EUR at 50 %
    answer = await aggregator.call("transaction/rollback", seat.rollback(bet["transaction_uuid"]))
    assert (answer["status"], answer["balance"]) == ("RS_OK", 10 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (0, 1_000)
    assert (await bonus_row(rt, seat.player_id)).wagering_done == 0


async def test_a_bet_above_the_max_bet_is_refused_and_moves_nothing(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, token = await _holder(rt, gql, make_player, hub88_provider, campaign, cash=2_000)
    answer = await aggregator.call("transaction/bet", seat.bet(6 * EUR))
    assert (answer["status"], answer["balance"]) == ("RS_ERROR_LIMIT_REACHED", 30 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (2_000, 1_000)
    mine = (await gql(MY_BONUSES, token=token))["data"]["me"]["bonuses"][0]
    assert [e["kind"] for e in mine["events"]] == ["issued", "activated", "bet_refused_max_bet"]
    assert mine["wagering"]["done"]["amount"] == "0.00"


async def test_cash_is_spent_first_and_a_win_follows_the_stake_split(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, _ = await _holder(rt, gql, make_player, hub88_provider, campaign, cash=300, wagering_multiplier=10)
    bet = seat.bet(5 * EUR)
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    assert await bonus_balance(rt, seat.player_id) == (0, 800)  # 3 EUR cash, then 2 EUR bonus
    win = seat.win(10 * EUR, bet["transaction_uuid"])
    answer = await aggregator.call("transaction/win", win)
    assert (answer["status"], answer["balance"]) == ("RS_OK", 18 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (600, 1_200)  # 10 x 3/5 to cash, the rest bonus
    undone = await aggregator.call("transaction/rollback", seat.rollback(win["transaction_uuid"]))
    assert (undone["status"], undone["balance"]) == ("RS_OK", 8 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (0, 800)  # exactly the win's split taken back


async def test_bonus_first_spends_bonus_money_before_cash(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, _ = await _holder(
        rt, gql, make_player, hub88_provider, campaign, cash=300, spend_order="bonus_first", max_bet={}
    )
    assert (await aggregator.call("transaction/bet", seat.bet(12 * EUR)))["status"] == "RS_OK"
    assert await bonus_balance(rt, seat.player_id) == (100, 0)


async def test_conversion_pays_cash_up_to_the_cap_and_returns_the_rest(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, token = await _holder(
        rt,
        gql,
        make_player,
        hub88_provider,
        campaign,
        wagering_multiplier=1,
        max_conversion={"EUR": "5.00"},
        max_bet={},
    )
    bet = seat.bet(10 * EUR)
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    answer = await aggregator.call("transaction/win", seat.win(30 * EUR, bet["transaction_uuid"]))
    assert (answer["status"], answer["balance"]) == ("RS_OK", 5 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (500, 0)
    mine = (await gql(MY_BONUSES, token=token))["data"]["me"]["bonuses"][0]
    assert (mine["status"], mine["converted"]["amount"]) == ("COMPLETED", "5.00")
    assert mine["events"][-1]["kind"] == "converted"
    assert mine["events"][-1]["ledgerTransactionId"]


async def test_a_bonus_expires_with_the_clock_and_its_money_returns(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any
) -> None:
    from services.bonuses.lifecycle import expire_due

    seat, _ = await _holder(rt, gql, make_player, hub88_provider, campaign, days_to_wager=3)
    assert await expire_due(rt) == 0
    clock.advance(timedelta(days=3, seconds=1))
    assert await expire_due(rt) == 1
    assert (await bonus_row(rt, seat.player_id)).status == "expired"
    assert await bonus_balance(rt, seat.player_id) == (0, 0)


async def test_concurrent_bets_during_conversion_convert_once(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    from models.ledger import LedgerTransaction

    seat, _ = await _holder(rt, gql, make_player, hub88_provider, campaign, cash=1_000, wagering_multiplier=1)
    answers = await asyncio.gather(
        *[aggregator.call("transaction/bet", seat.bet(2 * EUR, round_ref=f"r-{i}", closed=True)) for i in range(6)]
    )
    # Cash first: five bets spend the 10 EUR of cash and meet 10 EUR of wagering, whichever order they
    # landed in; the bonus converts once, and the sixth bet is paid from the converted cash.
    assert [a["status"] for a in answers] == ["RS_OK"] * 6, answers
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.status, bonus.converted) == ("completed", 1_000), bonus
    assert await bonus_balance(rt, seat.player_id) == (800, 0)
    async with rt.database.session() as db:
        conversions = await db.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.kind == "bonus_conversion", LedgerTransaction.player_id == seat.player_id)
        )
    assert conversions == 1


async def test_racing_claims_of_a_once_per_player_offer_issue_one_bonus(
    rt: Any, gql: Any, make_player: Any, campaign: Any
) -> None:
    from models.bonuses import PlayerBonus

    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}), code="ONCE")
    player = await make_player()
    results = await asyncio.gather(*[_claim(gql, player.token, code="ONCE") for _ in range(5)])
    assert sum(1 for r in results if not r["errors"]) == 1
    assert {r["errors"][0]["code"] for r in results if r["errors"]} <= {"BONUS_ALREADY_CLAIMED", "BONUS_ACTIVE"}
    async with rt.database.session() as db:
        assert await db.scalar(select(func.count()).select_from(PlayerBonus)) == 1
    assert await bonus_balance(rt, player.uuid) == (0, 1_000)


async def test_free_rounds_play_through_the_provider_and_win_bonus_money(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    await campaign(
        "FREE_SPINS",
        {"free_spins": 2, "spin_bet": {"EUR": "1.00"}, "games": ["slot-fortune"], "wagering_multiplier": 1},
        code="SPINS",
    )
    seat, token = await _seat(rt, make_player, hub88_provider)
    claimed = await _claim(gql, token, code="SPINS")
    assert claimed["errors"] == []
    assert claimed["bonus"]["freeSpinsLeft"] == 2
    reward = claimed["bonus"]["rewardUuid"]
    free = seat.bet(EUR, is_free=True, reward_uuid=reward)
    assert (await aggregator.call("transaction/bet", free))["status"] == "RS_OK"
    answer = await aggregator.call("transaction/win", seat.win(3 * EUR, free["transaction_uuid"]))
    assert (answer["status"], answer["balance"]) == ("RS_OK", 3 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (0, 300)
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.amount, bonus.wagering_required, bonus.spins_left) == (300, 300, 1)
    unknown = await aggregator.call("transaction/bet", seat.bet(EUR, is_free=True, reward_uuid="nope"))
    assert unknown["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    assert (
        await aggregator.call(
            "transaction/bet", seat.bet(EUR, is_free=True, reward_uuid=reward, round_ref="r-2", closed=True)
        )
    )["status"] == "RS_OK"
    spent = await aggregator.call("transaction/bet", seat.bet(EUR, is_free=True, reward_uuid=reward, round_ref="r-3"))
    assert spent["status"] == "RS_ERROR_LIMIT_REACHED"
    other, _ = await _seat(rt, make_player, hub88_provider)
    foreign = await aggregator.call("transaction/bet", other.bet(EUR, is_free=True, reward_uuid=reward))
    assert foreign["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"


async def test_a_free_spins_cash_out_cap_grows_with_their_winnings(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    await campaign(
        "FREE_SPINS",
        {
            "free_spins": 1,
            "spin_bet": {"EUR": "1.00"},
            "games": ["slot-fortune"],
            "wagering_multiplier": 1,
            "max_conversion_multiple": 2,
        },
        code="CAPPED",
    )
    seat, token = await _seat(rt, make_player, hub88_provider)
    reward = (await _claim(gql, token, code="CAPPED"))["bonus"]["rewardUuid"]
    free = seat.bet(EUR, is_free=True, reward_uuid=reward)
    assert (await aggregator.call("transaction/bet", free))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/win", seat.win(3 * EUR, free["transaction_uuid"])))["status"] == "RS_OK"
    assert (await bonus_row(rt, seat.player_id)).max_conversion == 600  # 2 x the 3.00 won, not 2 x nothing
    # Wagered with a 3.00 stake of bonus money that wins 7.00: 7.00 of bonus money, 6.00 of it converts.
    bet = seat.bet(3 * EUR, round_ref="r-2")
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    won = await aggregator.call("transaction/win", seat.win(7 * EUR, bet["transaction_uuid"], round_ref="r-2"))
    assert won["status"] == "RS_OK"
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.status, bonus.converted) == ("completed", 600)
    assert await bonus_balance(rt, seat.player_id) == (600, 0)


WITHDRAW = """
mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) {
  payment { status } errors { code field message } } }"""


async def test_a_withdrawal_asks_to_forfeit_an_active_bonus_then_forfeits_it(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, psp: DemoPsp
) -> None:
    seat, token = await _holder(rt, gql, make_player, hub88_provider, campaign, cash=5_000)
    ask = {"amount": "20.00", "currency": "EUR", "method": "BANK_TRANSFER", "idempotencyKey": "w-1"}
    refused = (await gql(WITHDRAW, {"input": ask}, token=token))["data"]["requestWithdrawal"]
    assert [e["code"] for e in refused["errors"]] == ["BONUS_ACTIVE"]
    assert await bonus_balance(rt, seat.player_id) == (5_000, 1_000)
    done = (await gql(WITHDRAW, {"input": {**ask, "idempotencyKey": "w-2", "forfeitBonuses": True}}, token=token))[
        "data"
    ]["requestWithdrawal"]
    assert done["errors"] == [], done
    assert (await bonus_row(rt, seat.player_id)).status == "forfeited"
    assert (await bonus_balance(rt, seat.player_id))[1] == 0


async def test_a_bet_of_a_bonus_holder_stays_lean(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, _ = await _holder(rt, gql, make_player, hub88_provider, campaign, cash=1_000, wagering_multiplier=50)
    for _ in range(2):  # warms the account caches
        await aggregator.call("transaction/bet", seat.bet(EUR))
    with recorded_statements(rt) as statements:
        answer = await aggregator.call("transaction/bet", seat.bet(EUR))
    assert answer["status"] == "RS_OK"
    # the no-bonus path's 14 (tests/providers) + the bonus account's posting row + the split and progress
    # (one statement)
    assert 10 <= len(statements) <= 16, "\n".join(statements)


async def test_jurisdiction_caps_refuse_a_uk_campaign_above_10x(gql: Any, make_staff: Any, rt: Any, brand: Any) -> None:
    from models.brands import Brand
    from tests.bonuses.conftest import CREATE

    async with rt.database.transaction() as db:
        (await db.get(Brand, brand.id)).jurisdictions = ["UK", "MT", "DEFAULT"]  # type: ignore[union-attr]
    staff = await make_staff("marketing")
    base = {"name": "Big", "kind": "DEPOSIT_MATCH"}
    body = await gql(CREATE, {"input": {**base, "rules": rules(wagering_multiplier=35)}}, token=staff.token)
    assert [e["code"] for e in body["data"]["createBonusCampaign"]["errors"]] == ["BONUS_NOT_ALLOWED"]
    scoped = rules(wagering_multiplier=35, eligibility={"countries": ["MT"]})
    body = await gql(CREATE, {"input": {**base, "rules": scoped}}, token=staff.token)
    assert body["data"]["createBonusCampaign"]["errors"] == []


DEPOSIT = """
mutation($input: DepositInput!) { deposit(input: $input) { payment { id status } errors { code message } } }"""
STAFF_VIEW = """
query($id: ID!) { player(id: $id) { bonuses { status amount { amount } events { kind ledgerTransactionId } } } }"""
LIABILITY = "{ bonusLiability { currency bonusesInPlay outstanding { amount } grantedToDate { amount } } }"
POSTINGS = """
query($id: ID!) { ledgerTransaction(id: $id) { kind postings { account { purpose ownerType } amount { amount } } } }"""


async def test_a_campaign_is_claimed_on_deposit_and_wagered_through_play_to_conversion(
    rt: Any,
    gql: Any,
    make_player: Any,
    make_staff: Any,
    hub88_provider: Any,
    campaign: Any,
    aggregator: Aggregator,
    psp: DemoPsp,
) -> None:
    """Done when: marketing's campaign, a deposit with its code, Hub88 play to conversion, visible to the
    player and to staff, every step traceable posting by posting."""
    await campaign(
        "DEPOSIT_MATCH",
        rules(match_percent=100, max_bonus={"EUR": "20.00"}, min_deposit={"EUR": "10.00"}, wagering_multiplier=1),
        code="WELCOME",
    )
    player = await make_player()
    deposited = (
        await gql(
            DEPOSIT,
            {
                "input": {
                    "amount": "20.00",
                    "currency": "EUR",
                    "method": "CARD",
                    "pspToken": await psp.tokenise(CARD),
                    "bonusCode": "welcome",
                }
            },
            token=player.token,
        )
    )["data"]["deposit"]
    assert deposited["errors"] == [], deposited
    assert deposited["payment"]["status"] == "SUCCEEDED", deposited
    assert await bonus_balance(rt, player.uuid) == (2_000, 2_000)
    seat = Seat(str(player.uuid), player.uuid, await open_session(rt, hub88_provider, player.uuid))
    for i in range(5):  # 5 x 4 EUR = 20 EUR of wagering: cash first, then bonus money
        answer = await aggregator.call("transaction/bet", seat.bet(4 * EUR, round_ref=f"r-{i}", closed=True))
        assert answer["status"] == "RS_OK", answer
    mine = (await gql(MY_BONUSES, token=player.token))["data"]["me"]["bonuses"][0]
    assert mine["status"] == "COMPLETED"
    assert mine["wagering"]["percent"] == 100
    assert await bonus_balance(rt, player.uuid) == (2_000, 0)  # the 20 EUR bonus left converted
    support = await make_staff("support")
    seen = (await gql(STAFF_VIEW, {"id": player.id}, token=support.token))["data"]["player"]["bonuses"][0]
    assert [e["kind"] for e in seen["events"]] == ["issued", "activated", "converted"]
    for step in seen["events"]:
        if step["ledgerTransactionId"]:
            tx = (await gql(POSTINGS, {"id": step["ledgerTransactionId"]}, token=support.token))["data"]
            legs = tx["ledgerTransaction"]["postings"]
            assert sum(int(leg["amount"]["amount"].replace(".", "")) for leg in legs) == 0
            assert {leg["account"]["purpose"] for leg in legs} & {"bonus", "bonus_cost"}
    finance = await make_staff("finance")
    report = (await gql(LIABILITY, token=finance.token))["data"]["bonusLiability"]
    assert report == [
        {"currency": "EUR", "bonusesInPlay": 0, "outstanding": {"amount": "0.00"}, "grantedToDate": {"amount": "20.00"}}
    ]


PROGRESS = "subscription { bonusProgress { trigger bonuses { status wagering { done { amount } percent } } } }"


async def test_bonus_progress_is_pushed_to_the_player_after_each_bet(
    live_server: str, rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    from tests.live.conftest import next_data, subscription

    seat, token = await _holder(rt, gql, make_player, hub88_provider, campaign)
    async with subscription(live_server, token, PROGRESS) as socket:
        first = (await next_data(socket))["bonusProgress"]
        assert first == {
            "trigger": "snapshot",
            "bonuses": [{"status": "ACTIVE", "wagering": {"done": {"amount": "0.00"}, "percent": 0}}],
        }
        assert (await aggregator.call("transaction/bet", seat.bet(5 * EUR)))["status"] == "RS_OK"
        update = (await next_data(socket))["bonusProgress"]
        assert update == {
            "trigger": "game_bet",
            "bonuses": [{"status": "ACTIVE", "wagering": {"done": {"amount": "5.00"}, "percent": 25}}],
        }
        # A change of status is pushed too: its money first, then the bonus's own event.
        bonus_id = (await gql("{ me { bonuses { id } } }", token=token))["data"]["me"]["bonuses"][0]["id"]
        forfeit = "mutation($input: EndBonusInput!) { forfeitBonus(input: $input) { errors { code } } }"
        assert (await gql(forfeit, {"input": {"bonusId": bonus_id}}, token=token))["data"]["forfeitBonus"][
            "errors"
        ] == []
        pushed = [(await next_data(socket))["bonusProgress"] for _ in range(2)]
        assert [p["trigger"] for p in pushed] == ["bonus_forfeit", "forfeited"]
        assert [b["status"] for b in pushed[-1]["bonuses"]] == ["FORFEITED"]


async def test_wagering_met_on_an_open_round_converts_when_the_round_closes(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, _ = await _holder(
        rt, gql, make_player, hub88_provider, campaign, cash=1_000, wagering_multiplier=1, max_bet={}
    )
    bet = seat.bet(10 * EUR, closed=False)
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    assert (await bonus_row(rt, seat.player_id)).status == "active"  # a win may still come for this round
    answer = await aggregator.call("transaction/win", seat.win(0, bet["transaction_uuid"], closed=True))
    assert (answer["status"], answer["balance"]) == ("RS_OK", 10 * EUR)
    assert (await bonus_row(rt, seat.player_id)).status == "completed"
    assert await bonus_balance(rt, seat.player_id) == (1_000, 0)


async def test_a_bonus_code_with_a_deposit_in_another_currency_is_refused_and_the_offer_kept(
    rt: Any, gql: Any, make_player: Any, campaign: Any, psp: DemoPsp
) -> None:
    await campaign("DEPOSIT_MATCH", rules(max_bonus={"EUR": "20.00"}, min_deposit={"EUR": "10.00"}), code="WELCOME")
    player = await make_player()  # plays in EUR

    async def deposit(amount: str, currency: str) -> dict[str, Any]:
        ask = {
            "amount": amount,
            "currency": currency,
            "method": "CARD",
            "pspToken": await psp.tokenise(CARD),
            "bonusCode": "WELCOME",
        }
        payload: dict[str, Any] = (await gql(DEPOSIT, {"input": ask}, token=player.token))["data"]["deposit"]
        return payload

    refused = await deposit("1.00", "SEK")  # would have used the once-only offer up on a bonus never activated
    assert ([e["code"] for e in refused["errors"]], refused["payment"]) == (["BONUS_NOT_ELIGIBLE"], None)
    assert await bonus_row(rt, player.uuid) is None
    matched = await deposit("20.00", "EUR")
    assert (matched["errors"], matched["payment"]["status"]) == ([], "SUCCEEDED")
    assert await bonus_balance(rt, player.uuid) == (2_000, 2_000)
