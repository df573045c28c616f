"""The catalogue is the contract: the published schemas are what the code generates, docs/events.md lists
every type, no schema has room for personal data, and `emit` refuses what the catalogue does not allow."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import text

from core import catalogue, outbox
from core.catalogue import (
    affiliate_fraud,
    affiliate_plans,
    affiliate_postbacks,
    affiliate_runs,
    affiliates,
    aml,
    aml_cases,
    aml_monitoring,
    bonuses,
    cashier,
    closed_loop,
    crypto,
    disputes,
    free_rounds,
    games,
    jackpots,
    kyc,
    kyc_documents,
    money,
    payment_routing,
    players,
    privacy,
    responsible_gambling,
    risk,
    tournaments,
)

ROOT = catalogue.SCHEMA_DIR.parents[1]
DOC = ROOT / "docs" / "events.md"
# Field names that would carry personal data: no event's data may have one, at any depth.
PERSONAL = re.compile(r"e_?mail|name|phone|birth|dob|address|street|postcode|zip|ip|user_agent|device|note|reason")
CODES = {"reason", "cause", "reference_type"}  # codes from the platform (enums, or reference kinds), not prose
# Text a machine wrote, not a person: a payment's failure reason is the PSP's (or the platform's) code and words;
# a dispute's reason is the PSP's chargeback reason code.
MACHINE_TEXT = {("payment", "reason"), ("dispute", "reason")}


def test_the_published_schemas_are_what_the_catalogue_generates() -> None:
    for t in catalogue.CATALOGUE.values():
        path = catalogue.schema_file(t)
        assert path.exists(), f"{path.name} is missing: run `croupier events schemas`"
        assert path.read_text() == catalogue.schema_text(t), f"{path.name} drifted: run `croupier events schemas`"


def test_no_stray_schema_file_is_published() -> None:
    expected = {catalogue.schema_file(t).name for t in catalogue.CATALOGUE.values()}
    published = {path.name for path in catalogue.SCHEMA_DIR.glob("*")}
    assert published == expected, f"stray: {sorted(published - expected)}; run `croupier events schemas`"


def test_every_type_is_catalogued_once() -> None:
    modules = (
        money,
        players,
        cashier,
        closed_loop,
        crypto,
        disputes,
        bonuses,
        responsible_gambling,
        games,
        free_rounds,
        kyc,
        kyc_documents,
        aml_cases,
        aml,
        aml_monitoring,
        privacy,
        risk,
        payment_routing,
        tournaments,
        jackpots,
        affiliate_fraud,
        affiliate_runs,
        affiliates,
        affiliate_plans,
        affiliate_postbacks,
    )
    names = [t.name for module in modules for t in module.TYPES]
    assert sorted(names) == sorted(catalogue.CATALOGUE), "a type is defined twice (the later one would win)"


def test_docs_list_every_type_with_its_summary_and_schema() -> None:
    doc = DOC.read_text()
    for t in catalogue.CATALOGUE.values():
        row = f"| [`{t.name}`](events/{t.name}.v{t.version}.json) | {t.version} | {t.summary} |"
        assert row in doc, f"docs/events.md lacks (or has an outdated) row for {t.name}:\n{row}"
    listed = set(re.findall(r"^\| \[`([a-z_]+\.[a-z_]+)`\]", doc, flags=re.MULTILINE))
    assert listed <= set(catalogue.CATALOGUE), (
        f"docs/events.md lists types not in the catalogue: {listed - set(catalogue.CATALOGUE)}"
    )


def test_the_example_in_the_docs_is_a_valid_event() -> None:
    example = json.loads(re.search(r"```json\n(.*?)\n```", DOC.read_text(), flags=re.DOTALL).group(1))  # type: ignore[union-attr]
    assert catalogue.problems(example) == []


def _fields(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, sub in (schema.get("properties") or {}).items():
        found.append((f"{path}{name}", sub))
        found += _fields(sub, f"{path}{name}.")
    items = schema.get("items")
    if isinstance(items, dict):
        found += _fields(items, path)
    return found


def test_no_event_has_room_for_personal_data() -> None:
    for t in catalogue.CATALOGUE.values():
        assert t.data.get("additionalProperties") is False, f"{t.name}: data must be a closed object"
        for name, schema in _fields(t.data):
            leaf = name.rsplit(".", 1)[-1]
            is_id = leaf.endswith("_id") and schema.get("format") == "uuid"  # an id (`tournament_id`), never a name
            personal = not is_id and PERSONAL.search(leaf) and leaf not in CODES
            assert not personal, f"{t.name}: field {name} looks like personal data"
            if leaf in CODES and leaf != "reference_type" and (t.name.split(".")[0], leaf) not in MACHINE_TEXT:
                assert "enum" in schema or "const" in schema, f"{t.name}: {name} must be a code (enum), not text"
            if schema.get("type") == "object":
                assert schema.get("additionalProperties") is False, f"{t.name}: {name} must be a closed object"


async def test_emit_refuses_a_type_not_in_the_catalogue(rt: Any) -> None:
    with pytest.raises(catalogue.UnknownEventType):
        async with rt.database.transaction() as db:
            await outbox.emit(db, "player.teleported", "player:x", {"player_id": "x"})
    async with rt.database.session() as db:
        assert await db.scalar(text("SELECT count(*) FROM outbox_events")) == 0


async def test_emit_refuses_data_that_breaks_its_schema_when_validation_is_on(rt: Any, monkeypatch: Any) -> None:
    good = {"player_id": "01938d2e-6a4f-7c1e-9a53-2f0c6a1b7d44", "fields": ["phone"]}
    bad = [
        {**good, "fields": ["email"]},  # not a field a profile change may name
        {**good, "phone": "+356 2123 4567"},  # a field the schema does not have
        {"player_id": good["player_id"]},  # a required field missing
        {**good, "player_id": "42"},  # not a UUID
    ]
    assert catalogue.validate_on_emit  # the suite's VALIDATE_EVENTS=true
    for data in bad:
        with pytest.raises(catalogue.InvalidEvent):
            async with rt.database.transaction() as db:
                await outbox.emit(db, "player.profile_changed", f"player:{good['player_id']}", data)
    async with rt.database.transaction() as db:
        await outbox.emit(db, "player.profile_changed", f"player:{good['player_id']}", good)
    monkeypatch.setattr(catalogue, "validate_on_emit", False)  # production: the type is still checked
    with pytest.raises(catalogue.UnknownEventType):
        async with rt.database.transaction() as db:
            await outbox.emit(db, "player.teleported", "player:x", {})
    async with rt.database.session() as db:
        rows = (await db.execute(text("SELECT topic, payload FROM outbox_events"))).all()
    assert [(topic, payload) for topic, payload in rows] == [("player.profile_changed", good)]
