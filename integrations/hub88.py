"""The Hub88 operator wallet API, served for every provider whose protocol is `hub88`.

`POST /providers/{provider_code}/user/info|user/balance|transaction/bet|transaction/win|transaction/rollback`,
as /work/shared/providers/hub88-wallet.md fixes it: the `X-Hub88-Signature` header is a base64
RSA-SHA256 signature over the raw body bytes, checked with the provider's public key before anything
is parsed; bodies pass the JSON gate (core/json_body.py) and are parsed strictly (RS_ERROR_WRONG_SYNTAX
for a malformed or too deeply nested body or a missing field, RS_ERROR_WRONG_TYPES for a field of the
wrong type, a NUL character in any string, or an amount that cannot be represented in the wallet's
currency — in a currency the wallet does not hold, RS_ERROR_WRONG_CURRENCY is the answer); amounts
are integers of 1/100000 of the currency unit, converted exactly to ledger minor units; every answer is
HTTP 200 with `{user, status, request_uuid, currency, balance}`. Demo play (`currency: "XXX"` with no
user or token) touches no wallet and no database. Everything else is services/provider_wallet/.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from core import json_body
from core.logging import get_logger
from core.money import CURRENCIES, MAX_MINOR_UNITS
from core.runtime import Runtime
from services import provider_wallet
from services.provider_wallet import Answer, ProviderRef, Status, WalletCommand, WalletResult

log = get_logger(__name__)
router = APIRouter(include_in_schema=False)

PROTOCOL = "hub88"
SIGNATURE_HEADER = "X-Hub88-Signature"
UNITS_EXPONENT = 5  # Hub88 amounts are 1/100000 of the currency unit
DEMO_CURRENCY = "XXX"
DEMO_BALANCE = 1_000 * 10**UNITS_EXPONENT  # what demo play shows; no wallet behind it
MAX_BODY_BYTES = 64 * 1024

STATUS_CODES: dict[Status, str] = {
    Status.OK: "RS_OK",
    Status.INVALID_TOKEN: "RS_ERROR_INVALID_TOKEN",
    Status.TOKEN_EXPIRED: "RS_ERROR_TOKEN_EXPIRED",
    Status.INVALID_GAME: "RS_ERROR_INVALID_GAME",
    Status.WRONG_CURRENCY: "RS_ERROR_WRONG_CURRENCY",
    Status.NOT_ENOUGH_MONEY: "RS_ERROR_NOT_ENOUGH_MONEY",
    Status.USER_DISABLED: "RS_ERROR_USER_DISABLED",
    Status.DUPLICATE_TRANSACTION: "RS_ERROR_DUPLICATE_TRANSACTION",
    Status.TRANSACTION_DOES_NOT_EXIST: "RS_ERROR_TRANSACTION_DOES_NOT_EXIST",
    Status.LIMIT_REACHED: "RS_ERROR_LIMIT_REACHED",
    # The contract has no "not certified" status: the game code is known (not RS_ERROR_INVALID_GAME) and the request
    # well formed (not RS_ERROR_WRONG_TYPES); the operator's licence refuses the bet, "an operator limit".
    Status.NOT_CERTIFIED: "RS_ERROR_LIMIT_REACHED",
    Status.UNREPRESENTABLE_AMOUNT: "RS_ERROR_WRONG_TYPES",
    Status.UNKNOWN: "RS_ERROR_UNKNOWN",
}
# Request-level refusals, decided here before the wallet service is asked.
INVALID_PARTNER = "RS_ERROR_INVALID_PARTNER"
INVALID_SIGNATURE = "RS_ERROR_INVALID_SIGNATURE"
WRONG_SYNTAX = "RS_ERROR_WRONG_SYNTAX"
WRONG_TYPES = "RS_ERROR_WRONG_TYPES"


class Refused(Exception):
    """A request refused before the wallet: answered with this status and no balance."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


# ---- amounts -------------------------------------------------------------------------------------


def to_minor(units: int, currency: str) -> int:
    """Hub88 units (10^-5) → ledger minor units, exactly; Refused(WRONG_TYPES) if not representable."""
    exponent = CURRENCIES[currency].exponent
    if exponent <= UNITS_EXPONENT:
        minor, remainder = divmod(units, int(10 ** (UNITS_EXPONENT - exponent)))
        if remainder:
            raise Refused(WRONG_TYPES)
    else:
        minor = units * int(10 ** (exponent - UNITS_EXPONENT))
    if minor > MAX_MINOR_UNITS:
        raise Refused(WRONG_TYPES)
    return minor


