"""Onboarding a Pragmatic Play provider through GraphQL, as a content manager does it: protocol PRAGMATIC with a
secret reference (never the key itself); its wallet calls verify with the key that reference names, a new
reference retires the old key at once, and a provider switched off is refused (error 5)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import fund
from tests.onboarding.conftest import ADD, SET_ENABLED, SET_SECRET_REF, create_game, payload, provider_row
from tests.providers.conftest import open_session
from tests.providers.pragmatic_fixtures import PragmaticProvider


async def test_a_pragmatic_provider_signs_with_the_key_its_reference_names(
    rt: Any, gql: Any, client: httpx.AsyncClient, make_player: Any, make_staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(rt.settings.provider_secrets, "pp-2025", "first-key")
    monkeypatch.setitem(rt.settings.provider_secrets, "pp-2026", "second-key")
    staff = await make_staff(("content_manager", None))
    body = await gql(
        ADD,
        {"input": {"code": "ppco", "name": "Pragmatic Play", "protocol": "PRAGMATIC", "secretRef": "pp-2025"}},
        token=staff.token,
    )
    added = payload(body, "addGameProvider")
    assert added["errors"] == [], added
    assert (added["provider"]["protocol"], added["provider"]["secretConfigured"]) == ("PRAGMATIC", True)
    await create_game(gql, staff.token, "ppco")
    player = await make_player()
    await fund(rt, player.uuid, 1_000)
    token = await open_session(rt, await provider_row(rt, "ppco"), player.uuid)

    async def authenticate(key: str) -> int:
        answer = await PragmaticProvider(client, secret=key, code="ppco").call("authenticate", {"token": token})
        return int(answer["error"])

    assert await authenticate("first-key") == 0
    assert await authenticate("second-key") == 5
    rotated = await gql(
        SET_SECRET_REF, {"input": {"provider": "ppco", "secretRef": "pp-2026", "reason": "rotation"}}, token=staff.token
    )
    assert payload(rotated, "setGameProviderSecretRef")["errors"] == []
    assert (await authenticate("first-key"), await authenticate("second-key")) == (5, 0)
    off = await gql(
        SET_ENABLED, {"input": {"provider": "ppco", "enabled": False, "reason": "contract ended"}}, token=staff.token
    )
    assert payload(off, "setGameProviderEnabled")["errors"] == []
    assert await authenticate("second-key") == 5
    refused = await gql(
        ADD,
        {"input": {"code": "pp2", "name": "PP 2", "protocol": "PRAGMATIC", "publicKeyPem": "x", "secretRef": None}},
        token=staff.token,
    )
    assert [e["field"] for e in payload(refused, "addGameProvider")["errors"]] == ["publicKeyPem"]
