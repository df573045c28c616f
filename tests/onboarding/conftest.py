"""Onboarding fixtures: a content manager, RSA keys of the aggregator's kind (and the wrong kinds), and
GraphQL helpers to add a provider, set its key and create a game the way staff do."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import func, select

from tests.conftest import StaffAccount

PROVIDER_FIELDS = """code name protocol enabled launchUrl publicKeyFingerprint publicKeyBits secretRef
                     secretConfigured createdAt gameCount"""
GAME_FIELDS = """id code title type rtp volatility minBets { amount currency } maxBets { amount currency }
                 contributionCategory countries currencies demoAvailable imageUrl tags enabled createdAt
                 provider { code }"""
ADD = (
    "mutation($input: AddGameProviderInput!) { addGameProvider(input: $input) { provider { "
    + PROVIDER_FIELDS
    + " } errors { code field message } } }"
)
SET_KEY = (
    "mutation($input: SetGameProviderKeyInput!) { setGameProviderKey(input: $input) { provider { "
    + PROVIDER_FIELDS
    + " } errors { code field message } } }"
)
SET_SECRET_REF = (
    "mutation($input: SetGameProviderSecretRefInput!) { setGameProviderSecretRef(input: $input) { provider { "
    + PROVIDER_FIELDS
    + " } errors { code field message } } }"
)
SET_ENABLED = (
    "mutation($input: SetGameProviderEnabledInput!) { setGameProviderEnabled(input: $input) { provider { "
    + PROVIDER_FIELDS
    + " } errors { code field message } } }"
)
UPDATE_PROVIDER = (
    "mutation($input: UpdateGameProviderInput!) { updateGameProvider(input: $input) { provider { "
    + PROVIDER_FIELDS
    + " } errors { code field message } } }"
)
CREATE_GAME = (
    "mutation($input: CreateGameInput!) { createGame(input: $input) { game { "
    + GAME_FIELDS
    + " } errors { code field message } } }"
)
UPDATE_GAME = (
    "mutation($input: UpdateGameInput!) { updateGame(input: $input) { game { "
    + GAME_FIELDS
    + " } errors { code field message } } }"
)
SET_GAME_ENABLED = (
    "mutation($input: SetGameEnabledInput!) { setGameEnabled(input: $input) { game { "
    + GAME_FIELDS
    + " } errors { code field message } } }"
)
IMPORT = """
mutation($input: ImportGamesInput!) {
  importGames(input: $input) {
    report { provider dryRun added { code title changes { field old new } }
             changed { code title changes { field old new } } unchanged missing }
    errors { code field message }
  }
}"""
PROVIDERS = "query($first: Int) { gameProviders(first: $first) { edges { node { " + PROVIDER_FIELDS + " } } } }"
GAMES = (
    "query($provider: String!, $first: Int, $search: String) { catalogGames(provider: $provider, first: $first, "
    "search: $search) { edges { node { " + GAME_FIELDS + " } } pageInfo { hasNextPage } } }"
)


def pem_of(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def fingerprint(key: rsa.RSAPrivateKey) -> str:
    """The fingerprint as an operator computes it: `openssl pkey -pubin -outform DER | sha256sum`."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def key_body(pem: str) -> str:
    """A line of the key's base64 body: what must never show up in an answer or the audit log."""
    return pem.strip().splitlines()[2]


@dataclass
class Keys:
    first: rsa.RSAPrivateKey
    second: rsa.RSAPrivateKey
    short: rsa.RSAPrivateKey  # 1024 bits
    curve: ec.EllipticCurvePrivateKey


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(
        first=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        second=rsa.generate_private_key(public_exponent=65537, key_size=3072),
        short=rsa.generate_private_key(public_exponent=65537, key_size=1024),
        curve=ec.generate_private_key(ec.SECP256R1()),
    )


@pytest.fixture
async def content_manager(make_staff: Any) -> StaffAccount:
    account: StaffAccount = await make_staff(("content_manager", None))
    return account


def payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert not body.get("errors"), body
    found: dict[str, Any] = body["data"][field]
    return found


async def add_provider(gql: Any, token: str, code: str = "acme", **extra: Any) -> dict[str, Any]:
    body = await gql(
        ADD,
        {"input": {"code": code, "name": code.title() + " Games", "protocol": "HUB88", **extra}},
        token=token,
    )
    return payload(body, "addGameProvider")


async def set_key(gql: Any, token: str, code: str, pem: str, reason: str = "onboarding") -> dict[str, Any]:
    body = await gql(SET_KEY, {"input": {"provider": code, "publicKeyPem": pem, "reason": reason}}, token=token)
    return payload(body, "setGameProviderKey")


async def create_game(gql: Any, token: str, provider: str, code: str = "slot-fortune", **extra: Any) -> dict[str, Any]:
    game = {
        "provider": provider,
        "code": code,
        "title": "Slot Fortune",
        "type": "SLOT",
        "rtp": "96.00",
        "currencies": ["EUR"],
        "maxBets": [{"currency": "EUR", "amount": "500.00"}],
        **extra,
    }
    body = await gql(CREATE_GAME, {"input": game}, token=token)
    return payload(body, "createGame")


async def provider_row(rt: Any, code: str) -> Any:
    from models.games import Provider

    async with rt.database.session() as db:
        return (await db.execute(select(Provider).where(Provider.code == code))).scalar_one()


async def audit_rows(rt: Any, *, target_type: str | None = None) -> list[Any]:
    from models.audit import AuditRecord

    async with rt.database.session() as db:
        stmt = select(AuditRecord).order_by(AuditRecord.seq)
        if target_type:
            stmt = stmt.where(AuditRecord.target_type == target_type)
        return list((await db.scalars(stmt)).all())


async def count(rt: Any, model: Any) -> int:
    async with rt.database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


def request_uuid() -> str:
    return str(uuid.uuid4())