def to_units(minor: int, currency: str) -> int:
    """Ledger minor units → Hub88 units; finer currencies (BTC, USDT) round down, never showing more."""
    exponent = CURRENCIES[currency].exponent
    if exponent <= UNITS_EXPONENT:
        return minor * int(10 ** (UNITS_EXPONENT - exponent))
    return minor // int(10 ** (exponent - UNITS_EXPONENT))


# ---- the dialect ---------------------------------------------------------------------------------


class Hub88Dialect:
    def status_code(self, status: Status) -> str:
        return STATUS_CODES[status]

    def balance_units(self, currency: str) -> tuple[int, int]:
        """`to_units` as (multiply, divide): the one-call wallet writes the answer's balance in the database."""
        exponent = CURRENCIES[currency].exponent
        if exponent <= UNITS_EXPONENT:
            return int(10 ** (UNITS_EXPONENT - exponent)), 1
        return 1, int(10 ** (exponent - UNITS_EXPONENT))

    def render(self, command: WalletCommand, result: WalletResult) -> dict[str, Any]:
        currency = result.currency or command.currency
        balance = 0
        if result.balance is not None and currency in CURRENCIES:
            balance = to_units(result.balance, currency)
        body: dict[str, Any] = {
            "user": command.user,
            "status": STATUS_CODES[result.status],
            "request_uuid": command.request_uuid,
            "currency": currency,
            "balance": balance,
        }
        if result.info is not None:
            info = result.info
            body.update(
                {
                    "country": info.country,
                    "jurisdiction": info.country,
                    "sub_partner_id": info.brand_code,
                    "birth_date": info.birth_date.isoformat(),
                    "registration_date": info.registration_date.date().isoformat(),
                    "tags": [],
                    "sex": None,
                    "affiliate_id": info.affiliate_code,  # the attributed partner's code (null: none)
                }
            )
        return body


DIALECT = Hub88Dialect()


# ---- parsing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    kind: type
    required: bool
    max_length: int = 128  # the widest column a string is stored in (transaction, round, request uuids)


# Strings stored in narrower columns (provider_transactions.game_code varchar(64), currency varchar(8))
# are capped at their width, so an over-long one is WRONG_TYPES, never a database error.
MAX_LENGTHS = {"game_code": 64, "currency": 8}


def _str(required: bool = True, name: str = "") -> _Field:
    return _Field(str, required, MAX_LENGTHS.get(name, 128))


FIELDS: dict[str, dict[str, _Field]] = {
    "user/info": {"user": _str(), "request_uuid": _str(), "currency": _str(False, "currency")},
    "user/balance": {
        "user": _str(),
        "token": _str(),
        "request_uuid": _str(),
        "game_code": _str(False, "game_code"),
        "supplier_user": _str(False),
        "currency": _str(False, "currency"),
    },
}
_BET: dict[str, _Field] = {
    "user": _str(),
    "transaction_uuid": _str(),
    "supplier_transaction_id": _str(False),
    "token": _str(),
    "supplier_user": _str(False),
    "round": _str(),
    "round_closed": _Field(bool, True),
    "reward_uuid": _str(False),
    "request_uuid": _str(),
    "is_free": _Field(bool, False),
    "is_supplier_promo": _Field(bool, False),
    "is_aggregated": _Field(bool, False),
    "game_code": _str(name="game_code"),
    "currency": _str(name="currency"),
    "bet": _str(False),
    "amount": _Field(int, True),
    "meta": _Field(dict, False),
}
FIELDS["transaction/bet"] = _BET
# A win's reference is optional for the wins that come with no bet (`async_win_shape`): a supplier's promotion
# (`is_supplier_promo`) and a free-bet reward's win (`is_free` naming its `reward_uuid`).
FIELDS["transaction/win"] = {**_BET, "token": _str(False), "reference_transaction_uuid": _str(False)}
FIELDS["transaction/rollback"] = {
    **{name: _Field(spec.kind, False, spec.max_length) for name, spec in _BET.items()},
    "user": _str(),
    "transaction_uuid": _str(),
    "request_uuid": _str(),
    "reference_transaction_uuid": _str(),
}
DEMO_OPTIONAL = {"user", "token"}


