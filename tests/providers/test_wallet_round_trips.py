"""What a wallet call costs the database, pinned (issue 15): the statements of a bet and of a win, one by one,
and the provider row read from a cache that its first statement checks — so a provider disabled or re-keyed
after it was cached is still refused, or accepted with its new key, on the very next call."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import recorded_statements
from tests.providers.conftest import HUB88, Aggregator, _keypair, cash

EUR = 100_000  # one euro in Hub88 units

# A bet or a win of a player with no bonus and no RG limit, after the first ones (the first bet of a brand and
# currency creates its house account on the Python path): one statement, the call of `wallet_play_v2`
# (sql/wallet/wallet_play_v2.sql), which checks the provider row's version, takes the transaction's key and the
# cash row, reads the state under them and writes the ledger (transaction, postings, balance, outbox event), the
# RG counter, the round, the provider transaction and the call log. One round trip: the call is a database
# transaction of its own (no BEGIN, no COMMIT).
BET = ["SELECT outcome, balance, refusal FROM wallet_play_v2("]
# A win of nothing (the round lost) moves no money: the same one call writes no ledger and no RG counter.
LOST = BET


async def test_a_bet_and_a_win_make_a_fixed_list_of_statements(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    player = await seat(balance=1_000)
    for _ in range(2):  # warms the account caches (an operator account is cached once its creation committed)
        await aggregator.call("transaction/bet", player.bet(EUR, round_ref="warm"))
    calls = [
        ("transaction/bet", player.bet(EUR, tx="b-1", round_ref="r-2"), BET),
        ("transaction/win", player.win(2 * EUR, "b-1", round_ref="r-2"), BET),
        ("transaction/bet", player.bet(EUR, tx="b-2", round_ref="r-3"), BET),
        ("transaction/win", player.win(0, "b-2", round_ref="r-3"), LOST),
    ]
    for endpoint, body, expected in calls:
        with recorded_statements(rt) as statements:
            answer = await aggregator.call(endpoint, body)
        assert answer["status"] == "RS_OK"
        assert [s for s in statements if not s.startswith(tuple(expected))] == []
        assert len(statements) == len(expected), "\n".join(statements)
        for prefix in expected:
            assert sum(s.startswith(prefix) for s in statements) == 1, prefix
    assert await cash(rt, player.player_id) == 1_000 - 2 * 100 - 100 + 200 - 100


@pytest.mark.parametrize(
    ("change", "amount", "status"),
    [
        (None, 9_000, "RS_ERROR_LIMIT_REACHED"),  # below the game's min bet (0.10 EUR)
        ("UPDATE games SET jurisdictions = ARRAY['SE'] WHERE code = 'slot-fortune'", EUR, "RS_ERROR_LIMIT_REACHED"),
        (
            "UPDATE games SET enabled = false, withdrawn_at = now() WHERE code = 'slot-fortune'",
            EUR,
            "RS_ERROR_INVALID_GAME",
        ),
    ],
)
async def test_a_bet_the_games_rules_refuse_is_one_statement_too(
    aggregator: Aggregator, seat: Any, rt: Any, change: str | None, amount: int, status: str
) -> None:
    player = await seat(balance=1_000)
    for _ in range(2):  # warms the account caches
        await aggregator.call("transaction/bet", player.bet(EUR, round_ref="warm"))
    if change is not None:
        async with rt.database.transaction() as db:
            await db.execute(text(change))
    with recorded_statements(rt) as statements:
        answer = await aggregator.call("transaction/bet", player.bet(amount, round_ref="r-2"))
    assert (answer["status"], answer["balance"]) == (status, 800 * 1000)
    assert len(statements) == 1, "\n".join(statements)
    assert statements[0].startswith(BET[0])


async def test_the_cached_provider_is_checked_by_every_call(
    aggregator: Aggregator, seat: Any, rt: Any, hub88_provider: Any
) -> None:
    player = await seat(balance=1_000)
    assert (await aggregator.call("transaction/bet", player.bet(EUR, round_ref="a")))["status"] == "RS_OK"
    with recorded_statements(rt) as statements:
        assert (await aggregator.call("transaction/bet", player.bet(EUR, round_ref="b")))["status"] == "RS_OK"
    assert not any("FROM game_providers" in s for s in statements)  # cached: no session of its own

    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE game_providers SET enabled = false WHERE id = :id"), {"id": hub88_provider.id})
    refused = await aggregator.call("transaction/bet", player.bet(EUR, round_ref="c"))
    assert refused["status"] == "RS_ERROR_INVALID_PARTNER"
    assert (await aggregator.call("user/balance", player.base(token=player.token)))["status"] == (
        "RS_ERROR_INVALID_PARTNER"
    )
    assert await cash(rt, player.player_id) == 800


async def test_a_rotated_key_is_taken_at_once_and_the_old_one_refused(
    aggregator: Aggregator, seat: Any, rt: Any, hub88_provider: Any
) -> None:
    player = await seat(balance=1_000)
    assert (await aggregator.call("transaction/bet", player.bet(EUR, round_ref="a")))["status"] == "RS_OK"
    new_key, new_pem = _keypair()
    async with rt.database.transaction() as db:
        await db.execute(
            text("UPDATE game_providers SET public_key_pem = :pem WHERE id = :id"),
            {"pem": new_pem, "id": hub88_provider.id},
        )
    old = await aggregator.call("transaction/bet", player.bet(EUR, round_ref="b"))
    assert old["status"] == "RS_ERROR_INVALID_SIGNATURE"
    new = await aggregator.call("transaction/bet", player.bet(EUR, round_ref="c"), key=new_key)
    assert new["status"] == "RS_OK"
    assert await cash(rt, player.player_id) == 800


@pytest.mark.parametrize("change", ["disable", "replace"])
async def test_a_provider_changed_under_a_cached_call_writes_nothing_and_answers_as_the_new_row_says(
    aggregator: Aggregator, seat: Any, rt: Any, hub88_provider: Any, change: str
) -> None:
    """The row changes between the signature check (cached key) and the wallet's first statement."""
    from integrations import hub88

    player = await seat(balance=1_000)
    assert (await aggregator.call("transaction/bet", player.bet(EUR, round_ref="a")))["status"] == "RS_OK"
    cached_ref, cached_pem = hub88._PROVIDERS[HUB88]
    async with rt.database.transaction() as db:
        if change == "disable":
            await db.execute(text("UPDATE game_providers SET enabled = false WHERE id = :id"), {"id": cached_ref.id})
        else:  # a no-op update: a new row version, the same content
            await db.execute(text("UPDATE game_providers SET name = name WHERE id = :id"), {"id": cached_ref.id})
    hub88._PROVIDERS[HUB88] = (cached_ref, cached_pem)  # as if the change landed after the lookup
    tx = str(uuid.uuid4())
    answer = await aggregator.call("transaction/bet", player.bet(EUR, tx=tx, round_ref="b"))
    async with rt.database.session() as db:
        stored = (
            await db.execute(
                text("SELECT count(*) FROM provider_transactions WHERE transaction_uuid = :tx"), {"tx": tx}
            )
        ).scalar_one()
    if change == "disable":
        assert answer["status"] == "RS_ERROR_INVALID_PARTNER"
        assert (stored, await cash(rt, player.player_id)) == (0, 900)
    else:
        assert answer["status"] == "RS_OK"
        assert (stored, await cash(rt, player.player_id)) == (1, 800)
        assert hub88._PROVIDERS[HUB88][0].version != cached_ref.version
