"""Onboarding a game provider through GraphQL, as a content manager does it: add it, set its key, add a
game, and the aggregator's signed calls verify with that key; a rotation makes the old key fail at once,
a switch-off makes the wallet refuse, bad keys are refused with a code and a field, every change is in
the audit log with the key's fingerprint and never the key."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from models.games import Provider
from tests.conftest import error_codes
from tests.onboarding.conftest import (
    ADD,
    SET_ENABLED,
    SET_KEY,
    SET_SECRET_REF,
    UPDATE_PROVIDER,
    Keys,
    add_provider,
    audit_rows,
    count,
    create_game,
    fingerprint,
    key_body,
    payload,
    pem_of,
    provider_row,
    set_key,
)
from tests.providers.conftest import Aggregator, Seat, fund, open_session


async def seat_at(rt: Any, make_player: Any, code: str) -> Seat:
    player = await make_player()
    await fund(rt, player.uuid, 10_000)
    token = await open_session(rt, await provider_row(rt, code), player.uuid)
    return Seat(str(player.uuid), player.uuid, token)


async def test_added_provider_verifies_with_its_key_and_rotation_retires_the_old_one(
    rt: Any, gql: Any, client: httpx.AsyncClient, make_player: Any, content_manager: Any, keys: Keys
) -> None:
    added = await add_provider(gql, content_manager.token, "acme", launchUrl="https://games.acme.example/play")
    assert added["errors"] == []
    assert added["provider"] | {"createdAt": None} == {
        "code": "acme",
        "name": "Acme Games",
        "protocol": "HUB88",
        "enabled": True,
        "launchUrl": "https://games.acme.example/play",
        "publicKeyFingerprint": None,
        "publicKeyBits": None,
        "secretRef": None,
        "secretConfigured": False,
        "createdAt": None,
        "gameCount": 0,
    }
    assert (await create_game(gql, content_manager.token, "acme"))["errors"] == []
    seat = await seat_at(rt, make_player, "acme")
    first = Aggregator(client, keys.first, code="acme")
    # No key yet: the aggregator is not a partner we can verify.
    assert (await first.call("user/balance", seat.base(token=seat.token)))["status"] == "RS_ERROR_INVALID_PARTNER"

    keyed = await set_key(gql, content_manager.token, "acme", pem_of(keys.first))
    assert keyed["errors"] == []
    assert keyed["provider"]["publicKeyFingerprint"] == fingerprint(keys.first)
    assert keyed["provider"]["publicKeyBits"] == 2048
    assert keyed["provider"]["gameCount"] == 1
    answer = await first.call("user/balance", seat.base(token=seat.token))
    assert (answer["status"], answer["balance"]) == ("RS_OK", 10_000_000)
    bet = seat.bet(100_000)
    assert (await first.call("transaction/bet", bet))["status"] == "RS_OK"

    rotated = await set_key(gql, content_manager.token, "acme", pem_of(keys.second), reason="yearly rotation")
    assert rotated["provider"]["publicKeyFingerprint"] == fingerprint(keys.second)
    assert rotated["provider"]["publicKeyBits"] == 3072
    # The old key fails from the next call on; the new one verifies (the bet's win settles with it).
    refused = await first.call("user/balance", seat.base(token=seat.token))
    assert refused["status"] == "RS_ERROR_INVALID_SIGNATURE"
    second = Aggregator(client, keys.second, code="acme")
    win = seat.win(300_000, bet["transaction_uuid"])
    assert (await first.call("transaction/win", win))["status"] == "RS_ERROR_INVALID_SIGNATURE"
    answer = await second.call("transaction/win", win)
    assert (answer["status"], answer["balance"]) == ("RS_OK", 10_000_000 - 100_000 + 300_000)

    # The audit log: who added it and each key, as fingerprints; no trace of the key material.
    records = [r for r in await audit_rows(rt) if r.target_type == "game_provider"]
    assert [r.action for r in records] == ["game_provider.added", "game_provider.key_set", "game_provider.key_set"]
    assert {r.actor_id for r in records} == {content_manager.id}
    assert records[1].before == {"code": "acme", "public_key_fingerprint": None}
    assert records[1].after == {"code": "acme", "public_key_fingerprint": fingerprint(keys.first)}
    assert records[2].before == {"code": "acme", "public_key_fingerprint": fingerprint(keys.first)}
    assert records[2].after == {"code": "acme", "public_key_fingerprint": fingerprint(keys.second)}
    assert records[2].reason == "yearly rotation"
    assert records[1].brand_id is None  # providers are platform-wide
    logged = json.dumps([[r.before, r.after, r.reason] for r in await audit_rows(rt)])
    for key in (keys.first, keys.second):
        assert key_body(pem_of(key)) not in logged
        assert "BEGIN PUBLIC KEY" not in logged


async def test_setting_the_same_key_again_changes_and_records_nothing(
    rt: Any, gql: Any, content_manager: Any, keys: Keys
) -> None:
    await add_provider(gql, content_manager.token, "acme", publicKeyPem=pem_of(keys.first))
    before = len(await audit_rows(rt))
    again = await set_key(gql, content_manager.token, "acme", "\n" + pem_of(keys.first) + "\n\n")
    assert again["errors"] == []
    assert again["provider"]["publicKeyFingerprint"] == fingerprint(keys.first)
    assert len(await audit_rows(rt)) == before


async def test_a_disabled_provider_is_refused_by_its_wallet_and_enabled_again(
    rt: Any, gql: Any, client: httpx.AsyncClient, make_player: Any, content_manager: Any, keys: Keys
) -> None:
    await add_provider(gql, content_manager.token, "acme", publicKeyPem=pem_of(keys.first))
    await create_game(gql, content_manager.token, "acme")
    seat = await seat_at(rt, make_player, "acme")
    aggregator = Aggregator(client, keys.first, code="acme")
    assert (await aggregator.call("user/balance", seat.base(token=seat.token)))["status"] == "RS_OK"

    no_reason = await gql(SET_ENABLED, {"input": {"provider": "acme", "enabled": False}}, token=content_manager.token)
    assert payload(no_reason, "setGameProviderEnabled")["errors"] == [
        {"code": "INVALID_INPUT", "field": "reason", "message": "Give a reason (it goes to the audit log)."}
    ]
    assert (await provider_row(rt, "acme")).enabled is True

    body = await gql(
        SET_ENABLED,
        {"input": {"provider": "acme", "enabled": False, "reason": "contract paused"}},
        token=content_manager.token,
    )
    assert payload(body, "setGameProviderEnabled")["provider"]["enabled"] is False
    for endpoint, call in (
        ("user/balance", seat.base(token=seat.token)),
        ("transaction/bet", seat.bet(100_000)),
    ):
        assert (await aggregator.call(endpoint, call))["status"] == "RS_ERROR_INVALID_PARTNER"
    # Its games leave the lobby with it.
    listed = await gql('{ games(brand: "royal") { edges { node { code } } } }')
    assert listed["data"]["games"]["edges"] == []

    body = await gql(
        SET_ENABLED, {"input": {"provider": "acme", "enabled": True, "reason": "resumed"}}, token=content_manager.token
    )
    assert payload(body, "setGameProviderEnabled")["provider"]["enabled"] is True
    assert (await aggregator.call("user/balance", seat.base(token=seat.token)))["status"] == "RS_OK"
    switches = [
        (r.before, r.after, r.reason) for r in await audit_rows(rt) if r.action == "game_provider.status_changed"
    ]
    assert switches == [
        ({"code": "acme", "enabled": True}, {"code": "acme", "enabled": False}, "contract paused"),
        ({"code": "acme", "enabled": False}, {"code": "acme", "enabled": True}, "resumed"),
    ]


def _short_key_pem(key: rsa.RSAPrivateKey) -> str:
    return pem_of(key)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not pem", "Not a PEM public key"),
        ("garbled pem", "its content does not decode"),
        ("private key", "That is a private key"),
        ("elliptic curve", "Not an RSA key"),
        ("1024 bits", "The RSA key has 1024 bits; at least 2048 are required."),
    ],
)
async def test_bad_keys_are_refused_with_a_code_and_a_field(
    rt: Any, gql: Any, content_manager: Any, keys: Keys, case: str, message: str
) -> None:
    bad = {
        "not pem": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 ops@acme",
        "garbled pem": "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PUBLIC KEY-----\n",
        "private key": keys.first.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        "elliptic curve": pem_of(keys.curve),
        "1024 bits": _short_key_pem(keys.short),
    }[case]
    await add_provider(gql, content_manager.token, "acme", publicKeyPem=pem_of(keys.first))
    records = len(await audit_rows(rt))

    body = await gql(
        SET_KEY, {"input": {"provider": "acme", "publicKeyPem": bad, "reason": "rotation"}}, token=content_manager.token
    )
    refused = payload(body, "setGameProviderKey")
    assert refused["provider"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_PUBLIC_KEY", "publicKeyPem")]
    assert message in refused["errors"][0]["message"]
    assert (await provider_row(rt, "acme")).public_key_pem == pem_of(keys.first)  # the old key stays
    assert len(await audit_rows(rt)) == records
    if case == "private key":  # never echoed back, never stored
        assert key_body(bad) not in json.dumps(body)

    # Refused the same way when adding a provider, and nothing is created.
    body = await gql(
        ADD,
        {"input": {"code": "beta", "name": "Beta", "protocol": "HUB88", "publicKeyPem": bad}},
        token=content_manager.token,
    )
    assert [(e["code"], e["field"]) for e in payload(body, "addGameProvider")["errors"]] == [
        ("INVALID_PUBLIC_KEY", "publicKeyPem")
    ]
    assert await count(rt, Provider) == 1


async def test_provider_inputs_are_checked_before_the_database(
    rt: Any, gql: Any, content_manager: Any, keys: Keys
) -> None:
    await add_provider(gql, content_manager.token, "acme")
    cases = [
        ({"code": "acme", "name": "Again", "protocol": "HUB88"}, ("ALREADY_EXISTS", "code")),
        ({"code": "Has Spaces", "name": "X", "protocol": "HUB88"}, ("INVALID_INPUT", "code")),
        ({"code": "x" * 33, "name": "X", "protocol": "HUB88"}, ("INVALID_INPUT", "code")),
        ({"code": "long", "name": "N" * 121, "protocol": "HUB88"}, ("INVALID_INPUT", "name")),
        (
            {"code": "url", "name": "X", "protocol": "HUB88", "launchUrl": "javascript:alert(1)"},
            ("INVALID_INPUT", "launchUrl"),
        ),
        (
            {"code": "swiss", "name": "X", "protocol": "SOFTSWISS", "publicKeyPem": pem_of(keys.first)},
            ("INVALID_INPUT", "publicKeyPem"),
        ),
        ({"code": "hubby", "name": "X", "protocol": "HUB88", "secretRef": "anything"}, ("INVALID_INPUT", "secretRef")),
    ]
    for given, expected in cases:
        body = await gql(ADD, {"input": given}, token=content_manager.token)
        errors = payload(body, "addGameProvider")["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [expected], given
    assert await count(rt, Provider) == 1

    body = await gql(
        UPDATE_PROVIDER,
        {"input": {"provider": "acme", "name": "Acme Studios", "launchUrl": "https://acme.example/v2"}},
        token=content_manager.token,
    )
    changed = payload(body, "updateGameProvider")["provider"]
    assert (changed["name"], changed["launchUrl"]) == ("Acme Studios", "https://acme.example/v2")
    body = await gql(UPDATE_PROVIDER, {"input": {"provider": "nope", "name": "X"}}, token=content_manager.token)
    assert [(e["code"], e["field"]) for e in payload(body, "updateGameProvider")["errors"]] == [
        ("NOT_FOUND", "provider")
    ]


async def test_softswiss_provider_signs_with_the_secret_its_reference_names(
    rt: Any,
    gql: Any,
    client: httpx.AsyncClient,
    make_player: Any,
    content_manager: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hashlib
    import hmac

    monkeypatch.setitem(rt.settings.provider_secrets, "swissco-2025", "first-secret-value")
    monkeypatch.setitem(rt.settings.provider_secrets, "swissco-2026", "second-secret-value")
    body = await gql(
        ADD,
        {"input": {"code": "swissco", "name": "Swiss Co", "protocol": "SOFTSWISS", "secretRef": "swissco-2025"}},
        token=content_manager.token,
    )
    added = payload(body, "addGameProvider")["provider"]
    assert (added["secretRef"], added["secretConfigured"], added["publicKeyFingerprint"]) == (
        "swissco-2025",
        True,
        None,
    )
    await create_game(gql, content_manager.token, "swissco")
    seat = await seat_at(rt, make_player, "swissco")

    async def balance(secret: str) -> int:
        raw = json.dumps(
            {
                "user_id": seat.user,
                "session_id": seat.token,
                "currency": "EUR",
                "game": "slot-fortune",
                "game_id": None,
                "actions": [],
            }
        ).encode()
        signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        response = await client.post("/providers/swissco/play", content=raw, headers={"X-Request-Sign": signature})
        return response.status_code

    assert await balance("first-secret-value") == 200
    assert await balance("second-secret-value") == 403

    refused = await gql(
        SET_SECRET_REF,
        {"input": {"provider": "swissco", "secretRef": "swissco-2027", "reason": "x"}},
        token=content_manager.token,
    )
    assert [(e["code"], e["field"]) for e in payload(refused, "setGameProviderSecretRef")["errors"]] == [
        ("NOT_FOUND", "secretRef")
    ]
    body = await gql(
        SET_SECRET_REF,
        {"input": {"provider": "swissco", "secretRef": "swissco-2026", "reason": "rotation"}},
        token=content_manager.token,
    )
    assert payload(body, "setGameProviderSecretRef")["provider"]["secretRef"] == "swissco-2026"
    assert await balance("first-secret-value") == 403
    assert await balance("second-secret-value") == 200

    # Secrets appear nowhere: not in answers, not in the audit log (only the entries' names).
    listed = await gql(
        "{ gameProviders { edges { node { secretRef secretConfigured } } } }", token=content_manager.token
    )
    assert listed["data"]["gameProviders"]["edges"] == [
        {"node": {"secretRef": "swissco-2026", "secretConfigured": True}}
    ]
    logged = json.dumps([[r.before, r.after] for r in await audit_rows(rt)])
    assert "secret-value" not in logged + json.dumps(listed) + json.dumps(body)
    refs = [(r.before, r.after) for r in await audit_rows(rt) if r.action == "game_provider.secret_ref_set"]
    assert refs == [
        ({"code": "swissco", "secret_ref": "swissco-2025"}, {"code": "swissco", "secret_ref": "swissco-2026"})
    ]
    # Hub88 providers take no secret reference.
    await add_provider(gql, content_manager.token, "acme")
    body = await gql(
        SET_SECRET_REF,
        {"input": {"provider": "acme", "secretRef": "swissco-2026", "reason": "x"}},
        token=content_manager.token,
    )
    assert [(e["code"], e["field"]) for e in payload(body, "setGameProviderSecretRef")["errors"]] == [
        ("INVALID_INPUT", "secretRef")
    ]


MUTATIONS = {
    "addGameProvider": ("AddGameProviderInput", {"code": "intruder", "name": "X", "protocol": "HUB88"}),
    "updateGameProvider": ("UpdateGameProviderInput", {"provider": "acme", "name": "Taken over"}),
    "setGameProviderKey": ("SetGameProviderKeyInput", {"provider": "acme", "publicKeyPem": "", "reason": "x"}),
    "setGameProviderSecretRef": (
        "SetGameProviderSecretRefInput",
        {"provider": "acme", "secretRef": "x", "reason": "x"},
    ),
    "setGameProviderEnabled": ("SetGameProviderEnabledInput", {"provider": "acme", "enabled": False, "reason": "x"}),
    "createGame": ("CreateGameInput", {"provider": "acme", "code": "g", "title": "G", "type": "SLOT", "rtp": "96"}),
    "importGames": ("ImportGamesInput", {"provider": "acme", "games": []}),
}


@pytest.mark.parametrize("role", ["support", "risk_analyst", "finance", "marketing", "brand_admin", "kyc_officer"])
async def test_roles_without_the_right_get_forbidden_and_change_nothing(
    rt: Any, gql: Any, make_staff: Any, content_manager: Any, keys: Keys, role: str
) -> None:
    await add_provider(gql, content_manager.token, "acme", publicKeyPem=pem_of(keys.first))
    staff = await make_staff(role)
    records = len(await audit_rows(rt))
    for name, (input_type, given) in MUTATIONS.items():
        body = await gql(
            f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ errors {{ code }} }} }}",
            {"input": given},
            token=staff.token,
        )
        assert body["data"] is None, (name, body)
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([name], "FORBIDDEN")]
    for query in (
        "{ gameProviders { edges { node { code } } } }",
        '{ catalogGames(provider: "acme") { edges { node { code } } } }',
    ):
        body = await gql(query, token=staff.token)
        assert error_codes(body) == ["FORBIDDEN"], (query, body)
    row = await provider_row(rt, "acme")
    assert (row.name, row.enabled, row.public_key_pem) == ("Acme Games", True, pem_of(keys.first))
    assert await count(rt, Provider) == 1
    assert len(await audit_rows(rt)) == records


async def test_content_manager_is_granted_for_every_brand_only(rt: Any, gql: Any, make_staff: Any) -> None:
    from sqlalchemy.exc import IntegrityError

    from models.staff import StaffRole

    admin = await make_staff(("superadmin", None))
    create = """mutation($input: CreateStaffUserInput!) { createStaffUser(input: $input) {
                  staff { roles { role brand { code } } } errors { code field message } } }"""

    def person(email: str, brand: str | None) -> dict[str, Any]:
        return {
            "input": {
                "email": email,
                "displayName": "Content",
                "password": "correct-horse-9",
                "roles": [{"role": "CONTENT_MANAGER", "brand": brand}],
            }
        }

    refused = payload(await gql(create, person("scoped@croupier.dev", "royal"), token=admin.token), "createStaffUser")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "roles")]
    granted = payload(await gql(create, person("content@croupier.dev", None), token=admin.token), "createStaffUser")
    assert granted["errors"] == []
    assert granted["staff"]["roles"] == [{"role": "CONTENT_MANAGER", "brand": None}]
    # A brand admin cannot hand it out (it is a grant for every brand).
    brand_admin = await make_staff("brand_admin")
    body = await gql(create, person("other@croupier.dev", None), token=brand_admin.token)
    assert [e["code"] for e in payload(body, "createStaffUser")["errors"]] == ["NOT_ALLOWED"]
    # The database holds the rule too.
    staff_id = (await make_staff(("support", "royal"), login=False)).id
    with pytest.raises(IntegrityError):
        async with rt.database.transaction() as db:
            from sqlalchemy import select

            from models.brands import Brand

            brand_id = (await db.execute(select(Brand.id).where(Brand.code == "royal"))).scalar_one()
            db.add(StaffRole(staff_id=staff_id, brand_id=brand_id, role="content_manager"))
