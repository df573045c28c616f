"""KYC fixtures: GraphQL operations, a player's KYC as they see it, officers, and the requirement seams.

The documents (`document:<kind>`) and screening (`screening_clear`) requirements belong to other modules
(kyc-docs, aml-screening), reached through services/kyc/requirements.py's registry. Until they are merged,
`documents_and_screening_clear` registers checkers that answer as those modules will for a player whose
documents are approved and whose screening is clear; `test_requirement_seams.py` checks the seam itself
(fail closed while a module is absent, dispatch to what is registered)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.cashier.conftest import DemoPsp, psp  # noqa: F401  (fixture)

DEPOSIT = """
mutation($input: DepositInput!) {
  deposit(input: $input) {
    payment { id status amount { amount currency } }
    errors { code field message kyc { requiredLevel trigger nextStep } }
  }
}"""
WITHDRAW = """
mutation($input: RequestWithdrawalInput!) {
  requestWithdrawal(input: $input) {
    payment { id status amount { amount currency } }
    errors { code field message kyc { requiredLevel trigger nextStep } }
  }
}"""
KYC_FIELDS = """level requiredLevel status levels nextLevel reason requested restricted
  nextSteps { requirement nextStep playerCanAct }"""
MY_KYC = "{ me { kyc { " + KYC_FIELDS + " } } }"  # (not highRisk: staff's mark, denied to players)
PLAYER_KYC = "query($id: ID!) { player(id: $id) { kyc { " + KYC_FIELDS + " highRisk } } }"
DECIDE = """
mutation($input: KycLevelDecisionInput!) {
  %s(input: $input) { kyc { level status requiredLevel } awaitingSecondApproval errors { code field message } }
}"""
APPROVE = DECIDE % "kycApproveLevel"
REJECT = DECIDE % "kycRejectLevel"
REQUEST_MORE = """
mutation($input: KycRequestMoreInput!) {
  kycRequestMore(input: $input) { kyc { status requested } errors { code field message } }
}"""
RESTRICT = """
mutation($input: KycRestrictionInput!) {
  %s(input: $input) { kyc { status restricted } errors { code field message } }
}"""
PROVIDER_CHECK = """
mutation($input: KycProviderCheckInput!) {
  kycRecordProviderCheck(input: $input) { kyc { level status nextSteps { requirement } } errors { code field } }
}"""
HIGH_RISK = """
mutation($input: KycHighRiskInput!) {
  kycSetHighRisk(input: $input) { kyc { highRisk } errors { code field } }
}"""
QUEUE = """
query($status: KycStatus) { kycReviewQueue(status: $status, first: 50) {
  edges { node { level requiredLevel requiredTrigger status highRisk player { id email } } } } }"""


@pytest.fixture
def documents_and_screening_clear() -> Iterator[None]:
    """Stand-ins for kyc-docs' `approved_document_kinds` and aml-screening's `screening_clear` (see above)."""
    from services.kyc import requirements

    async def approved(db: Any, player_id: uuid.UUID, level: str, requirement: str) -> bool:
        return True

    before = {name: requirements.register(name, approved) for name in ("document", "screening_clear")}
    yield
    for name, checker in before.items():
        requirements.register(name, checker)


async def my_kyc(gql: Any, player: Any) -> dict[str, Any]:
    body = await gql(MY_KYC, token=player.token)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["me"]["kyc"]
    return found


async def deposit(gql: Any, cashier: DemoPsp, player: Any, amount: str) -> dict[str, Any]:
    body = await gql(
        DEPOSIT,
        {"input": {"currency": "EUR", "method": "CARD", "amount": amount, "pspToken": await cashier.tokenise()}},
        token=player.token,
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["deposit"]
    return payload


async def withdraw(gql: Any, player: Any, amount: str, currency: str = "EUR") -> dict[str, Any]:
    body = await gql(
        WITHDRAW,
        {
            "input": {
                "currency": currency,
                "method": "BANK_TRANSFER",
                "amount": amount,
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        token=player.token,
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["requestWithdrawal"]
    return payload


async def decide(gql: Any, officer: Any, operation: str, player: Any, **input: Any) -> dict[str, Any]:
    body = await gql(operation, {"input": {"playerId": player.id, **input}}, token=officer.token)
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


async def payment_status(rt: Any, payment_id: uuid.UUID) -> str:
    from models.payments import Payment

    async with rt.database.session() as db:
        found = await db.get(Payment, payment_id)
    assert found is not None
    return found.status


async def payments_of(rt: Any, player_uuid: uuid.UUID, kind: str) -> int:
    from models.payments import Payment

    async with rt.database.session() as db:
        return int(
            await db.scalar(
                select(func.count()).select_from(Payment).where(Payment.player_id == player_uuid, Payment.kind == kind)
            )
            or 0
        )


async def audit_actions(rt: Any, player_uuid: uuid.UUID) -> list[str]:
    from models.audit import AuditRecord

    async with rt.database.session() as db:
        rows = await db.scalars(
            select(AuditRecord.action).where(AuditRecord.target_id == str(player_uuid)).order_by(AuditRecord.seq)
        )
        return [str(r) for r in rows.all() if r.startswith("kyc.")]


async def events_of(rt: Any, player_uuid: uuid.UUID, prefix: str) -> list[dict[str, Any]]:
    from models.outbox import OutboxEvent

    async with rt.database.session() as db:
        rows = await db.scalars(
            select(OutboxEvent).where(OutboxEvent.key == f"player:{player_uuid}").order_by(OutboxEvent.id)
        )
        return [{"type": e.topic, **e.payload} for e in rows.all() if e.topic.startswith(prefix)]


async def fully_verified(rt: Any, player_uuid: uuid.UUID) -> None:
    """Mark a player verified at their profile's top level, as if every review had passed: for tests of other
    modules whose deposits cross the KYC thresholds (services/kyc/levels.toml) but are not about KYC."""
    from models.players import Player
    from services.kyc.state import lock_state, profile_of

    async with rt.database.transaction() as db:
        player = await db.get(Player, player_uuid)
        assert player is not None
        state = await lock_state(db, player)
        top = profile_of(player).levels[-1]
        state.level, state.level_rank = top.code, top.rank


# ---- identity verification: the demo IDV provider (tests deliver its held webhooks) ----------------------

START_VERIFICATION = """
mutation($input: KycStartVerificationInput) {
  kycStartVerification(input: $input) {
    url verification { provider status reviewAnswer rejectType canStart }
    errors { code field message }
  }
}"""
MY_VERIFICATION = "{ me { kyc { status nextSteps { requirement } verification { provider status reviewAnswer "
MY_VERIFICATION += "rejectType rejectLabels canStart reviewedAt } } } }"


class DemoIdv:
    """Drives the demo IDV provider: its control API, its hosted flow (as the player's browser would), and
    the webhooks it signed (held in its log: `deliver` posts them to the platform byte for byte)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def configure(self, **behaviour: Any) -> None:
        response = await self.http.post("/control/behaviour", json=behaviour)
        assert response.status_code == 200, response.text

    async def applicants(self, player: Any) -> list[dict[str, Any]]:
        response = await self.http.get("/control/applicants", params={"external_user_id": str(player.uuid)})
        return list(response.json())

    async def submit(self, url: str, result: str) -> None:
        """The player's browser on the hosted flow: the page, then the form's button."""
        page = await self.http.get(url)
        assert page.status_code == 200, page.text
        assert "<form" in page.text, page.text
        answer = await self.http.post(url, data={"document": "Passport", "result": result})
        assert answer.status_code == 200, answer.text

    async def webhooks(self, player: Any) -> list[dict[str, Any]]:
        response = await self.http.get("/control/webhooks", params={"external_user_id": str(player.uuid)})
        return list(response.json())

    async def review(self, client: httpx.AsyncClient, player: Any, url: str, result: str) -> list[tuple[str, str]]:
        """The player submits on the hosted flow and the webhooks it causes reach the platform, in order:
        (event type, the platform's result) for each."""
        before = len(await self.webhooks(player))
        await self.submit(url, result)
        answers = []
        for delivery in (await self.webhooks(player))[before:]:
            answer = await deliver_idv(client, delivery)
            assert answer.status_code == 200, answer.text
            answers.append((delivery["event_type"], str(answer.json()["result"])))
        return answers


@pytest.fixture
async def idv(demo_idv: str) -> AsyncIterator[DemoIdv]:
    async with httpx.AsyncClient(base_url=demo_idv, timeout=10) as http:
        await http.post("/control/reset")
        await http.post("/control/behaviour", json={"webhook": "hold"})
        yield DemoIdv(http)
        await http.post("/control/reset")


async def deliver_idv(client: httpx.AsyncClient, delivery: dict[str, Any]) -> httpx.Response:
    """POST a webhook the demo IDV provider signed to the platform, exactly as the provider would."""
    return await client.post(
        "/webhooks/idv/sumsub",
        content=delivery["body"],
        headers={
            "content-type": "application/json",
            "x-payload-digest": delivery["digest"],
            "x-payload-digest-alg": "HMAC_SHA256_HEX",
        },
    )


async def start_verification(gql: Any, player: Any) -> dict[str, Any]:
    body = await gql(START_VERIFICATION, {"input": {"lang": "en"}}, token=player.token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["kycStartVerification"]
    return payload


async def my_verification(gql: Any, player: Any) -> dict[str, Any]:
    body = await gql(MY_VERIFICATION, token=player.token)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["me"]["kyc"]
    return found
