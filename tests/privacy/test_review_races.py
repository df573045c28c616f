"""Review of erasure against money moving at the same time (issue 16 item 9)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.aml_cases.conftest import OPEN, Desk
from tests.kyc.conftest import deposit
from tests.kyc_documents.conftest import stored_objects
from tests.privacy.conftest import cli, holds_expired, raw_id
from tests.privacy.test_erasure import erase


async def test_review_a_deposit_that_read_the_player_before_their_erasure_does_not_pay_into_the_erased_account(
    rt: Any, gql: Any, psp: Any, make_player: Any, dpo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.cashier import deposits

    player = await make_player()
    real_payer = deposits._payer
    reads: list[str] = []

    async def erased_right_after_the_read(db: Any, viewer: Any, currency: str) -> Any:
        found = await real_payer(db, viewer, currency)
        reads.append(found[0].status)
        if len(reads) == 2:  # the deposit's own transaction read an active player: the officer erases now
            assert (await erase(gql, dpo, player))["errors"] == []
        return found

    monkeypatch.setattr(deposits, "_payer", erased_right_after_the_read)
    answer = await deposit(gql, psp, player, "25.00")

    assert reads == ["active", "active"]
    assert answer["payment"] is None, answer
    assert [e["code"] for e in answer["errors"]] == ["ACCOUNT_BLOCKED"], answer
    async with rt.database.session() as db:
        payments = await db.scalar(text("SELECT count(*) FROM payments WHERE player_id = :p"), {"p": player.uuid})
        money = await db.scalar(
            text("SELECT coalesce(sum(balance), 0) FROM ledger_accounts WHERE owner_type = 'player' AND owner_id = :p"),
            {"p": str(player.uuid)},
        )
    assert (payments, money) == (0, 0)


async def test_review_the_sweep_keeps_what_an_aml_case_opened_after_the_erasure_still_needs(
    rt: Any, gql: Any, seed: Any, dpo: Any, make_staff: Any
) -> None:
    seeded = await seed()
    assert (await erase(gql, dpo, seeded.player))["errors"] == []
    # Years later a law-enforcement request makes an officer open a case about the (pseudonymised) player.
    officer = await make_staff("kyc_officer")
    case = (
        await Desk(gql).ok(
            OPEN, officer.token, playerId=seeded.player.id, summary="Police request 2031/77", caseType="structuring"
        )
    )["case"]
    await holds_expired(rt, seeded.player)

    code, out, err = await cli("privacy", "sweep")

    assert code == 0, (out, err)
    async with rt.database.session() as db:
        summary = await db.scalar(text("SELECT summary FROM aml_cases WHERE id = :c"), {"c": raw_id(case["id"])})
        first_name = await db.scalar(text("SELECT first_name FROM players WHERE id = :p"), {"p": seeded.player.uuid})
        released = await db.scalar(
            text("SELECT count(*) FROM privacy_holds WHERE player_id = :p AND released_at IS NOT NULL"),
            {"p": seeded.player.uuid},
        )
    # The open case, and the identity it is about, stay while it is open; nothing of the player is released.
    assert (summary, first_name, released) == ("Police request 2031/77", seeded.first_name, 0)
    assert f"erased aml of {seeded.player.uuid}" not in out


async def test_review_the_sweep_releases_the_documents_hold_only_once_their_file_is_deleted(
    rt: Any, gql: Any, seed: Any, dpo: Any
) -> None:
    seeded = await seed()
    assert (await erase(gql, dpo, seeded.player))["errors"] == []
    await holds_expired(rt, seeded.player)
    [stored] = [p for p in stored_objects(rt) if str(seeded.player.uuid) in str(p)]
    # The store refuses the delete (here: a directory stands where the file was; for S3, an outage).
    kept = stored.read_bytes()
    stored.unlink()
    stored.mkdir()
    (stored / "x").write_bytes(kept)

    code, out, err = await cli("privacy", "sweep")
    assert code == 0, (out, err)
    assert f"erased kyc_documents of {seeded.player.uuid}" not in out
    assert f"erased identity of {seeded.player.uuid}" in out  # the other holds are not held up by it
    async with rt.database.session() as db:
        open_holds = await db.scalars(
            text("SELECT category FROM privacy_holds WHERE player_id = :p AND released_at IS NULL"),
            {"p": seeded.player.uuid},
        )
        assert list(open_holds) == ["kyc_documents"]

    # The store works again: the next sweep deletes the file and releases the hold.
    (stored / "x").unlink()
    stored.rmdir()
    stored.write_bytes(kept)
    code, out, err = await cli("privacy", "sweep")
    assert (code, f"erased kyc_documents of {seeded.player.uuid}" in out) == (0, True), (out, err)
    assert not stored.exists()
