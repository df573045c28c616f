"""A player's rounds (written by the provider wallet; here rows are inserted directly)."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from strawberry import relay

from models.games import GameRound, Provider, ProviderCall, ProviderTransaction
from tests.conftest import error_codes

ROUNDS = """
query($id: ID!, $filter: RoundFilter) {
  player(id: $id) {
    rounds(filter: $filter, first: 10) {
      edges { node { id roundRef status totalBet { amount currency } totalWin { amount currency } openedAt closedAt
                     game { code provider { code } }
                     transactions { kind transactionUuid status amount { amount currency } createdAt
                                    calls { endpoint requestUuid rawRequest response createdAt } } } }
    }
  }
}"""
MY_ROUNDS = """
{ me { rounds { edges { node { roundRef status totalBet { amount currency }
                                transactions { kind transactionUuid status amount { amount } } } } } } }"""
MY_CALLS = "{ me { rounds { edges { node { transactions { kind calls { endpoint } } } } } } }"


async def book(db: Any, player: Any, game: Any, uuid_: str, kind: str, amount: int) -> Any:
    """The money as the provider wallet books it (`croupier ledger verify` holds the two together): cash
    against house revenue, keyed and referenced by the provider transaction."""
    from models.ledger import AccountPurpose
    from models.players import Player
    from services import ledger, wallet
    from services.ledger import Entry, Leg

    brand_id = (await db.get(Player, player.uuid)).brand_id
    cash = (await wallet.player_accounts(db, player.uuid, brand_id, "EUR")).cash
    house = await wallet.operator_account(db, brand_id, AccountPurpose.HOUSE_REVENUE, "EUR")
    await wallet.lock_player_money(db, player.uuid, cash=cash)
    to_cash = amount if kind == "win" else -amount
    code = (await db.get(Provider, game.provider_id)).code
    return await ledger.record(
        db,
        Entry(
            idempotency_key=f"provider:{code}:{uuid_}",
            kind=f"game_{kind}",
            legs=(Leg(cash, to_cash), Leg(house, -to_cash)),
            actor_type="provider",
            brand_id=brand_id,
            player_id=player.uuid,
            reference_type="provider_transaction",
            reference_id=f"{code}:{uuid_}",
        ),
    )


async def play_round(rt: Any, player: Any, game: Any, ref: str, *, bet: int, win: int | None) -> GameRound:
    """What the provider wallet would have recorded: a round, its bet (and win) and their money, and the calls."""
    from services import wallet

    async with rt.database.transaction() as db:
        await wallet.adjust(  # the stake's money, so the bet is answered OK
            db,
            player_id=player.uuid,
            currency="EUR",
            amount=bet,
            adjustment_id=uuid.uuid4(),
            actor=wallet.Actor("system"),
            reason="test funding",
        )
        row = GameRound(
            provider_id=game.provider_id,
            round_ref=ref,
            player_id=player.uuid,
            game_id=game.id,
            currency="EUR",
            status="closed" if win is not None else "open",
            total_bet=bet,
            total_win=win or 0,
        )
        db.add(row)
        await db.flush()
        moves = [("bet", bet)] + ([("win", win)] if win is not None else [])
        for kind, amount in moves:
            uuid_ = f"{ref}-{kind}"
            raw = json.dumps({"transaction_uuid": uuid_, "amount": amount, "round": ref})
            answer = {"status": "RS_OK", "balance": 1000}
            booked = (await book(db, player, game, uuid_, kind, amount)).transaction_id if amount else None
            db.add(
                ProviderTransaction(
                    provider_id=game.provider_id,
                    transaction_uuid=uuid_,
                    kind=kind,
                    request_hash=hashlib.sha256(raw.encode()).hexdigest(),
                    status="RS_OK",
                    player_id=player.uuid,
                    round_id=row.id,
                    game_code=game.code,
                    currency="EUR",
                    amount=amount,
                    ledger_transaction_id=booked,
                    raw_request=raw,
                    response=answer,
                )
            )
            db.add(
                ProviderCall(
                    provider_id=game.provider_id,
                    endpoint=f"/transaction/{kind}",
                    request_uuid=f"req-{uuid_}",
                    transaction_uuid=uuid_,
                    raw_request=raw,
                    response=answer,
                )
            )
    return row


async def test_players_see_their_own_rounds_without_the_call_log(
    rt: Any, gql: Any, make_player: Any, make_game: Any
) -> None:
    game = await make_game(code="northern-lights")
    alice = await make_player()
    bob = await make_player()
    await play_round(rt, alice, game, "r-1", bet=100, win=250)
    await play_round(rt, alice, game, "r-2", bet=50, win=None)
    await play_round(rt, bob, game, "r-bob", bet=500, win=None)

    body = await gql(MY_ROUNDS, token=alice.token)
    assert "errors" not in body, body
    rounds = [e["node"] for e in body["data"]["me"]["rounds"]["edges"]]
    assert [r["roundRef"] for r in rounds] == ["r-2", "r-1"]
    assert rounds[1]["status"] == "CLOSED"
    assert rounds[1]["totalBet"] == {"amount": "1.00", "currency": "EUR"}
    assert [(t["kind"], t["amount"]["amount"]) for t in rounds[1]["transactions"]] == [("bet", "1.00"), ("win", "2.50")]
    denied = await gql(MY_CALLS, token=alice.token)
    assert "FORBIDDEN" in error_codes(denied)
    body = await gql("{ me { rounds(filter: {status: OPEN}) { edges { node { roundRef } } } } }", token=alice.token)
    assert [e["node"]["roundRef"] for e in body["data"]["me"]["rounds"]["edges"]] == ["r-2"]


async def test_support_risk_and_finance_see_rounds_with_calls_in_their_brand(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, make_game: Any, other_brand: Any
) -> None:
    game = await make_game(code="northern-lights")
    alice = await make_player()
    await play_round(rt, alice, game, "r-1", bet=100, win=250)
    for role in ("support", "risk_analyst", "finance"):
        staff = await make_staff(role)
        body = await gql(ROUNDS, {"id": alice.id}, token=staff.token)
        assert "errors" not in body, (role, body)
        (node,) = [e["node"] for e in body["data"]["player"]["rounds"]["edges"]]
        assert node["game"] == {"code": "northern-lights", "provider": {"code": "pinefox"}}
        calls = [c for t in node["transactions"] for c in t["calls"]]
        assert [c["endpoint"] for c in calls] == ["/transaction/bet", "/transaction/win"]
        assert calls[0]["response"] == {"status": "RS_OK", "balance": 1000}
        assert json.loads(calls[0]["rawRequest"])["round"] == "r-1"
    kyc = await make_staff("kyc_officer")
    assert "FORBIDDEN" in error_codes(await gql(ROUNDS, {"id": alice.id}, token=kyc.token))
    elsewhere = await make_staff(("support", "northstar"))
    assert (await gql(ROUNDS, {"id": alice.id}, token=elsewhere.token))["data"]["player"] is None


async def test_rounds_by_node_id_follow_ownership(rt: Any, gql: Any, make_player: Any, make_game: Any) -> None:
    game = await make_game()
    alice = await make_player()
    bob = await make_player()
    played = await play_round(rt, alice, game, "r-1", bet=100, win=0)
    node_id = str(relay.GlobalID("GameRound", str(played.id)))
    query = "query($id: ID!) { node(id: $id) { ... on GameRound { roundRef } } }"
    assert (await gql(query, {"id": node_id}, token=alice.token))["data"]["node"] == {"roundRef": "r-1"}
    assert (await gql(query, {"id": node_id}, token=bob.token))["data"]["node"] is None
