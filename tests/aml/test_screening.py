"""Screening through the public surface: registration and name changes screened by the consumer, the
false-positive memory, a rescreen after a list change, the decision audited."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from authz.subjects import Viewer
from models.aml import AlertState
from services.aml import alerts, lists
from services.aml.rescreen import rescreen
from services.aml.screening import current_index, screening_clear

UPDATE = """
mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { player { firstName } errors { code } } }"""


async def test_a_latin_registration_matching_a_cyrillic_list_entry_is_caught(
    rt: Any, make_player: Any, screening: Any
) -> None:
    # The sample list has only "Дмитрий Олегович Сарычев" (no Latin alias), born 1968-04-12, Russian.
    caught = await make_player(firstName="Dmitriy", lastName="Sarychev", born=date(1968, 4, 12))
    other = await make_player(firstName="Ada", lastName="Lovelace", born=date(1985, 12, 10))
    await screening.drain()

    [alert] = await screening.alerts(caught.uuid)
    assert alert["entity_id"] == "croupier-fictional-0001"
    assert alert["state"] == "open"
    assert alert["score"] >= 0.9
    why = json.loads(alert["why"])
    assert why["listed_name"] == "Дмитрий Олегович Сарычев"
    assert why["birth_date"] == "same_day"
    assert await screening.alerts(other.uuid) == []
    async with rt.database.session() as db:
        assert not await screening_clear(db, caught.uuid)
        assert await screening_clear(db, other.uuid)
    raised = await screening.conn.fetch("SELECT payload FROM outbox_events WHERE topic = 'aml.screening_alert_raised'")
    assert [json.loads(r["payload"])["alert_id"] for r in raised] == [str(alert["id"])]


async def test_a_name_change_is_screened_and_redelivery_changes_nothing(
    gql: Any, make_player: Any, screening: Any
) -> None:
    player = await make_player(firstName="Ann", lastName="Smith", born=date(1972, 3, 3))
    await screening.drain()
    assert await screening.alerts(player.uuid) == []

    body = await gql(UPDATE, {"input": {"firstName": "Xiaoming", "lastName": "Zhang"}}, token=player.token)
    assert body["data"]["updateProfile"]["errors"] == []
    await screening.drain()
    [alert] = await screening.alerts(player.uuid)
    assert alert["entity_id"] == "croupier-fictional-0009"  # 张晓明

    # Every event applied again (a replay): no second alert.
    await screening.conn.execute("DELETE FROM consumer_processed WHERE consumer = 'aml-screening'")
    await screening.conn.execute("UPDATE event_consumers SET cursor = 0 WHERE name = 'aml-screening'")
    await screening.drain()
    assert len(await screening.alerts(player.uuid)) == 1


async def test_a_false_positive_is_remembered_until_the_details_change(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, screening: Any
) -> None:
    player = await make_player(firstName="Mohammed", lastName="Al-Harbi", born=date(1970, 9, 9))
    await screening.drain()
    [alert] = await screening.alerts(player.uuid)
    officer = await make_staff("kyc_officer")
    viewer = Viewer(kind="staff", id=officer.id, brand_id=None, roles=frozenset({"kyc_officer"}))
    decided = await alerts.decide(rt, viewer, alert["id"], AlertState.FALSE_POSITIVE, "different person: passport")
    assert decided.state == "false_positive"

    index = current_index(rt.settings)
    done = await rescreen(screening.conn, index, everyone=True)
    assert done.screened >= 1
    assert done.raised == 0
    assert [a["state"] for a in await screening.alerts(player.uuid)] == ["false_positive"]

    # The player's name changes (still a match): the pair is screened anew.
    body = await gql(UPDATE, {"input": {"firstName": "Muhammad"}}, token=player.token)
    assert body["data"]["updateProfile"]["errors"] == []
    await screening.drain()
    assert [a["state"] for a in await screening.alerts(player.uuid)] == ["false_positive", "open"]

    audit = await screening.conn.fetch("SELECT action, reason FROM audit_log WHERE action LIKE 'aml.%'")
    assert [(r["action"], r["reason"]) for r in audit] == [
        ("aml.screening_alert_decided", "different person: passport")
    ]


async def test_rescreen_after_a_list_change_catches_players_registered_before(
    rt: Any, make_player: Any, screening: Any, tmp_path: Path
) -> None:
    player = await make_player(firstName="Ingrid", lastName="Thorvaldsdottir", born=date(1979, 5, 5))
    await screening.drain()
    assert await screening.alerts(player.uuid) == []

    folder = tmp_path / "lists"
    folder.mkdir()
    shutil.copy(lists.SAMPLE / "sanctions.ftm.json", folder / "sanctions.ftm.json")
    entity = {
        "id": "croupier-fictional-0100",
        "schema": "Person",
        "properties": {"name": ["Ingrid Thorvaldsdóttir"], "birthDate": ["1979-05-05"], "topics": ["role.pep"]},
        "datasets": ["croupier_fictional"],
    }
    (folder / "update.json").write_text(json.dumps(entity, ensure_ascii=False) + "\n", encoding="utf-8")
    settings = rt.settings.model_copy(update={"aml_lists_path": folder})
    index = current_index(settings)
    assert index.version != current_index(rt.settings).version

    seen: list[int] = []
    first = await rescreen(screening.conn, index, batch=1, progress=lambda p: seen.append(p.screened))
    assert first.raised == 1
    assert seen == list(range(1, first.total + 1))
    [alert] = await screening.alerts(player.uuid)
    assert alert["entity_id"] == "croupier-fictional-0100"
    assert alert["list_version"] == index.version
    again = await rescreen(screening.conn, index)  # resumable and idempotent: nobody left to screen
    assert (again.total, again.raised) == (0, 0)
