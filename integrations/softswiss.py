"""A SoftSwiss-style wallet protocol, the second adapter over services/provider_wallet/.

`POST /providers/{provider_code}/play`, modelled on the published SoftSwiss casino-provider wallet:
one call carries a round's actions in order (`bet`, `win`, `rollback`), each with its own `action_id`
(its idempotency key, processed once forever, in its own database transaction); a call without
actions asks for the balance. Signed with `X-Request-Sign`: hex HMAC-SHA256 of the raw body with the
provider's secret: the `PROVIDER_SECRETS` entry its row names (`secret_ref`), else the one named after
its code (services/providers/credentials.py). Amounts are integers of minor units.

Answers: 200 `{balance, currency, game_id, transactions: [{action_id, tx_id, status}]}`; a refusal
stops at the refused action (those before it stay done: the provider retries the whole call and they
replay) and answers 412 `{code, message, balance}` with the codes in `ERROR_CODES`; 400 malformed
(including JSON nested too deep or a NUL character in any string: refused before any action runs),
403 signature or unknown provider, 500 unexpected.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from core import json_body
from core.ids import new_id
from core.logging import get_logger
from core.money import CURRENCIES, MAX_MINOR_UNITS
from core.runtime import Runtime
from services import provider_wallet
from services.provider_wallet import ProviderRef, Status, WalletCommand, WalletResult
from services.providers import credentials

log = get_logger(__name__)
router = APIRouter(include_in_schema=False)

PROTOCOL = "softswiss"
SIGNATURE_HEADER = "X-Request-Sign"
MAX_BODY_BYTES = 64 * 1024
MAX_ACTIONS = 20

# (code, HTTP status, message) per neutral status.
ERROR_CODES: dict[Status, tuple[int, int, str]] = {
    Status.NOT_ENOUGH_MONEY: (100, 412, "Not enough funds."),
    Status.INVALID_TOKEN: (101, 412, "Player is invalid."),
    Status.TOKEN_EXPIRED: (101, 412, "Player is invalid: session expired."),
    Status.LIMIT_REACHED: (105, 412, "Player reached a bet limit."),
    Status.USER_DISABLED: (110, 412, "Player is disabled."),
    Status.TRANSACTION_DOES_NOT_EXIST: (107, 412, "The referenced action or round does not exist."),
    Status.WRONG_CURRENCY: (153, 412, "Currency does not match the player's wallet."),
    Status.INVALID_GAME: (154, 412, "Unknown game."),
    # The published protocol's "not available in the player's country" (153) is this style's WRONG_CURRENCY already:
    # a code of its own, so the provider can tell them apart.
    Status.NOT_CERTIFIED: (108, 412, "Game is not certified in the player's country."),
    Status.DUPLICATE_TRANSACTION: (409, 409, "Action id already used with different content."),
    # Never sent by this protocol (its amounts are minor units, exact in every currency); mapped for completeness.
    Status.UNREPRESENTABLE_AMOUNT: (400, 400, "Bad request."),
    Status.UNKNOWN: (500, 500, "Unexpected error."),
}
BAD_REQUEST = (400, 400, "Bad request.")
FORBIDDEN = (403, 403, "Forbidden: bad signature or unknown provider.")
TX_NAMESPACE = uuid.UUID("4f1c2a8e-6d0b-4c1e-9a57-0c7e3b5d2f10")


class SoftswissDialect:
    def status_code(self, status: Status) -> str:
        return "OK" if status == Status.OK else str(ERROR_CODES[status][0])

    def render(self, command: WalletCommand, result: WalletResult) -> dict[str, Any]:
        return {
            "action_id": command.transaction_uuid,
            "tx_id": str(uuid.uuid5(TX_NAMESPACE, f"{command.provider.code}:{command.transaction_uuid}")),
            "status": self.status_code(result.status),
            "balance": result.balance,
            "currency": result.currency or command.currency,
        }


DIALECT = SoftswissDialect()


class BadRequest(Exception):
    pass


def _error(spec: tuple[int, int, str], balance: int | None = None) -> JSONResponse:
    code, http_status, message = spec
    body: dict[str, Any] = {"code": code, "message": message}
    if balance is not None:
        body["balance"] = balance
    return JSONResponse(body, status_code=http_status)


def _text(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    # capped at the column the value lands in (game_code varchar(64), currency varchar(8)), else 128
    limit = {"game": 64, "currency": 8}.get(name, 128)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise BadRequest(name)
    return value


def _amount(action: dict[str, Any]) -> int:
    value = action.get("amount")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_MINOR_UNITS:
        raise BadRequest("amount")
    return value


def parse(raw: bytes) -> dict[str, Any]:
    """The body, checked: the JSON gate (core/json_body.py: an object, bounded depth, no NUL in any
    string) and then the fields this protocol reads. Raises BadRequest (answered 400)."""
    try:
        body = json_body.parse_object(raw)
    except json_body.BodyRefused as exc:
        raise BadRequest(type(exc).__name__) from exc
    for name in ("user_id", "currency", "game"):
        _text(body, name)
    for name in ("session_id", "game_id"):
        _text(body, name, required=False)
    if not isinstance(body.get("finished", False), bool):
        raise BadRequest("finished")
    actions = body.get("actions", [])
    if not isinstance(actions, list) or len(actions) > MAX_ACTIONS:
        raise BadRequest("actions")
    for action in actions:
        if not isinstance(action, dict) or action.get("action") not in ("bet", "win", "rollback"):
            raise BadRequest("action")
        _text(action, "action_id")
        if action["action"] == "rollback":
            _text(action, "original_action_id")
        else:
            _amount(action)
            if body.get("game_id") is None:
                raise BadRequest("game_id")
    return body


def verify_signature(secret: str | None, raw: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.strip().lower())


_PROVIDER = text("SELECT id, code, protocol, enabled, secret_ref FROM game_providers WHERE code = :code")


async def _provider(rt: Runtime, code: str) -> tuple[ProviderRef, str | None] | None:
    """The provider and the secret it signs with (its PROVIDER_SECRETS entry: services/providers)."""
    async with rt.database.session() as db:
        row = (await db.execute(_PROVIDER, {"code": code})).one_or_none()
    if row is None or not row.enabled or row.protocol != PROTOCOL:
        return None
    return ProviderRef(row.id, row.code), credentials.secret_for(rt.settings.provider_secrets, row.code, row.secret_ref)


@router.post("/providers/{provider_code}/play")
async def play(provider_code: str, request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.rt
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return _error(BAD_REQUEST)
    try:
        found = await _provider(rt, provider_code)
    except Exception:  # the database is away: still an answer in protocol, which the provider retries
        log.exception("softswiss_wallet_failed", provider=provider_code)
        return _error(ERROR_CODES[Status.UNKNOWN])
    if found is None:
        return _error(FORBIDDEN)
    provider, secret = found
    if not verify_signature(secret, raw, request.headers.get(SIGNATURE_HEADER)):
        log.warning("softswiss_bad_signature", provider=provider_code)
        return _error(FORBIDDEN)
    try:
        body = parse(raw)
    except BadRequest as exc:
        log.info("softswiss_bad_request", provider=provider_code, field=str(exc))
        return _error(BAD_REQUEST)
    try:
        return await _play(rt, provider, raw, body)
    except Exception:
        log.exception("softswiss_wallet_failed", provider=provider_code)
        return _error(ERROR_CODES[Status.UNKNOWN])


async def _play(rt: Runtime, provider: ProviderRef, raw: bytes, body: dict[str, Any]) -> JSONResponse:
    currency: str = body["currency"]
    common = {
        "provider": provider,
        "raw_request": raw,
        "user": body["user_id"],
        "token": body.get("session_id"),
        "round_ref": body.get("game_id"),
        "game_code": body["game"],
        "currency": currency,
    }
    actions: list[dict[str, Any]] = body.get("actions", [])
    if currency not in CURRENCIES:
        return _error(ERROR_CODES[Status.WRONG_CURRENCY])
    if not actions:
        answer = await provider_wallet.balance(
            rt, WalletCommand(endpoint="/play/balance", request_uuid=str(new_id()), **common), DIALECT
        )
        return _answer(body, answer.result, [])
    done: list[dict[str, Any]] = []
    result: WalletResult | None = None
    for position, action in enumerate(actions):
        kind = action["action"]
        last = position == len(actions) - 1
        command = WalletCommand(
            # Each call is logged under its own id; the action id is the idempotency key (a changed
            # action under a known id must reach the duplicate check, not a stored answer).
            endpoint=f"/play/{kind}",
            request_uuid=str(new_id()),
            transaction_uuid=action["action_id"],
            reference_uuid=action.get("original_action_id"),
            amount=action.get("amount", 0),
            round_closed=bool(body.get("finished")) and last,
            **common,
        )
        handler = {"bet": provider_wallet.bet, "win": provider_wallet.win, "rollback": provider_wallet.rollback}[kind]
        answer = await handler(rt, command, DIALECT)
        status = _status(answer.body)
        if status != Status.OK:
            balance = answer.body.get("balance")
            return _error(ERROR_CODES[status], balance if isinstance(balance, int) else answer.result.balance)
        result = answer.result
        done.append({k: answer.body.get(k) for k in ("action_id", "tx_id", "status")})
        done[-1]["balance"] = answer.body.get("balance")
    assert result is not None
    return _answer(body, result, done)


def _status(body: Any) -> Status:
    code = str(body.get("status"))
    for status in Status:
        if DIALECT.status_code(status) == code:
            return status
    return Status.UNKNOWN


def _answer(body: dict[str, Any], result: WalletResult, done: list[dict[str, Any]]) -> JSONResponse:
    if result.status != Status.OK:
        return _error(ERROR_CODES[result.status], result.balance)
    balance = done[-1]["balance"] if done else result.balance
    return JSONResponse(
        {
            "balance": balance,
            "currency": body["currency"],
            "game_id": body.get("game_id"),
            "transactions": [{k: t[k] for k in ("action_id", "tx_id")} for t in done],
        }
    )
