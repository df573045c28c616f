"""AML case fixtures: the desk's staff and GraphQL helpers for the case mutations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cashier.conftest import card_deposit, psp  # noqa: F401  (fixtures: a real payment for evidence)

CASE_FIELDS = "id state outcome caseType summary overdue awaitingSecondMlro restricted assignee { id }"
OPEN = (
    "mutation($input: OpenAmlCaseInput!) { openAmlCase(input: $input) { case { "
    + CASE_FIELDS
    + " } errors { code field message } } }"
)
ASSIGN = (
    "mutation($input: AssignAmlCaseInput!) { assignAmlCase(input: $input) { case { "
    + CASE_FIELDS
    + " } errors { code field message } } }"
)
NOTE = """mutation($input: AddAmlCaseNoteInput!) {
  addAmlCaseNote(input: $input) { note { id body } errors { code field message } } }"""
EVIDENCE = """mutation($input: AddAmlCaseEvidenceInput!) {
  addAmlCaseEvidence(input: $input) { evidence { id kind refId } errors { code field message } } }"""
STATE = (
    "mutation($input: ChangeAmlCaseStateInput!) { changeAmlCaseState(input: $input) { case { "
    + CASE_FIELDS
    + " } errors { code field message } } }"
)
CLOSE = (
    "mutation($input: CloseAmlCaseInput!) { closeAmlCase(input: $input) { case { "
    + CASE_FIELDS
    + " } errors { code field message } } }"
)
RESTRICT = (
    "mutation($input: SetAmlRestrictionInput!) { setAmlRestriction(input: $input) { case { "
    + CASE_FIELDS
    + " } errors { code field message } } }"
)
EXPORT = """mutation($input: ExportSarInput!) {
  exportSar(input: $input) { sar { reportCode fileName xml } errors { code field message } } }"""


class Desk:
    """Calls a case mutation and returns its payload."""

    def __init__(self, gql: Any) -> None:
        self.gql = gql

    async def __call__(self, query: str, token: str, **input: Any) -> dict[str, Any]:
        body = await self.gql(query, {"input": input}, token=token)
        assert not body.get("errors"), body
        payload: dict[str, Any] = next(iter(body["data"].values()))
        return payload

    async def ok(self, query: str, token: str, **input: Any) -> dict[str, Any]:
        payload = await self(query, token, **input)
        assert payload["errors"] == [], payload
        return payload

    async def refused(self, query: str, token: str, **input: Any) -> str:
        payload = await self(query, token, **input)
        assert len(payload["errors"]) == 1, payload
        code: str = payload["errors"][0]["code"]
        return code


@pytest.fixture
def desk(gql: Any) -> Desk:
    return Desk(gql)


@pytest.fixture
async def kyc(make_staff: Any) -> Any:
    return await make_staff("kyc_officer")


@pytest.fixture
async def mlro(make_staff: Any) -> Any:
    return await make_staff("mlro")


@pytest.fixture
async def second_mlro(make_staff: Any) -> Any:
    return await make_staff("mlro")
