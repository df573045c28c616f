"""One rule for locking a player's money (services/wallet.py `lock_player_money`): no module writes those
locks by hand, and every command on one player's money at once — bets and wins, a deposit, a bonus claim
and its forfeit, a withdrawal and its cancellation, an RG limit change, a profile change — runs to an
answer (no deadlock, never INTERNAL) with every lock on the player's rows taken by that one function."""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path
from typing import Any

from tests.bonuses.conftest import CLAIM, campaign, rules  # noqa: F401  (fixture)
from tests.cashier.conftest import DemoPsp, psp  # noqa: F401  (fixture)
from tests.cashier.test_graphql import DEPOSIT, WITHDRAW
from tests.conftest import recorded_statements
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    Aggregator,
    Seat,
    aggregator,
    aggregator_key,
    fund,
    hub88_provider,
    open_session,
)

ROOT = Path(__file__).resolve().parent.parent.parent
ROW_LOCK = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(KEY\s+)?SHARE\b", re.IGNORECASE)
PLAYER_ROWS = re.compile(r"\b(FROM|JOIN)\s+(ledger_accounts|players)\b", re.IGNORECASE)
MODELS = re.compile(r"\b(Player|LedgerAccount|readable_players)\b")
TAG = "lock_player_money"
# The function itself, and the ledger's re-lock of a transaction's legs under it (step 3 of the order); its
# asyncpg twin credits only (a jackpot's win into cash), after a pool lock no money path takes.
ALLOWED = {
    ("services/wallet.py", TAG),
    ("services/ledger.py", f"{TAG}: the ledger's re-lock"),
    ("services/ledger_native.py", f"{TAG}: the ledger's re-lock"),
}


def hand_written_locks(path: Path) -> list[str]:
    """Row locks on a player's rows (players, ledger_accounts) in this module's SQL text or ORM calls."""
    name = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text())
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            sql = node.value
            allowed = any(name == module and tag in sql for module, tag in ALLOWED)
            if ROW_LOCK.search(sql) and PLAYER_ROWS.search(sql) and not allowed:
                found.append(f"{name}:{node.lineno}: {' '.join(sql.split())[:90]}")
        elif isinstance(node, ast.Call):
            func = node.func
            locks = isinstance(func, ast.Attribute) and func.attr == "with_for_update"
            if locks and name != "services/wallet.py" and MODELS.search(ast.unparse(func)):
                found.append(f"{name}:{node.lineno}: {ast.unparse(node)[:90]}")
            keywords = {k.arg for k in node.keywords}
            if "with_for_update" in keywords and node.args and MODELS.search(ast.unparse(node.args[0])):
                found.append(f"{name}:{node.lineno}: {ast.unparse(node)[:90]}")
    return found


def test_no_module_locks_a_players_rows_by_hand() -> None:
    found = [line for path in sorted((ROOT / "services").rglob("*.py")) for line in hand_written_locks(path)]
    assert found == [], "lock a player's rows through services/wallet.py lock_player_money:\n" + "\n".join(found)


UPDATE_PROFILE = """
mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { player { id } errors { code message } } }"""
FORFEIT = """
mutation($input: EndBonusInput!) { forfeitBonus(input: $input) { bonus { id status } errors { code message } } }"""
CANCEL = """
mutation($input: CancelWithdrawalInput!) { cancelWithdrawal(input: $input) {
  payment { id status } errors { code message } } }"""
SET_LIMIT = """
mutation($input: SetLimitInput!) { setLimit(input: $input) { limit { kind } errors { code message } } }"""
ROUNDS = 6
EUR = 1000  # Hub88 units per cent