def parse(endpoint: str, raw: bytes) -> dict[str, Any]:
    """The body as a dict of known fields, strictly typed (Refused with WRONG_SYNTAX / WRONG_TYPES).

    The gate (core/json_body.py) comes first: a body that is not a JSON object nested at most
    `MAX_DEPTH` deep is WRONG_SYNTAX; a string holding a NUL (anywhere, keys included) is WRONG_TYPES.
    """
    try:
        body = json_body.parse_object(raw)
    except json_body.UnstorableText as exc:
        raise Refused(WRONG_TYPES) from exc
    except json_body.MalformedJson as exc:
        raise Refused(WRONG_SYNTAX) from exc
    spec = FIELDS[endpoint]
    demo = body.get("currency") == DEMO_CURRENCY and not body.get("user") and not body.get("token")
    missing = [
        name
        for name, f in spec.items()
        if f.required and body.get(name) is None and not (demo and name in DEMO_OPTIONAL)
    ]
    if missing:
        raise Refused(WRONG_SYNTAX)
    for name, f in spec.items():
        value = body.get(name)
        if value is None:
            continue
        if f.kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise Refused(WRONG_TYPES)
        elif not isinstance(value, f.kind):
            raise Refused(WRONG_TYPES)
        elif isinstance(value, str) and (not value or len(value) > f.max_length):
            raise Refused(WRONG_TYPES if value else WRONG_SYNTAX)
    parsed = {name: body.get(name) for name in spec}
    if endpoint == "transaction/win":
        async_win_shape(parsed)
    return parsed


def async_win_shape(body: dict[str, Any]) -> None:
    """A win without `reference_transaction_uuid` must be one that has no bet: a supplier's promotion (its token
    still required: Hub88 checks it is a real session, never its expiry) or a free-bet reward's win naming the
    reward. Anything else is malformed, as before."""
    if body.get("reference_transaction_uuid") is not None:
        return
    if body.get("is_supplier_promo") is True:
        if body.get("token") is None:
            raise Refused(WRONG_SYNTAX)
        return
    if body.get("is_free") is True and body.get("reward_uuid") is not None:
        return
    raise Refused(WRONG_SYNTAX)


# ---- signatures and providers --------------------------------------------------------------------


@lru_cache(maxsize=64)
def _public_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the provider's key is not an RSA public key")
    return key


