"""Pragmatic Play's seamless wallet on the wire: its error codes and how the neutral statuses map to them, the
parameters each method requires, the form, the MD5 hash, amounts in currency units, and how an answer is written
(`PragmaticDialect`). No database and no routes here: integrations/pragmatic.py serves the methods."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from core.money import CURRENCIES, MAX_MINOR_UNITS, format_amount
from services.provider_wallet import Status, WalletCommand, WalletResult

MAX_BODY_BYTES = 16 * 1024
MAX_PARAMS = 64
TX_NAMESPACE = uuid.UUID("a3f0c6d2-58e1-4b7a-9d35-2e6b1f0c8a47")

SUCCESS = 0
INSUFFICIENT_BALANCE = 1
PLAYER_NOT_FOUND = 2
BET_NOT_ALLOWED = 3
AUTHENTICATION_FAILED = 4
INVALID_HASH = 5
PLAYER_FROZEN = 6
BAD_PARAMETERS = 7
GAME_NOT_FOUND = 8
BET_LIMIT_REACHED = 50
INTERNAL_RETRY = 100  # "internal server error, retry required": the provider retries and reconciles
INTERNAL_NO_RETRY = 120  # "internal server error, no retry": nothing to gain by asking again
END_ROUND_RETRY = 130  # 100's meaning, for endRound only

DESCRIPTIONS = {
    SUCCESS: "Success",
    INSUFFICIENT_BALANCE: "Insufficient balance",
    PLAYER_NOT_FOUND: "Player not found or is logged out",
    BET_NOT_ALLOWED: "Bet is not allowed",
    AUTHENTICATION_FAILED: "Player authentication failed due to invalid, not found or expired token",
    INVALID_HASH: "Invalid hash code",
    PLAYER_FROZEN: "Player is frozen",
    BAD_PARAMETERS: "Bad parameters in the request",
    GAME_NOT_FOUND: "Game is not found or disabled",
    BET_LIMIT_REACHED: "Bet limit has been reached",
    INTERNAL_RETRY: "Internal server error",
    INTERNAL_NO_RETRY: "Internal server error",
    END_ROUND_RETRY: "Internal server error on EndRound processing",
}

# The neutral statuses in Pragmatic Play's codes. A duplicate (a reference reused with other content) is 120:
# its reconciliation would refund the bet the reference already names. A bet that no longer exists (refunded
# before it arrived) is 3, which the provider does not reconcile; a result with no bet in its round is 120.
STATUS_CODES: dict[Status, int] = {
    Status.OK: SUCCESS,
    Status.NOT_ENOUGH_MONEY: INSUFFICIENT_BALANCE,
    Status.INVALID_TOKEN: PLAYER_NOT_FOUND,
    Status.TOKEN_EXPIRED: AUTHENTICATION_FAILED,
    Status.USER_DISABLED: PLAYER_FROZEN,
    Status.WRONG_CURRENCY: BAD_PARAMETERS,
    Status.UNREPRESENTABLE_AMOUNT: BAD_PARAMETERS,
    Status.INVALID_GAME: GAME_NOT_FOUND,
    Status.LIMIT_REACHED: BET_LIMIT_REACHED,
    Status.NOT_CERTIFIED: BET_NOT_ALLOWED,  # the game may not be played where the player is
    Status.DUPLICATE_TRANSACTION: INTERNAL_NO_RETRY,
    Status.TRANSACTION_DOES_NOT_EXIST: INTERNAL_NO_RETRY,
    Status.UNKNOWN: INTERNAL_RETRY,
}
# Where a method reads a status otherwise: a bet's or an authentication's bad token is an authentication failure.
METHOD_CODES: dict[str, dict[Status, int]] = {
    "authenticate": {Status.INVALID_TOKEN: AUTHENTICATION_FAILED},
    "bet": {Status.INVALID_TOKEN: AUTHENTICATION_FAILED, Status.TRANSACTION_DOES_NOT_EXIST: BET_NOT_ALLOWED},
    "endRound": {Status.UNKNOWN: END_ROUND_RETRY},
}

_TEXT = 100  # userId, reference, roundId, token...: Pragmatic Play's widest identifiers
_REQUIRED: dict[str, tuple[str, ...]] = {
    "authenticate": ("providerId", "token"),
    "balance": ("providerId", "userId"),
    "bet": ("providerId", "userId", "gameId", "roundId", "amount", "reference", "timestamp", "roundDetails"),
    "result": ("providerId", "userId", "gameId", "roundId", "amount", "reference", "timestamp", "roundDetails"),
    "bonusWin": ("providerId", "userId", "amount", "reference", "timestamp", "bonusCode"),
    "jackpotWin": ("providerId", "userId", "gameId", "roundId", "jackpotId", "amount", "reference", "timestamp"),
    "promoWin": (
        "providerId",
        "userId",
        "campaignId",
        "campaignType",
        "amount",
        "currency",
        "reference",
        "timestamp",
    ),
    "endRound": ("providerId", "userId", "gameId", "roundId"),
    "refund": ("providerId", "userId", "reference"),
    "adjustment": (
        "providerId",
        "userId",
        "gameId",
        "roundId",
        "amount",
        "reference",
        "validBetAmount",
        "timestamp",
    ),
}
METHODS = tuple(_REQUIRED)
TRANSACTION_METHODS = frozenset({"bet", "result", "bonusWin", "jackpotWin", "promoWin", "adjustment", "refund"})
# The stored widths of what lands in a column (game_code varchar(64), currency varchar(8)); others are capped at
# _TEXT so that a namespaced transaction uuid (`jackpotWin:<reference>`) still fits its 128 characters.
_WIDTH = {"gameId": 64, "currency": 8, "token": 128, "roundDetails": 4000, "jackpotDetails": 4000}


class Refused(Exception):
    """Answered with this code before the wallet is asked."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