async def test_a_players_money_commands_at_once_never_deadlock_and_lock_through_one_function(
    rt: Any,
    gql: Any,
    make_player: Any,
    psp: DemoPsp,  # noqa: F811
    aggregator: Aggregator,  # noqa: F811
    hub88_provider: Any,  # noqa: F811
    campaign: Any,  # noqa: F811
) -> None:
    await campaign(
        "NO_DEPOSIT",
        rules(fixed_amount={"EUR": "2.00"}, max_bet={}, eligibility={"max_claims_per_player": 100}),
        code="AGAIN",
    )
    player = await make_player()
    await fund(rt, player.uuid, 100_00)
    seat = Seat(str(player.uuid), player.uuid, await open_session(rt, hub88_provider, player.uuid))
    answers: list[str] = []

    async def graphql(document: str, what: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = await gql(document, {"input": what}, token=player.token)
        assert "errors" not in body, body  # a deadlock (or a lock taken out of order) answers INTERNAL
        payload: dict[str, Any] = next(iter(body["data"].values()))
        answers.extend(error["code"] for error in payload["errors"])
        return payload

    async def play(round_number: int, table: int) -> None:
        bet = seat.bet(100 * EUR, round_ref=f"r{round_number}-{table}")
        placed = await aggregator.call("transaction/bet", bet)
        answers.append(placed["status"])
        if placed["status"] == "RS_OK":
            won = seat.win(50 * EUR, bet["transaction_uuid"], round_ref=f"r{round_number}-{table}")
            answers.append((await aggregator.call("transaction/win", won))["status"])

    async def deposit() -> None:
        token = await psp.tokenise()
        await graphql(DEPOSIT, {"currency": "EUR", "method": "CARD", "amount": "5.00", "pspToken": token})

    async def bonus() -> None:
        claimed = await graphql(CLAIM, {"code": "AGAIN"})
        if claimed["bonus"] is not None:
            await graphql(FORFEIT, {"bonusId": claimed["bonus"]["id"]})

    async def withdraw() -> None:
        asked = await graphql(WITHDRAW, {"currency": "EUR", "method": "CARD", "amount": "1.00", "forfeitBonuses": True})
        if asked["payment"] is not None and asked["payment"]["status"] in ("REQUESTED", "APPROVED"):
            await graphql(CANCEL, {"paymentId": asked["payment"]["id"]})

    async def limit(round_number: int) -> None:  # lower every round: applies at once
        await graphql(SET_LIMIT, {"kind": "DEPOSIT", "period": "WEEK", "amount": f"{1000 - round_number}.00"})

    async def profile(round_number: int) -> None:
        await graphql(UPDATE_PROFILE, {"firstName": f"Round {round_number}"})

    with recorded_statements(rt) as statements:
        for round_number in range(ROUNDS):
            await asyncio.gather(
                play(round_number, 1),
                play(round_number, 2),
                deposit(),
                bonus(),
                withdraw(),
                limit(round_number),
                profile(round_number),
            )

    # Every command answered in its protocol: business refusals only (a withdrawal racing a claim may meet
    # its bonus; a cancel may come after the payout), never RS_ERROR_UNKNOWN or INTERNAL.
    assert set(answers) <= {"RS_OK", "RS_ERROR_NOT_ENOUGH_MONEY", "BONUS_ACTIVE", "INVALID_STATE"}, answers
    assert answers.count("RS_OK") >= ROUNDS * 2, answers
    locks = [s for s in statements if ROW_LOCK.search(s) and PLAYER_ROWS.search(s)]
    assert [s for s in locks if TAG not in s] == []
    assert any("FROM players" in s for s in locks)  # both kinds were taken: the check above saw them
    assert any("FROM ledger_accounts" in s for s in locks)


async def test_a_players_row_asked_for_after_their_money_is_refused(rt: Any, make_player: Any) -> None:
    """The order is enforced where the locks are taken, not only by review; a new transaction starts afresh."""
    import pytest

    from services import wallet

    player = await make_player()
    async with rt.database.transaction() as db:
        accounts = await wallet.player_accounts(
            db, player.uuid, (await wallet._player(db, player.uuid)).brand_id, "EUR"
        )
        await wallet.lock_player_money(db, player.uuid, standing=True)  # in order: the row, then the money
        assert (await wallet.lock_player_money(db, player.uuid, cash=accounts.cash)).cash == 0
        with pytest.raises(wallet.LockOrderError):
            await wallet.lock_player_money(db, player.uuid, standing=True)
    async with rt.database.transaction() as db:
        assert (await wallet.lock_player_money(db, player.uuid, standing=True)).player is not None
