"""The provider's free-rounds API, as Hub88's Freebets API shapes it: `POST {base}/freebet/rewards/create` with
the player, the game, the currency, the number of rounds (`bet_count`) and each round's value (`bet_value`, an
integer of 1/100000 of the currency, as every Hub88 amount), the validity (`start_time`, `end_time`, ISO 8601)
and our own reference (`operator_reference`: the grant id, so a resent create finds the reward it made), signed
as Hub88 signs (`X-Hub88-Signature` over the exact bytes, with the operator's key: settings.free_rounds_signing_key);
`POST {base}/freebet/rewards/cancel` with the `reward_uuid`.

Outcomes: `Granted` (the provider's reward uuid), `Refused` (the provider answered no: final), `Unreachable`
(no answer, a timeout, a 5xx: the sender tries again later, with the same reference)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from core.money import CURRENCIES

UNITS_EXPONENT = 5  # Hub88 amounts: 1/100000 of the currency
TIMEOUT_SECONDS = 5.0
OK_STATUSES = frozenset({"FRS_ACTIVE", "FRS_CANCELED", "FRS_CANCELLED", "RS_OK", "OK"})
SIGNATURE_HEADER = "X-Hub88-Signature"


@lru_cache(maxsize=4)
def _signing_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the free-rounds signing key is not an RSA private key")
    return key


def signature(key_path: Path, raw: bytes) -> str:
    """Base64 RSA-SHA256 (PKCS#1 v1.5) over the exact bytes sent, as Hub88 signs and checks."""
    return base64.b64encode(_signing_key(key_path).sign(raw, padding.PKCS1v15(), hashes.SHA256())).decode()


@dataclass(frozen=True)
class Granted:
    reward_uuid: str
    answer: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    error: str
    answer: dict[str, Any] | None = None


@dataclass(frozen=True)
class Unreachable:
    error: str


Outcome = Granted | Refused | Unreachable


@dataclass(frozen=True)
class RewardRequest:
    reference: str  # our grant id
    user: str
    currency: str
    game_code: str
    rounds: int
    bet: int  # minor units
    starts_at: datetime
    ends_at: datetime | None


def to_units(minor: int, currency: str) -> int:
    exponent = CURRENCIES[currency].exponent
    if exponent <= UNITS_EXPONENT:
        return minor * int(10 ** (UNITS_EXPONENT - exponent))
    return minor // int(10 ** (exponent - UNITS_EXPONENT))


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def create_body(request: RewardRequest) -> dict[str, Any]:
    return {
        "user": request.user,
        "currency": request.currency,
        "game_code": request.game_code,
        "bet_count": request.rounds,
        "bet_value": to_units(request.bet, request.currency),
        "start_time": _time(request.starts_at),
        "end_time": _time(request.ends_at) if request.ends_at else None,
        "operator_reference": request.reference,
    }


async def _post(
    base_url: str, path: str, body: dict[str, Any], key: Path | None
) -> tuple[int, dict[str, Any]] | Unreachable:
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = {"content-type": "application/json"}
    if key is not None:
        headers[SIGNATURE_HEADER] = signature(key, raw)
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
            response = await http.post(base_url.rstrip("/") + path, content=raw, headers=headers)
    except httpx.HTTPError as exc:
        return Unreachable(type(exc).__name__)
    if response.status_code >= 500:
        return Unreachable(f"HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return response.status_code, {}
    return response.status_code, data


async def create_reward(base_url: str, request: RewardRequest, key: Path | None = None) -> Outcome:
    answered = await _post(base_url, "/freebet/rewards/create", create_body(request), key)
    if isinstance(answered, Unreachable):
        return answered
    status_code, data = answered
    reward = data.get("reward_uuid")
    if status_code == 200 and isinstance(reward, str) and reward and len(reward) <= 64:
        return Granted(reward, data)
    return Refused(str(data.get("status") or data.get("error") or f"HTTP {status_code}")[:300], data)


async def cancel_reward(base_url: str, reward_uuid: str, key: Path | None = None) -> Outcome:
    answered = await _post(base_url, "/freebet/rewards/cancel", {"reward_uuid": reward_uuid}, key)
    if isinstance(answered, Unreachable):
        return answered
    status_code, data = answered
    if status_code == 200 and str(data.get("status", "")) in OK_STATUSES:
        return Granted(reward_uuid, data)
    return Refused(str(data.get("status") or data.get("error") or f"HTTP {status_code}")[:300], data)
