"""`croupier ledger verify` across tables (services/ledger_checks.py): provider transactions against their
ledger transactions, settled payments against theirs, bonus accounts against the open bonuses. Each check
passes on books the platform wrote and reports books an intruder broke with raw SQL (exit 1)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from integrations.hub88 import Hub88Dialect
from integrations.pragmatic_wire import METHODS as PRAGMATIC_METHODS
from integrations.pragmatic_wire import PragmaticDialect
from integrations.softswiss import SoftswissDialect
from services.ledger_checks import PROVIDER_OK
from services.provider_wallet import Status
from tests.bonuses.conftest import CLAIM, campaign, rules  # noqa: F401  (fixture)
from tests.cashier.conftest import DemoPsp, psp  # noqa: F401  (fixture)
from tests.cashier.test_graphql import DEPOSIT
from tests.ledger.test_ledger import run_ledger_verify
from tests.providers.conftest import Aggregator, Seat, aggregator, aggregator_key, hub88_provider, seat  # noqa: F401

EUR = 1000  # Hub88 units per cent


def test_every_protocol_answers_ok_as_the_checks_read_it() -> None:
    assert {Hub88Dialect().status_code(Status.OK), SoftswissDialect().status_code(Status.OK)} <= set(PROVIDER_OK)
    assert {PragmaticDialect(method).status_code(Status.OK) for method in PRAGMATIC_METHODS} <= set(PROVIDER_OK)


async def tamper(rt: Any, sql: str, **params: Any) -> None:
    """Change the books as an intruder would: raw SQL past the triggers."""
    async with rt.database.transaction() as db:
        await db.execute(text("SET LOCAL session_replication_role = replica"))
        await db.execute(text(sql), params)


def assert_reported(check: str) -> None:
    found = run_ledger_verify()
    assert found.returncode == 1, found.stdout + found.stderr
    assert check in found.stdout, found.stdout


def assert_clean() -> None:
    clean = run_ledger_verify()
    assert clean.returncode == 0, clean.stdout + clean.stderr


async def a_bet(seat: Any, aggregator: Aggregator) -> str:  # noqa: F811
    """A bet of 1.00 and its win of 0.50, both answered OK; the bet's transaction uuid."""
    player: Seat = await seat(balance=10_00)
    bet = player.bet(100 * EUR)
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    won = await aggregator.call("transaction/win", player.win(50 * EUR, bet["transaction_uuid"]))
    assert won["status"] == "RS_OK"
    assert_clean()
    return str(bet["transaction_uuid"])


@pytest.mark.tampers
async def test_verify_finds_a_provider_ledger_transaction_its_provider_transaction_lost(
    rt: Any,
    seat: Any,  # noqa: F811
    aggregator: Aggregator,  # noqa: F811
) -> None:
    tx = await a_bet(seat, aggregator)
    await tamper(rt, "DELETE FROM provider_transactions WHERE transaction_uuid = :tx", tx=tx)
    assert_reported("provider ledger transaction is not named by exactly one provider transaction")


@pytest.mark.tampers
async def test_verify_finds_a_provider_transaction_that_disagrees_with_its_ledger_transaction(
    rt: Any,
    seat: Any,  # noqa: F811
    aggregator: Aggregator,  # noqa: F811
) -> None:
    tx = await a_bet(seat, aggregator)  # told "not enough money", yet the ledger took the stake
    await tamper(
        rt, "UPDATE provider_transactions SET status = 'RS_ERROR_NOT_ENOUGH_MONEY' WHERE transaction_uuid = :tx", tx=tx
    )
    assert_reported("provider transaction differs from its ledger transaction")


@pytest.mark.tampers
async def test_verify_finds_an_ok_provider_transaction_without_its_ledger_transaction(
    rt: Any,
    seat: Any,  # noqa: F811
    aggregator: Aggregator,  # noqa: F811
) -> None:
    tx = await a_bet(seat, aggregator)
    await tamper(
        rt, "UPDATE provider_transactions SET ledger_transaction_id = NULL WHERE transaction_uuid = :tx", tx=tx
    )
    assert_reported("OK provider transaction moved money without a ledger transaction")


@pytest.mark.tampers
async def test_verify_finds_a_settled_payment_that_differs_from_its_ledger_transaction(
    rt: Any,
    gql: Any,
    make_player: Any,
    psp: DemoPsp,  # noqa: F811
) -> None:
    player = await make_player()
    variables = {"input": {"currency": "EUR", "method": "CARD", "amount": "25.00", "pspToken": await psp.tokenise()}}
    done = (await gql(DEPOSIT, variables, token=player.token))["data"]["deposit"]
    assert done["payment"]["status"] == "SUCCEEDED", done
    assert_clean()
    await tamper(rt, "UPDATE payments SET amount = amount + 100 WHERE player_id = :p", p=player.uuid)
    assert_reported("settled payment differs from its ledger transaction")


@pytest.mark.tampers
async def test_verify_finds_bonus_money_no_open_bonus_holds(
    rt: Any,
    gql: Any,
    make_player: Any,
    campaign: Any,  # noqa: F811
) -> None:
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}), code="FREE10")
    player = await make_player()
    claimed = (await gql(CLAIM, {"input": {"code": "FREE10"}}, token=player.token))["data"]["claimBonus"]
    assert claimed["bonus"]["status"] == "ACTIVE", claimed
    assert_clean()
    await tamper(rt, "UPDATE player_bonuses SET status = 'expired' WHERE player_id = :p", p=player.uuid)
    assert_reported("player's bonus balance differs from their open bonuses'")
