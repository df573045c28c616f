"""The wallet's neutral vocabulary: statuses, the parsed command, the result and how a protocol renders it,
and the small values every step shares. No database here."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from services import wallet


class Status(StrEnum):
    OK = "OK"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    INVALID_GAME = "INVALID_GAME"
    WRONG_CURRENCY = "WRONG_CURRENCY"
    NOT_ENOUGH_MONEY = "NOT_ENOUGH_MONEY"
    USER_DISABLED = "USER_DISABLED"
    DUPLICATE_TRANSACTION = "DUPLICATE_TRANSACTION"
    TRANSACTION_DOES_NOT_EXIST = "TRANSACTION_DOES_NOT_EXIST"
    LIMIT_REACHED = "LIMIT_REACHED"
    NOT_CERTIFIED = "NOT_CERTIFIED"  # the game is not certified in the player's country (its catalogue metadata)
    UNREPRESENTABLE_AMOUNT = "UNREPRESENTABLE_AMOUNT"  # no exact value in the wallet currency's minor units
    UNKNOWN = "UNKNOWN"


class Kind(StrEnum):
    BET = "bet"
    WIN = "win"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class ProviderRef:
    id: uuid.UUID
    code: str
    # The row version (`xmin`) an adapter's cached copy of the provider row was read at: the command's own
    # context statement checks it, so a provider disabled or re-keyed since is noticed (StaleProvider).
    # None: the adapter read the row for this request.
    version: str | None = None


class StaleProvider(Exception):
    """The provider row changed since the adapter cached it: nothing was written; read it again and retry."""


@dataclass(frozen=True)
class WalletCommand:
    """One parsed provider request; amounts are ledger minor units of `currency`."""

    provider: ProviderRef
    endpoint: str  # for the call log: the protocol's path, e.g. "/transaction/bet"
    raw_request: bytes
    request_uuid: str | None = None  # a repeated one per endpoint gets the stored answer
    user: str | None = None  # our player id as the provider knows it
    token: str | None = None
    transaction_uuid: str | None = None
    reference_uuid: str | None = None  # win: the bet (None: any bet of the round); rollback: what to undo
    round_ref: str | None = None
    round_closed: bool = False
    game_code: str | None = None
    currency: str | None = None
    amount: int = 0
    # The protocol's amount has no exact value in `currency`'s minor units (0.25 JPY); `amount` is then 0.
    # Whether that is the fault depends on `currency` being the wallet's, which only the wallet knows.
    unrepresentable: bool = False
    is_free: bool = False  # a free round of a bonus grant: debits nothing
    reward_uuid: str | None = None  # the grant (services/bonuses) a free round plays
    # A win the game supplier pays from its own promotion (Hub88 `is_supplier_promo`): no bet, perhaps no live
    # session; funded by the supplier (services/provider_wallet/async_win.py).
    supplier_promo: bool = False
    # A rollback of a transaction never seen refuses the late original only when the same player sent both
    # (Pragmatic's refund names its player: a misdirected refund must not block another player's bet).
    player_scoped_rollbacks: bool = False


@dataclass(frozen=True)
class PlayerInfo:
    country: str
    brand_code: str
    birth_date: date
    registration_date: datetime
    affiliate_code: str | None = None  # the partner who brought the player (services/affiliates), if any


@dataclass(frozen=True)
class WalletResult:
    status: Status
    user: str | None = None
    currency: str | None = None
    balance: int | None = None  # the player's cash + bonus money in ledger minor units, when known
    replayed: bool = False
    info: PlayerInfo | None = None


class Dialect(Protocol):
    """How one protocol writes an answer: its status codes and its response body."""

    def status_code(self, status: Status) -> str: ...

    def render(self, command: WalletCommand, result: WalletResult) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Answer:
    result: WalletResult
    body: Mapping[str, Any] = field(default_factory=dict)  # exactly what to send back


class Duplicate(Exception):
    """A known transaction uuid with different content surfaced inside the transaction."""


@dataclass(frozen=True)
class Record:
    """What to store for a transaction that reached the money decision."""

    player_id: uuid.UUID | None
    currency: str | None
    amount: int
    round_id: uuid.UUID | None = None
    ledger_transaction_id: uuid.UUID | None = None


Decision = tuple[WalletResult, Record | None]  # what a bet, win or rollback decided, and what to store


def refuse(command: WalletCommand, status: Status, balance: int | None = None) -> tuple[WalletResult, None]:
    return WalletResult(status, command.user, command.currency, balance), None


@dataclass
class Purse:
    """The player's bonus money as this command leaves it (added to the cash balance the provider sees)."""

    bonus: int


def total(cash: int | None, purse: Purse) -> int | None:
    return None if cash is None else cash + purse.bonus


def request_hash(command: WalletCommand, kind: Kind) -> str:
    """What makes a retried transaction "the same": amount, currency, round, user, game, reference."""
    identity: list[Any] = [
        kind.value,
        command.user,
        command.amount,
        command.currency,
        command.round_ref,
        command.game_code,
        command.reference_uuid,
    ]
    if command.is_free:  # a free round and a paid one with the same uuid are different requests
        identity += ["free", command.reward_uuid]
    if command.supplier_promo:  # so is a supplier's promotional win
        identity += ["supplier_promo"]
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()


def ledger_key(command: WalletCommand) -> str:
    return f"provider:{command.provider.code}:{command.transaction_uuid}"


def reference(command: WalletCommand) -> str:
    """The provider transaction as the ledger (and a bonus's split) names it."""
    return f"{command.provider.code}:{command.transaction_uuid}"


def provider_actor(command: WalletCommand) -> wallet.Actor:
    return wallet.Actor("provider", command.provider.id)