def verify_signature(pem: str, raw: bytes, header: str | None) -> bool:
    if not header:
        return False
    try:
        signature = base64.b64decode(header.strip(), validate=True)
        _public_key(pem).verify(signature, raw, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


_PROVIDER = text(
    "SELECT id, code, protocol, enabled, public_key_pem, xmin::text AS version FROM game_providers WHERE code = :code"
)

# Provider rows by code, as last read: a wallet call spends no session on its provider. Each command's first
# statement checks the row version it was read at (services/provider_wallet `ProviderRef.version`); a row
# changed since (disabled, re-keyed) raises StaleProvider before anything is written, and the request is
# served again from a fresh read — signature check included. A request refused before the wallet (a signature
# the cached key refuses: the key may have been rotated) and demo play (which reaches no wallet, so no check)
# are decided on a fresh read.
_PROVIDERS: dict[str, tuple[ProviderRef, str]] = {}


async def _provider(rt: Runtime, code: str, *, fresh: bool) -> tuple[ProviderRef, str, bool]:
    """The provider, its public key, and whether they came from the cache (True) or were just read."""
    cached = None if fresh else _PROVIDERS.get(code)
    if cached is not None:
        return (*cached, True)
    async with rt.database.session() as db:
        row = (await db.execute(_PROVIDER, {"code": code})).one_or_none()
    if row is None or not row.enabled or row.protocol != PROTOCOL or not row.public_key_pem:
        raise Refused(INVALID_PARTNER)
    found = ProviderRef(row.id, row.code, str(row.version)), str(row.public_key_pem)
    _PROVIDERS[code] = found
    return (*found, False)


def forget_cached_providers() -> None:
    _PROVIDERS.clear()


# ---- routes ------------------------------------------------------------------------------------

Handler = Callable[..., Any]
HANDLERS: dict[str, Handler] = {
    "user/info": provider_wallet.user_info,
    "user/balance": provider_wallet.balance,
    "transaction/bet": provider_wallet.bet,
    "transaction/win": provider_wallet.win,
    "transaction/rollback": provider_wallet.rollback,
}


def _command(provider: ProviderRef, endpoint: str, raw: bytes, body: dict[str, Any]) -> WalletCommand:
    currency = body.get("currency")
    amount = body.get("amount") or 0
    minor, unrepresentable = 0, False
    if isinstance(currency, str) and currency in CURRENCIES:
        try:
            minor = to_minor(amount, currency)
        except Refused:  # the wallet decides: WRONG_TYPES in its own currency, else WRONG_CURRENCY
            unrepresentable = True
    return WalletCommand(
        provider=provider,
        endpoint=f"/{endpoint}",
        raw_request=raw,
        request_uuid=body["request_uuid"],
        user=body.get("user"),
        token=body.get("token"),
        transaction_uuid=body.get("transaction_uuid"),
        reference_uuid=body.get("reference_transaction_uuid"),
        round_ref=body.get("round"),
        round_closed=bool(body.get("round_closed")),
        game_code=body.get("game_code"),
        currency=currency,
        amount=minor,
        unrepresentable=unrepresentable,
        is_free=_free(endpoint, body),
        reward_uuid=body.get("reward_uuid"),
        supplier_promo=endpoint == "transaction/win" and body.get("is_supplier_promo") is True,
    )


def _free(endpoint: str, body: dict[str, Any]) -> bool:
    """A free round's bet; or a reward's win that names no bet (a win naming its free bet follows that bet)."""
    if body.get("is_free") is not True:
        return False
    if endpoint == "transaction/bet":
        return True
    return endpoint == "transaction/win" and body.get("reference_transaction_uuid") is None


def _refusal(status: str, body: dict[str, Any] | None = None) -> JSONResponse:
    body = body or {}
    return JSONResponse(
        {
            "user": body.get("user"),
            "status": status,
            "request_uuid": body.get("request_uuid"),
            "currency": body.get("currency"),
            "balance": 0,
        }
    )


def _loose(raw: bytes) -> dict[str, Any]:
    """Echo fields for a refusal of a body we could not accept (best effort)."""
    try:
        body = json_body.parse_object(raw, storable=False)  # only echoed, never stored
    except json_body.BodyRefused:
        return {}
    return {k: body.get(k) for k in ("user", "request_uuid", "currency") if isinstance(body.get(k), str)}


async def _serve(endpoint: str, provider_code: str, request: Request) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return _refusal(WRONG_SYNTAX)
    try:
        return await _answer(endpoint, provider_code, request, raw, fresh=False)
    except provider_wallet.StaleProvider:  # the cached provider row changed, or cannot decide: nothing was written
        _PROVIDERS.pop(provider_code, None)
    try:
        return await _answer(endpoint, provider_code, request, raw, fresh=True)
    except provider_wallet.StaleProvider:  # changed again meanwhile: the aggregator retries
        _PROVIDERS.pop(provider_code, None)
        log.warning("hub88_provider_changing", provider=provider_code, endpoint=endpoint)
        return _refusal(STATUS_CODES[Status.UNKNOWN], _loose(raw))


async def _answer(endpoint: str, provider_code: str, request: Request, raw: bytes, *, fresh: bool) -> JSONResponse:
    rt: Runtime = request.app.state.rt
    cached = False
    try:
        provider, pem, cached = await _provider(rt, provider_code, fresh=fresh)
        if not verify_signature(pem, raw, request.headers.get(SIGNATURE_HEADER)):
            if cached:  # perhaps signed with a new key
                raise provider_wallet.StaleProvider
            log.warning("hub88_bad_signature", provider=provider_code, endpoint=endpoint)
            raise Refused(INVALID_SIGNATURE)
        body = parse(endpoint, raw)
    except Refused as refused:
        if cached:  # a refusal is decided on a fresh read of the provider, as before it was cached
            raise provider_wallet.StaleProvider from None
        return _refusal(refused.status, _loose(raw))
    except provider_wallet.StaleProvider:
        raise
    except Exception:  # the database is away: still an answer in protocol, which the aggregator retries
        log.exception("hub88_wallet_failed", provider=provider_code, endpoint=endpoint)
        return _refusal(STATUS_CODES[Status.UNKNOWN], _loose(raw))
    if body.get("currency") == DEMO_CURRENCY and not body.get("user") and not body.get("token"):
        if cached:
            raise provider_wallet.StaleProvider  # no wallet call checks the cached row: read it
        return JSONResponse(
            {
                "user": body.get("user"),
                "status": STATUS_CODES[Status.OK],
                "request_uuid": body["request_uuid"],
                "currency": DEMO_CURRENCY,
                "balance": DEMO_BALANCE,
            }
        )
    command = _command(provider, endpoint, raw, body)
    try:
        answer: Answer = await HANDLERS[endpoint](rt, command, DIALECT)
    except provider_wallet.StaleProvider:
        raise
    except Exception:
        log.exception("hub88_wallet_failed", provider=provider_code, endpoint=endpoint)
        return _refusal(STATUS_CODES[Status.UNKNOWN], body)
    return JSONResponse(dict(answer.body))


def _route(endpoint: str) -> None:
    async def handler(provider_code: str, request: Request) -> JSONResponse:
        return await _serve(endpoint, provider_code, request)

    handler.__name__ = "hub88_" + endpoint.replace("/", "_")
    router.add_api_route(f"/providers/{{provider_code}}/{endpoint}", handler, methods=["POST"])


for _endpoint in HANDLERS:
    _route(_endpoint)
