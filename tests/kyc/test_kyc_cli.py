"""`croupier kyc`: the sweep that releases withdrawals left waiting by a crash after the commit that cleared
them, and recording a provider's result from the command line."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cashier.conftest import assert_ledger_ok, balances
from tests.kyc.conftest import RESTRICT, decide, payment_status, withdraw
from tests.kyc.test_kyc_flow import payment_uuid
from tests.test_audit import run_cli


async def test_the_release_sweep_moves_on_a_withdrawal_whose_release_was_lost(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    player = await make_player(balance="500.00 EUR")
    officer = await make_staff("kyc_officer")
    await decide(gql, officer, RESTRICT % "kycRestrict", player, reason="review")
    waiting = payment_uuid(await withdraw(gql, player, "150.00"))  # above automatic approval: finance decides

    async def crashed(rt: Any, player_id: Any) -> None:  # the process died between the commit and the release
        return None

    monkeypatch.setattr("services.kyc.actions.after_change", crashed)
    lifted = await decide(gql, officer, RESTRICT % "kycLiftRestriction", player, reason="fine")
    assert lifted["kyc"]["restricted"] is False
    assert await payment_status(rt, waiting) == "waiting_for_kyc"

    code, output = await run_cli("kyc", "release")
    assert (code, output.strip().splitlines()[-1]) == (0, "1 withdrawals released"), output
    assert await payment_status(rt, waiting) == "requested"  # in finance's queue now, still held
    assert await balances(rt, player.uuid) == (35000, 15000)
    code, output = await run_cli("kyc", "release")
    assert output.strip().splitlines()[-1] == "0 withdrawals released"
    await assert_ledger_ok(rt)


async def test_a_provider_result_is_recorded_from_the_command_line(rt: Any, make_player: Any) -> None:
    from sqlalchemy import select

    from models.kyc import KycCheck

    player = await make_player()
    code, output = await run_cli("kyc", "provider-check", str(player.uuid), "--provider", "demo-idv", "--failed")
    assert code == 0, output
    assert output.strip().splitlines()[-1] == "level registered, required registered, verified"
    async with rt.database.session() as db:
        checks = (await db.scalars(select(KycCheck).where(KycCheck.player_id == player.uuid))).all()
    assert [(c.provider, c.result, c.recorded_by_type) for c in checks] == [("demo-idv", "failed", "system")]
