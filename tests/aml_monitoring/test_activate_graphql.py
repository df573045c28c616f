"""The MLRO activates a monitoring version through GraphQL (`activateAmlMonitoringVersion`), the same
service call as `croupier aml activate-version`: audited with the MLRO and their reason, announced; nobody
else may."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from authz.subjects import Viewer
from models.audit import AuditRecord
from models.outbox import OutboxEvent
from services.aml.monitoring import rules, versions
from tests.aml_monitoring.test_versions import stricter  # noqa: F401  (fixture: a second version's rules)
from tests.test_authz import ROLES, role_set, shared_authorizer, staff_holding

ACTIVATE = """mutation($input: ActivateAmlMonitoringVersionInput!) {
  activateAmlMonitoringVersion(input: $input) {
    version { version live activatedAt } errors { code field message } } }"""


@pytest.fixture
async def second(rt: Any, stricter: rules.Version) -> int:  # noqa: F811
    async with rt.database.transaction() as db:
        await versions.ensure_default(db)
        stored = await versions.add(db, stricter, actor=Viewer(), reason="tighter structuring")
    return stored.number


async def activate(gql: Any, token: str | None, version: int, reason: str = "backtest reviewed") -> Any:
    return await gql(ACTIVATE, {"input": {"version": version, "reason": reason}}, token=token)


async def test_the_mlro_activates_a_version_audited_and_announced(
    rt: Any, gql: Any, make_staff: Any, second: int
) -> None:
    mlro = await make_staff("mlro")
    body = await activate(gql, mlro.token, second, "backtest reviewed on 3 months")
    payload = body["data"]["activateAmlMonitoringVersion"]
    assert payload["errors"] == [], body
    assert (payload["version"]["version"], payload["version"]["live"]) == (second, True)
    async with rt.database.session() as db:
        assert await versions.live_number(db) == second
        record = (
            await db.execute(
                select(AuditRecord.actor_id, AuditRecord.reason, AuditRecord.before, AuditRecord.after).where(
                    AuditRecord.action == "aml.monitoring_version_activated"
                )
            )
        ).one()
        topics = (
            await db.scalars(select(OutboxEvent.topic).where(OutboxEvent.topic == "aml.scenario_activated"))
        ).all()
    assert (str(record[0]), record[1], record[2], record[3]) == (
        str(mlro.id),
        "backtest reviewed on 3 months",
        {"live": 1},
        {"live": second},
    )
    assert len(topics) == 1

    again = (await activate(gql, mlro.token, second))["data"]["activateAmlMonitoringVersion"]
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("INVALID_STATE", "version")]
    missing = (await activate(gql, mlro.token, 99))["data"]["activateAmlMonitoringVersion"]
    assert [(e["code"], e["field"]) for e in missing["errors"]] == [("NOT_FOUND", "version")]
    blank = (await activate(gql, mlro.token, 1, " "))["data"]["activateAmlMonitoringVersion"]
    assert [e["field"] for e in blank["errors"]] == ["reason"]


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("anonymous", "mlro")])
async def test_only_the_mlro_activates(
    role: str, settings: Any, rt: Any, gql: Any, make_player: Any, make_staff: Any, second: int
) -> None:
    token = (await make_player()).token if role == "player" else (await staff_holding(make_staff, role)).token
    body = await activate(gql, token, second)
    roles, brand_code = role_set(role)
    allowed = any(
        shared_authorizer(settings).enforce(r, brand_code, "Mutation.activateAmlMonitoringVersion") for r in roles
    )
    assert allowed == (role == "superadmin")
    async with rt.database.session() as db:
        live = await versions.live_number(db)
    if allowed:
        assert body["data"]["activateAmlMonitoringVersion"]["errors"] == [], body
        assert live == second
    else:
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (role, body)
        assert live == 1