# ---- the wire ------------------------------------------------------------------------------------


def parse_form(raw: bytes) -> dict[str, str]:
    """The body's parameters (Refused(7) for anything that is not a plain form of unique names)."""
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(BAD_PARAMETERS) from exc
    params = dict(pairs)
    if len(params) != len(pairs) or len(params) > MAX_PARAMS:
        raise Refused(BAD_PARAMETERS)
    if any("\x00" in k or "\x00" in v for k, v in pairs):
        raise Refused(BAD_PARAMETERS)
    return params


def signing_string(params: dict[str, str]) -> str:
    """Every parameter but `hash`, sorted by name, as `name=value` joined by '&' (the secret goes after it)."""
    return "&".join(f"{name}={params[name]}" for name in sorted(params) if name != "hash")


def compute_hash(params: dict[str, str], secret: str) -> str:
    return hashlib.md5((signing_string(params) + secret).encode()).hexdigest()  # noqa: S324  (the protocol's)


def verify_hash(params: dict[str, str], secret: str | None) -> bool:
    given = params.get("hash")
    if not secret or not given:
        return False
    # as bytes: compare_digest refuses a str with non-ASCII characters (TypeError), and a forged hash is still 5
    return hmac.compare_digest(compute_hash(params, secret).encode(), given.strip().lower().encode())


def check_fields(method: str, params: dict[str, str]) -> None:
    for name in _REQUIRED[method]:
        if name not in params or (not params[name] and name != "roundDetails"):
            raise Refused(BAD_PARAMETERS)
    for name, value in params.items():
        if len(value) > _WIDTH.get(name, _TEXT):
            raise Refused(BAD_PARAMETERS)


def to_minor(value: str, currency: str, *, signed: bool = False) -> int:
    """A decimal in currency units → ledger minor units, exactly (Refused(7) when it has no exact value)."""
    text_value = value.strip()
    negative = signed and text_value.startswith("-")
    digits = text_value[1:] if negative else text_value
    whole, _, fraction = digits.partition(".")
    if not whole.isdigit() or not whole.isascii() or (fraction and not (fraction.isdigit() and fraction.isascii())):
        raise Refused(BAD_PARAMETERS)
    if len(whole) > 18 or len(fraction) > 18:
        raise Refused(BAD_PARAMETERS)
    exponent = CURRENCIES[currency].exponent
    significant = fraction.rstrip("0")
    if len(significant) > exponent:
        raise Refused(BAD_PARAMETERS)
    minor: int = int(whole) * 10**exponent + int(significant.ljust(exponent, "0") or "0")
    if minor > MAX_MINOR_UNITS:
        raise Refused(BAD_PARAMETERS)
    return -minor if negative else minor


def to_units(minor: int, currency: str) -> float:
    """Minor units → the JSON number in currency units (exact: a float keeps 15 significant digits)."""
    return float(Decimal(format_amount(minor, currency)))


def transaction_id(provider_code: str, transaction_uuid: str) -> str:
    """Our wallet's id of a transaction, the same on every retry (32 hex characters)."""
    return uuid.uuid5(TX_NAMESPACE, f"{provider_code}:{transaction_uuid}").hex


# ---- the dialect ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PragmaticDialect:
    """How a method's answer is written: its codes (METHOD_CODES over STATUS_CODES) and its fields."""

    method: str
    # A retry's answer shows the player's balance now, not the first answer's: "For retries actual player's balance
    # should be returned" (the specification's idempotency note, docs/providers-pragmatic.md).
    retry_shows_current_balance: bool = True

    def code(self, status: Status) -> int:
        own = METHOD_CODES.get(self.method, {})
        return own[status] if status in own else STATUS_CODES[status]

    def status_code(self, status: Status) -> str:
        return str(self.code(status))

    def render(self, command: WalletCommand, result: WalletResult) -> dict[str, Any]:
        code = self.code(result.status)
        body: dict[str, Any] = {}
        if self.method in TRANSACTION_METHODS and command.transaction_uuid is not None:
            body["transactionId"] = transaction_id(command.provider.code, command.transaction_uuid)
        currency = result.currency or command.currency
        if self.method == "authenticate" and code == SUCCESS:
            body["userId"] = result.user
            body["token"] = command.token
        if self.method != "refund" and result.balance is not None and currency in CURRENCIES:
            if self.method != "endRound":
                body["currency"] = currency
            body["cash"] = to_units(result.balance, currency)
            body["bonus"] = 0.0
            if self.method == "bet":
                body["usedPromo"] = 0.0
        body["error"] = code
        body["description"] = DESCRIPTIONS[code]
        return body
