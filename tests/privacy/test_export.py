"""A player's data export: every category, only their data, one consistent read, audited; the player's
own copy withholds the AML categories the same way for everyone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tests.conftest import error_codes
from tests.privacy.conftest import EXPORT, MINE, cli

EVERY_CATEGORY = (
    "account",
    "sessions",
    "payments",
    "ledger",
    "games",
    "kyc",
    "aml",
    "responsible_gambling",
    "staff_notes",
    "events",
    "audit",
)


async def test_the_export_holds_every_category_of_the_player_and_nothing_of_another(
    rt: Any, seed: Any, tmp_path: Path
) -> None:
    mine, theirs = await seed(), await seed()
    out = tmp_path / "export.json"
    code, stdout, stderr = await cli("privacy", "export", mine.player.email, "--out", str(out))
    assert code == 0, (stdout, stderr)
    document = json.loads(out.read_text())
    assert (document["format"], document["audience"], document["player_id"]) == (
        "croupier.player-data-export/1", "staff", str(mine.player.uuid)
    )  # fmt: skip
    empty = [c for c in EVERY_CATEGORY if not any(document["categories"][c].values())]
    assert empty == [], f"categories with no rows: {empty}"
    categories = document["categories"]
    account = categories["account"]["players"][0]
    assert (account["email"], account["first_name"], account["last_name"], account["phone"]) == (
        mine.player.email, mine.first_name, mine.last_name, mine.phone
    )  # fmt: skip
    assert (account["address_line1"], account["city"], account["postal_code"], account["country"]) == (
        mine.street, "Valletta", "VLT 1010", "MT"
    )  # fmt: skip
    assert "password_hash" not in account  # secrets are never exported
    assert all("token" not in s for s in categories["sessions"]["game_sessions"])
    deposit = categories["payments"]["payments"][0]
    assert (deposit["kind"], deposit["amount"], deposit["currency"]) == ("deposit", 2500, "EUR")  # minor units
    assert [r["total_bet"] for r in categories["games"]["game_rounds"]] == [2500]
    document_row = categories["kyc"]["kyc_documents"][0]
    assert len(document_row["sha256"]) == 64
    assert "object_key" not in document_row
    assert [c["summary"] for c in categories["aml"]["aml_cases"]] == [f"Check {mine.last_name}"]
    assert [(lim["kind"], lim["amount"]) for lim in categories["responsible_gambling"]["rg_limits"]] == [
        ("deposit", 50000)
    ]
    text_of_it = out.read_text()
    for leak in (str(theirs.player.uuid), theirs.player.email, theirs.first_name, theirs.last_name, theirs.street):
        assert leak not in text_of_it

    async with rt.database.session() as db:
        audited = (
            await db.execute(
                text("SELECT actor_type, after FROM audit_log WHERE action = 'privacy.exported' AND target_id = :p"),
                {"p": str(mine.player.uuid)},
            )
        ).all()
        topics = (
            (
                await db.execute(
                    text("SELECT payload FROM outbox_events WHERE topic = 'privacy.exported' AND key = :k"),
                    {"k": f"player:{mine.player.uuid}"},
                )
            )
            .scalars()
            .all()
        )
    assert [(a.actor_type, a.after["audience"]) for a in audited] == [("system", "staff")]
    assert [t["audience"] for t in topics] == ["staff"]


async def test_the_players_own_copy_withholds_aml_the_same_way_with_or_without_a_case(
    seed: Any, make_player: Any, gql: Any
) -> None:
    investigated = await seed()
    never = await make_player()
    copies = []
    for player in (investigated.player, never):
        body = await gql(MINE, token=player.token)
        assert "errors" not in body, body
        copies.append(body["data"]["myDataExport"])
    for copy in copies:
        assert copy["audience"] == "subject"
        assert "aml" not in copy["categories"]
        assert not any(str(r["action"]).startswith("aml.") for r in copy["categories"]["audit"]["audit_log"])
    assert copies[0]["withheld"] == copies[1]["withheld"] != []
    assert copies[0]["categories"]["account"]["players"][0]["first_name"] == investigated.first_name
    assert f"Check {investigated.last_name}" not in json.dumps(copies[0])  # the case's summary: withheld


async def test_a_player_gets_a_few_copies_a_day(make_player: Any, gql: Any) -> None:
    player = await make_player()
    answers = [await gql(MINE, token=player.token) for _ in range(6)]
    assert [error_codes(a) for a in answers] == [[]] * 5 + [["RATE_LIMITED"]]


async def test_staff_export_follows_the_brand_scope(
    seed: Any, gql: Any, make_staff: Any, make_player: Any, other_brand: Any
) -> None:
    seeded = await seed()
    elsewhere = await make_staff(("dpo", "northstar"))
    body = await gql(EXPORT, {"input": {"playerId": seeded.player.id}}, token=elsewhere.token)
    assert [e["code"] for e in body["data"]["exportPlayerData"]["errors"]] == ["NOT_FOUND"]


async def test_the_command_line_zips_the_decrypted_documents_beside_the_export(
    rt: Any, seed: Any, tmp_path: Path
) -> None:
    import hashlib
    import zipfile

    seeded = await seed()
    out = tmp_path / "export.zip"
    code, stdout, stderr = await cli("privacy", "export", str(seeded.player.uuid), "--documents", "--out", str(out))
    assert code == 0, (stdout, stderr)
    with zipfile.ZipFile(out) as archive:
        document = json.loads(archive.read("export.json"))
        rows = document["categories"]["kyc"]["kyc_documents"]
        files = {name: archive.read(name) for name in archive.namelist() if name.startswith("documents/")}
    assert len(rows) == len(files) == 1
    [(name, data)] = files.items()
    assert name == f"documents/{rows[0]['id']}-identity"
    assert hashlib.sha256(data).hexdigest() == rows[0]["sha256"]  # the very file KYC checked
    assert data.startswith(b"%PDF")
