"""A/B test helpers: GraphQL documents and an experiment made through them."""

from __future__ import annotations

from typing import Any

CREATE = """mutation($input: CreateExperimentInput!) { createExperiment(input: $input) {
  experiment { id name status subjectKind variants { key weight } holdoutPpm metric { kind days } currency winner }
  errors { code field message } } }"""
START = """mutation($id: ID!) { startExperiment(input: {id: $id}) { experiment { id status startedAt }
  errors { code field message } } }"""
STOP = """mutation($id: ID!, $winner: String) { stopExperiment(input: {id: $id, winner: $winner}) {
  experiment { id status winner stoppedAt } errors { code field message } } }"""
UPDATE = """mutation($input: UpdateExperimentInput!) { updateExperiment(input: $input) {
  experiment { id name variants { key weight } holdoutPpm } errors { code field message } } }"""
RESULT = """query($id: ID!) { crmExperimentResult(id: $id) { metric days currency variants {
  variant control exposed converted rate { estimate low high } difference { estimate low high }
  ngrMean { amount currency } ngrDifference { estimate low high } } } }"""


def design(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Welcome mail subject",
        "subjectKind": "JOURNEY",
        "variants": [{"key": "control", "weight": 1}, {"key": "bold", "weight": 1}],
        "holdoutPpm": 100_000,
        "metric": {"kind": "DEPOSITED", "days": 7},
        **overrides,
    }


async def create(gql: Any, token: str, **overrides: Any) -> dict[str, Any]:
    body = await gql(CREATE, {"input": design(**overrides)}, token=token)
    payload: dict[str, Any] = body["data"]["createExperiment"]
    return payload
