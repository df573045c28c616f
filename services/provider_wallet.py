"""The seamless wallet game providers call: balance, user info, bet, win and rollback.

One protocol-agnostic service; each provider protocol (integrations/hub88.py, integrations/softswiss.py)
parses and verifies its requests into a `WalletCommand`, calls one function here and renders the
`WalletResult` in its own dialect (a `Dialect` turns the neutral `Status` into its codes and body).

Guarantees:
- Money moves only through services/ledger.py: a bet is player cash -X / brand house revenue +X, a
  win the reverse, a rollback the reverse of the transaction it names. One database transaction per
  command, with the provider transaction, its round and the call log written in it.
- A provider's `transaction_uuid` is processed once, forever (provider_transactions, no TTL): a retry
  with the same content gets the original answer and moves nothing; with different content it is
  DUPLICATE_TRANSACTION. The ledger key `provider:{code}:{transaction_uuid}` backs this up, so even
  racing retries move money once.
- A rollback of a transaction we never saw answers OK, moves nothing and is remembered: the late
  bet (or win) with that uuid is refused (TRANSACTION_DOES_NOT_EXIST) and moves nothing.
- A rollback of a known transaction books on that player's cash account in that transaction's
  currency (another currency named in the request: WRONG_CURRENCY), and only the transaction's own
  `rolled_back` flag says it was undone: a refused rollback, or one sent as another player, does not.
- Rounds are per player: (provider, round_ref, player) — one player's round ref never merges with another's.
- A win needs a processed, not rolled-back bet of the same player (else TRANSACTION_DOES_NOT_EXIST).
- The token's expiry is checked on bets only, never on wins or rollbacks (they come late). A game
  session whose login session ended (logout, revocation, password change, block: services/game_sessions.py)
  takes no more bets either, but the wins and rollbacks of its open rounds still settle.
- An amount with no exact value in the request's currency is refused as malformed only when that
  currency is the wallet's; otherwise WRONG_CURRENCY, the truer answer, wins.
- Commands on one player serialise on the player's cash row (their money lock, services/wallet.py);
  a transaction and the rollback naming it also serialise on a transaction-scoped advisory lock keyed
  by the transaction's uuid, so "rollback before bet" cannot race the bet even across players.
- A repeated call (`request_uuid` per endpoint) gets the stored answer as it was.

Round trips for a new bet: context (session, player, game, cash account) · locks (+ balance) · state
(call, transaction, reference, rollback marker, the RG gate's inputs) · the ledger's five · the RG
activity counter · round · transaction · call log.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from core.fx import NO_RATES, Rates
from core.ids import new_id, parse_uuid
from core.logging import get_logger
from core.money import CURRENCIES
from core.runtime import Runtime
from models.ledger import AccountPurpose, TransactionStatus
from models.players import PlayerStatus
from services import game_sessions, ledger, wallet
from services.bonuses import lifecycle as bonus_lifecycle
from services.bonuses import play as bonus_play
from services.ledger import Entry, IdempotencyConflict, Leg
from services.rg import gates as rg_gates
from services.rg.profiles import DEFAULT

log = get_logger(__name__)


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


@dataclass(frozen=True)
class PlayerInfo:
    country: str
    brand_code: str
    birth_date: date
    registration_date: datetime


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


class _Duplicate(Exception):
    """A known transaction uuid with different content surfaced inside the transaction."""


# ---- reads -------------------------------------------------------------------------------------

# `game_enabled` is launch's rule (services/games._refuse_for: the game, the brand's switch, the player's
# country), so a game switched off for a brand or a country stops bets in sessions already open.
_CONTEXT = text("""
SELECT p.id AS player_id, p.status AS player_status, p.brand_id, p.country, p.date_of_birth, p.created_at,
       p.jurisdiction, p.currency AS player_currency, b.code AS brand_code,
       s.player_id AS session_player, s.currency AS session_currency, s.expires_at, s.ended_at, s.mode,
       s.id AS session_id, s.auth_session_id,
       g.id AS game_id, g.max_bet, g.contribution_category,
       (g.enabled AND coalesce(bg.enabled, true)
        AND NOT coalesce(p.country = ANY(bg.disabled_countries), false)
        AND (cardinality(g.countries) = 0 OR coalesce(p.country = ANY(g.countries), false))) AS game_enabled,
       a.id AS cash_id, a.balance AS cash_balance, a.currency AS cash_currency,
       ba.id AS bonus_account, ba.balance AS bonus_balance
FROM (SELECT 1) AS one
LEFT JOIN players p ON p.id = CAST(:player AS uuid)
LEFT JOIN brands b ON b.id = p.brand_id
LEFT JOIN game_sessions s ON s.token = :token
LEFT JOIN games g ON g.provider_id = :provider AND g.code = :game
LEFT JOIN brand_games bg ON bg.brand_id = p.brand_id AND bg.game_id = g.id
LEFT JOIN ledger_accounts a ON a.owner_type = 'player' AND a.owner_id = p.id::text AND a.brand_id = p.brand_id
     AND a.purpose = 'cash' AND a.currency = coalesce(CAST(:currency AS varchar), s.currency, p.currency)
LEFT JOIN ledger_accounts ba ON ba.owner_type = 'player' AND ba.owner_id = a.owner_id AND ba.brand_id = a.brand_id
     AND ba.purpose = 'bonus' AND ba.currency = a.currency
""")

_LOCK_ONLY = text("SELECT pg_advisory_xact_lock(hashtextextended(:lock_key, 0))")
_REFERENCE = text("""
SELECT player_id, currency FROM provider_transactions WHERE provider_id = :provider AND transaction_uuid = :ref
""")

_STATE = text(f"""
SELECT c.response AS call_response, {rg_gates.BET_STATE_COLUMNS}, {bonus_play.BET_STATE_COLUMNS},
       o.kind AS own_kind, o.request_hash AS own_hash, o.status AS own_status, o.balance_after AS own_balance,
       o.currency AS own_currency,
       r.id AS ref_id, r.kind AS ref_kind, r.status AS ref_status, r.player_id AS ref_player,
       r.amount AS ref_amount, r.currency AS ref_currency, r.rolled_back AS ref_rolled_back,
       r.round_id AS ref_round, r.game_code AS ref_game, r.ledger_transaction_id AS ref_ledger,
       r.created_at AS ref_created_at,
       (SELECT m.transaction_uuid FROM provider_transactions m WHERE m.provider_id = :provider
         AND m.kind = 'rollback' AND m.reference_transaction_uuid = :marked LIMIT 1) AS rolled_back_by,
       (SELECT gr.id FROM game_rounds gr WHERE gr.provider_id = :provider AND gr.round_ref = :round
         AND gr.player_id = CAST(:player AS uuid) AND gr.currency = :currency) AS round_id
FROM (SELECT 1) AS one
LEFT JOIN provider_calls c ON c.provider_id = :provider AND c.endpoint = :endpoint AND c.request_uuid = :request
LEFT JOIN provider_transactions o ON o.provider_id = :provider AND o.transaction_uuid = :tx
LEFT JOIN provider_transactions r ON r.provider_id = :provider AND r.transaction_uuid = :ref
""")  # noqa: S608  (constant fragments from services/rg/gates.py and services/bonuses/play.py, no input)

_ROUND = text("""
INSERT INTO game_rounds (id, provider_id, round_ref, player_id, game_id, session_id, currency, status,
                         total_bet, total_win, opened_at, closed_at)
VALUES (:id, :provider, :round, :player, :game, :session, :currency, :status, :bet, :win, :now, :closed_at)
ON CONFLICT (provider_id, round_ref, player_id) DO UPDATE SET
    total_bet = game_rounds.total_bet + EXCLUDED.total_bet,
    total_win = game_rounds.total_win + EXCLUDED.total_win,
    status = CASE WHEN EXCLUDED.status = 'closed' THEN 'closed' ELSE game_rounds.status END,
    closed_at = coalesce(game_rounds.closed_at, EXCLUDED.closed_at)
RETURNING id
""")

_ROUND_UNDO = text("""
UPDATE game_rounds SET total_bet = total_bet - :bet, total_win = total_win - :win WHERE id = :round
""")

_RECORD = text("""
INSERT INTO provider_transactions (id, provider_id, transaction_uuid, kind, reference_transaction_uuid,
    request_hash, status, player_id, round_id, game_code, currency, amount, ledger_transaction_id,
    rolled_back, balance_after, raw_request, response, created_at)
VALUES (:id, :provider, :tx, :kind, :ref, :hash, :status, :player, :round, :game, :currency, :amount, :ledger,
        false, :balance, :raw, CAST(:response AS jsonb), :now)
ON CONFLICT (provider_id, transaction_uuid) DO NOTHING
RETURNING id
""")

_MARK_ROLLED_BACK = text("UPDATE provider_transactions SET rolled_back = true WHERE id = :id")

_CALL = text("""
INSERT INTO provider_calls (id, provider_id, endpoint, request_uuid, transaction_uuid, raw_request, response,
                            http_status, created_at)
VALUES (:id, :provider, :endpoint, :request, :tx, :raw, CAST(:response AS jsonb), 200, :now)
ON CONFLICT (provider_id, endpoint, request_uuid) DO NOTHING
""")


def _raw(command: WalletCommand) -> str:
    return command.raw_request.decode("utf-8", errors="replace")


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        decoded: dict[str, Any] = json.loads(value)
        return decoded
    return dict(value)


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
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()


def ledger_key(command: WalletCommand) -> str:
    return f"provider:{command.provider.code}:{command.transaction_uuid}"


@dataclass
class _Context:
    player_id: uuid.UUID | None
    player_status: str | None
    brand_id: uuid.UUID | None
    brand_code: str | None
    country: str | None
    birth_date: date | None
    registered: datetime | None
    session_player: uuid.UUID | None
    session_currency: str | None
    expires_at: datetime | None
    ended_at: datetime | None
    mode: str | None
    session_id: uuid.UUID | None
    game_id: uuid.UUID | None
    game_enabled: bool | None
    max_bet: dict[str, str] | None
    cash_id: uuid.UUID | None
    cash_balance: int | None
    cash_currency: str | None
    jurisdiction: str | None = None
    auth_session_id: uuid.UUID | None = None
    game_category: str | None = None
    bonus_account: uuid.UUID | None = None
    bonus_balance: int | None = None
    player_currency: str | None = None  # the wallet's currency
    rates: Rates = NO_RATES  # the stated exchange rates (RG limits in another currency)

    def bettor(self, currency: str) -> rg_gates.Bettor:
        assert self.player_id is not None
        return rg_gates.Bettor(
            self.player_id, self.jurisdiction or DEFAULT, currency, self.auth_session_id, self.session_id, self.rates
        )


async def _context(db: AsyncSession, command: WalletCommand, rates: Rates = NO_RATES) -> _Context:
    player = parse_uuid(command.user or "")
    currency = command.currency if command.currency in CURRENCIES else None
    row = (
        await db.execute(
            _CONTEXT,
            {
                "player": str(player) if player else None,
                "token": command.token,
                "provider": command.provider.id,
                "game": command.game_code,
                "currency": currency,
            },
        )
    ).one()
    return _Context(
        row.player_id,
        row.player_status,
        row.brand_id,
        row.brand_code,
        row.country,
        row.date_of_birth,
        row.created_at,
        row.session_player,
        row.session_currency,
        row.expires_at,
        row.ended_at,
        row.mode,
        row.session_id,
        row.game_id,
        row.game_enabled,
        _json(row.max_bet) if row.max_bet is not None else None,
        row.cash_id,
        row.cash_balance,
        row.cash_currency,
        row.jurisdiction,
        row.auth_session_id,
        row.contribution_category,
        row.bonus_account,
        row.bonus_balance,
        row.player_currency,
        rates,
    )


async def _lock_money(db: AsyncSession, ctx: _Context, cash: uuid.UUID | None, *, serial: str | None = None) -> int:
    """The player's money lock, in the one order (services/wallet.py); returns the cash balance under it."""
    assert ctx.player_id is not None
    assert cash is not None
    return (await wallet.lock_player_money(db, ctx.player_id, cash=cash, serial=serial)).cash


async def _log_call(db: AsyncSession, command: WalletCommand, body: Mapping[str, Any]) -> None:
    if not command.request_uuid:
        return
    await db.execute(
        _CALL,
        {
            "id": new_id(),
            "provider": command.provider.id,
            "endpoint": command.endpoint,
            "request": command.request_uuid,
            "tx": command.transaction_uuid,
            "raw": _raw(command),
            "response": json.dumps(dict(body)),
            "now": clock.now(),
        },
    )


async def _stored_call(db: AsyncSession, command: WalletCommand) -> dict[str, Any] | None:
    if not command.request_uuid:
        return None
    stored = (
        await db.execute(
            text(
                "SELECT response FROM provider_calls WHERE provider_id = :provider AND endpoint = :endpoint "
                "AND request_uuid = :request"
            ),
            {"provider": command.provider.id, "endpoint": command.endpoint, "request": command.request_uuid},
        )
    ).scalar_one_or_none()
    return _json(stored) if stored is not None else None


# ---- queries: balance and user info --------------------------------------------------------------


async def balance(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    """The player's cash. The token must be known and the player's; its expiry is not checked."""
    async with rt.database.transaction() as db:
        stored = await _stored_call(db, command)
        if stored is not None:
            return Answer(WalletResult(Status.OK, command.user, command.currency, replayed=True), stored)
        ctx = await _context(db, command)
        result = await _balance_result(db, command, ctx)
        body = dialect.render(command, result)
        await _log_call(db, command, body)
    return Answer(result, body)


async def _balance_result(db: AsyncSession, command: WalletCommand, ctx: _Context) -> WalletResult:
    if ctx.player_id is None or ctx.session_player is None or ctx.session_player != ctx.player_id:
        return WalletResult(Status.INVALID_TOKEN, command.user, command.currency)
    currency = ctx.session_currency
    if command.currency is not None and command.currency != currency:
        return WalletResult(Status.WRONG_CURRENCY, command.user, command.currency)
    # No account yet in the session's currency: nothing was ever paid in, so the balance is zero.
    return WalletResult(Status.OK, command.user, currency, int(ctx.cash_balance or 0) + int(ctx.bonus_balance or 0))


async def user_info(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    async with rt.database.transaction() as db:
        stored = await _stored_call(db, command)
        if stored is not None:
            return Answer(WalletResult(Status.OK, command.user, replayed=True), stored)
        ctx = await _context(db, command)
        if ctx.player_id is None:
            result = WalletResult(Status.INVALID_TOKEN, command.user)
        else:
            assert ctx.country is not None
            assert ctx.brand_code is not None
            assert ctx.birth_date is not None
            assert ctx.registered is not None
            result = WalletResult(
                Status.OK,
                command.user,
                ctx.cash_currency,
                int(ctx.cash_balance or 0) + int(ctx.bonus_balance or 0),
                info=PlayerInfo(ctx.country, ctx.brand_code, ctx.birth_date, ctx.registered),
            )
        body = dialect.render(command, result)
        await _log_call(db, command, body)
    return Answer(result, body)


# ---- commands: bet, win, rollback -----------------------------------------------------------------


async def bet(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    return await _transaction(rt, command, dialect, Kind.BET)


async def win(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    return await _transaction(rt, command, dialect, Kind.WIN)


async def rollback(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    return await _transaction(rt, command, dialect, Kind.ROLLBACK)


async def _transaction(rt: Runtime, command: WalletCommand, dialect: Dialect, kind: Kind) -> Answer:
    database = rt.database
    try:
        async with database.transaction() as db:
            return await _run(db, command, dialect, kind, rt.settings.stated_rates)
    except (_Duplicate, IdempotencyConflict):
        # The transaction rolled back; the refusal moved nothing. Log the call on its own.
        result = WalletResult(Status.DUPLICATE_TRANSACTION, command.user, command.currency)
        body = dialect.render(command, result)
        async with database.transaction() as db:
            await _log_call(db, command, body)
        return Answer(result, body)


async def _run(db: AsyncSession, command: WalletCommand, dialect: Dialect, kind: Kind, rates: Rates) -> Answer:
    ctx = await _context(db, command, rates)
    if command.unrepresentable:  # refused before any lock: nothing can move, nothing is recorded
        result = WalletResult(_unrepresentable(command, ctx), command.user, command.currency)
        body = dialect.render(command, result)
        await _log_call(db, command, body)
        return Answer(result, body)
    # A transaction and a rollback naming it lock the same key (its uuid), so "rollback before the
    # original" cannot race the original, whoever the rollback claims the player is. Everything that
    # moves a player's money also holds that player's cash row.
    subject = command.reference_uuid if kind == Kind.ROLLBACK else command.transaction_uuid
    lock_key = f"{command.provider.id}:{subject}"
    current: int | None = None
    if kind == Kind.ROLLBACK:
        # A rollback moves money in the currency of what it undoes, on that transaction's player's
        # account, whatever the request's currency, session or player default say. Lock the subject
        # first (as the original does), then read it and lock that account.
        await db.execute(_LOCK_ONLY, {"lock_key": lock_key})
        ref = (
            await db.execute(_REFERENCE, {"provider": command.provider.id, "ref": command.reference_uuid or ""})
        ).one_or_none()
        if (
            ref is not None
            and ctx.player_id is not None
            and ref.player_id == ctx.player_id
            and ref.currency in CURRENCIES
            and ref.currency != ctx.cash_currency
        ):
            ctx = await _context(db, replace(command, currency=ref.currency), rates)
        if ctx.cash_id is not None:
            current = await _lock_money(db, ctx, ctx.cash_id)
    elif ctx.cash_id is not None:
        current = await _lock_money(db, ctx, ctx.cash_id, serial=lock_key)  # the key, then the cash: one statement
    else:
        await db.execute(_LOCK_ONLY, {"lock_key": lock_key})
    state = (
        await db.execute(
            _STATE,
            {
                "provider": command.provider.id,
                "endpoint": command.endpoint,
                "request": command.request_uuid or "",
                "tx": command.transaction_uuid,
                "ref": command.reference_uuid or "",
                "marked": command.reference_uuid if kind == Kind.ROLLBACK else command.transaction_uuid,
                "round": command.round_ref or "",
                "player": str(ctx.player_id) if ctx.player_id else None,
                "currency": command.currency,
                "now": clock.now(),
                "auth_session": ctx.auth_session_id,
                **bonus_play.state_params(
                    provider_code=command.provider.code,
                    reference=command.reference_uuid,
                    reward=command.reward_uuid if command.is_free else None,
                    bonus_account=ctx.bonus_account,
                    currency=ctx.cash_currency,
                ),
            },
        )
    ).one()
    bonus = bonus_play.state_of(state)
    purse = _Purse(bonus.balance)
    if state.call_response is not None:  # the same call again: the same answer, as sent
        return Answer(
            WalletResult(Status(_neutral(dialect, state.call_response)), command.user, command.currency, replayed=True),
            _json(state.call_response),
        )
    if state.own_kind is not None:  # a retried transaction
        if state.own_kind != kind.value or state.own_hash != request_hash(command, kind):
            raise _Duplicate
        status = Status(_from_code(dialect, state.own_status))
        balance_after = state.own_balance if state.own_balance is not None else _total(current, purse)
        result = WalletResult(
            status, command.user, state.own_currency or command.currency, balance_after, replayed=True
        )
        body = dialect.render(command, result)
        await _log_call(db, command, body)
        return Answer(result, body)

    if kind == Kind.BET:
        result, record = await _bet(db, command, ctx, state, bonus, purse, current)
    elif kind == Kind.WIN:
        result, record = await _win(db, command, dialect, ctx, state, bonus, purse, current)
    else:
        result, record = await _rollback(db, command, dialect, ctx, state, bonus, purse, current)
    if result.balance is not None:  # the provider sees one balance: cash and bonus money together
        result = replace(result, balance=result.balance + purse.bonus)
    body = dialect.render(command, result)
    if record is not None:
        inserted = (
            await db.execute(
                _RECORD,
                {
                    "id": new_id(),
                    "provider": command.provider.id,
                    "tx": command.transaction_uuid,
                    "kind": kind.value,
                    "ref": command.reference_uuid,
                    "hash": request_hash(command, kind),
                    "status": dialect.status_code(result.status),
                    "player": record.player_id,
                    "round": record.round_id,
                    "game": command.game_code,
                    "currency": record.currency if record.currency in CURRENCIES else None,
                    "amount": record.amount,
                    "ledger": record.ledger_transaction_id,
                    "balance": result.balance,
                    "raw": _raw(command),
                    "response": json.dumps(body),
                    "now": clock.now(),
                },
            )
        ).scalar_one_or_none()
        if inserted is None:
            raise _Duplicate  # another player's transaction with this uuid committed first
    await _log_call(db, command, body)
    return Answer(result, body)


def _unrepresentable(command: WalletCommand, ctx: _Context) -> Status:
    """An amount with no exact value in the request's currency (0.25 JPY) is malformed only in the
    wallet's own currency; in a currency the wallet does not hold, that mismatch is the truer answer."""
    if ctx.player_currency is not None and command.currency != ctx.player_currency:
        return Status.WRONG_CURRENCY
    return Status.UNREPRESENTABLE_AMOUNT


def _from_code(dialect: Dialect, code: str) -> str:
    for status in Status:
        if dialect.status_code(status) == code:
            return status.value
    return Status.UNKNOWN.value


def _ok(dialect: Dialect, code: str | None) -> bool:
    return code is not None and code == dialect.status_code(Status.OK)


def _neutral(dialect: Dialect, response: Any) -> str:
    body = _json(response)
    code = body.get("status") or body.get("code")
    return _from_code(dialect, str(code)) if code is not None else Status.UNKNOWN.value


@dataclass(frozen=True)
class _Record:
    """What to store for a transaction that reached the money decision."""

    player_id: uuid.UUID | None
    currency: str | None
    amount: int
    round_id: uuid.UUID | None = None
    ledger_transaction_id: uuid.UUID | None = None


def _refuse(command: WalletCommand, status: Status, balance: int | None = None) -> tuple[WalletResult, None]:
    return WalletResult(status, command.user, command.currency, balance), None


@dataclass
class _Purse:
    """The player's bonus money as this command leaves it (added to the cash balance the provider sees)."""

    bonus: int


def _total(cash: int | None, purse: _Purse) -> int | None:
    return None if cash is None else cash + purse.bonus


async def _bet(
    db: AsyncSession,
    command: WalletCommand,
    ctx: _Context,
    state: Any,
    bonus: bonus_play.State,
    purse: _Purse,
    current: int | None,
) -> tuple[WalletResult, _Record | None]:
    if state.rolled_back_by is not None:
        # Rolled back before it arrived: remembered as refused, so no retry ever moves money.
        result = WalletResult(Status.TRANSACTION_DOES_NOT_EXIST, command.user, command.currency, current)
        return result, _Record(ctx.player_id, command.currency, command.amount)
    if ctx.player_id is None or ctx.session_player is None or ctx.session_player != ctx.player_id or ctx.mode != "real":
        return _refuse(command, Status.INVALID_TOKEN)
    now = clock.now()
    # The account's state is the truer answer than its token's: ending a blocked or excluded player's
    # logins ended this game session too, yet the provider should hear why the player cannot play.
    if ctx.player_status != PlayerStatus.ACTIVE or state.rg_excluded is not None:
        return _refuse(command, Status.USER_DISABLED, current)
    if not game_sessions.can_bet(ctx.ended_at, ctx.expires_at, now):  # expired, or its login session ended
        return _refuse(command, Status.TOKEN_EXPIRED, current)
    if command.currency != ctx.session_currency:
        return _refuse(command, Status.WRONG_CURRENCY, current)
    if ctx.game_id is None or not ctx.game_enabled:
        return _refuse(command, Status.INVALID_GAME, current)
    if _above_max_bet(ctx.max_bet, command):
        return _refuse(command, Status.LIMIT_REACHED, current)
    assert ctx.brand_id is not None
    assert command.currency is not None
    if ctx.cash_id is None:  # first play in this currency: open the accounts, then lock as usual
        cash = (await wallet.player_accounts(db, ctx.player_id, ctx.brand_id, command.currency)).cash
        current = await _lock_money(db, ctx, cash)
        ctx.cash_id = cash
    assert current is not None
    active = bonus.active
    if active is not None and active.overdue(now):  # past its expiry, the worker not there yet: settle it first
        await bonus_lifecycle.settle(db, active.id, _provider_actor(command), now=now)
        current = await _lock_money(db, ctx, ctx.cash_id)
        purse.bonus, active = 0, None
    # The stake's split by the bonus's spend order: responsible-gambling limits check and count the
    # player's own money, the cash part (a free round stakes none of it).
    from_cash, from_bonus = command.amount, 0
    if command.is_free:
        from_cash = 0
    elif active is not None:
        from_cash, from_bonus = bonus_play.split_stake(active, current, command.amount)
    # Under the cash row's lock: concurrent bets of this player meet the limits one at a time.
    rg_state = rg_gates.BetState(state.rg_excluded, state.rg_check_due, state.rg_limits)
    refusal = await rg_gates.bet_refusal(db, ctx.bettor(command.currency), from_cash, rg_state)
    if refusal is not None:
        status = Status.USER_DISABLED if refusal == rg_gates.BetRefusal.EXCLUDED else Status.LIMIT_REACHED
        return _refuse(command, status, current)
    await rg_gates.count_bet_time(db, ctx.bettor(command.currency), rg_state, now)
    if command.is_free:
        return await _free_bet(db, command, ctx, bonus.grant, current, now)
    if active is not None and active.max_bet is not None and command.amount + active.round_staked > active.max_bet:
        # Per round (its earlier stakes count); refused before anything moves, never confiscated afterwards.
        await bonus_lifecycle.max_bet_refused(db, active.id, command.amount, active.max_bet, command.provider.code)
        return _refuse(command, Status.LIMIT_REACHED, current)
    ledger_id: uuid.UUID | None = None
    balance_after = current
    if command.amount > 0:
        house = await wallet.operator_account(db, ctx.brand_id, AccountPurpose.HOUSE_REVENUE, command.currency)
        legs = _pair(ctx.cash_id, -command.amount, house)
        if active is not None:
            assert ctx.bonus_account is not None
            legs = bonus_play.stake_legs(ctx.cash_id, ctx.bonus_account, house, from_cash, from_bonus)
        outcome = await ledger.record(db, _entry(command, ctx, "game_bet", legs))
        if outcome.status == TransactionStatus.REFUSED:
            result = WalletResult(Status.NOT_ENOUGH_MONEY, command.user, command.currency, current)
            return result, _Record(
                ctx.player_id, command.currency, command.amount, ledger_transaction_id=outcome.transaction_id
            )
        ledger_id = outcome.transaction_id
        balance_after = _cash_after(outcome, ctx.cash_id, current)
        purse.bonus -= from_bonus
        await rg_gates.count_play(
            db, ctx.bettor(command.currency), command.currency, outcome.created_at, wagered=from_cash
        )  # the same cash part the limits were checked with
    round_id = await _round(db, command, ctx, bet=command.amount, win=0)
    if active is not None and command.amount > 0:
        progress = await bonus_play.record(
            db,
            reference=_reference(command),
            ledger_id=ledger_id,
            bonus_id=active.id,
            kind="bet",
            round_id=round_id,
            cash=from_cash,
            bonus=from_bonus,
            progress=active.contribution(command.amount, command.game_code, ctx.game_category),
            contributed=active.contribution(command.amount, command.game_code, ctx.game_category),
        )
        if progress.met and command.round_closed:  # no win to come: convert now (else when the win lands)
            purse.bonus = 0
            balance_after = await bonus_lifecycle.complete(db, active.id, _provider_actor(command))
    return (
        WalletResult(Status.OK, command.user, command.currency, balance_after),
        _Record(ctx.player_id, command.currency, command.amount, round_id, ledger_id),
    )


async def _free_bet(
    db: AsyncSession, command: WalletCommand, ctx: _Context, grant: bonus_play.Grant | None, current: int, now: datetime
) -> tuple[WalletResult, _Record | None]:
    """A free round of a grant: debits nothing, uses one spin. An unknown grant (or another player's)
    does not exist; a spent or ended one is a limit; a game it does not cover is an invalid game."""
    if grant is None or grant.player_id != ctx.player_id:
        return _refuse(command, Status.TRANSACTION_DOES_NOT_EXIST, current)
    if grant.currency != command.currency:
        return _refuse(command, Status.WRONG_CURRENCY, current)
    if command.game_code not in grant.games:
        return _refuse(command, Status.INVALID_GAME, current)
    if grant.status == "active" and grant.expires_at is not None and grant.expires_at <= now:
        await bonus_lifecycle.settle(db, grant.id, _provider_actor(command), now=now)  # ended: refused below
        current = await _lock_money(db, ctx, ctx.cash_id)
        return _refuse(command, Status.LIMIT_REACHED, current)
    if grant.status != "active" or grant.spins_left <= 0 or command.amount not in (0, grant.spin_bet):
        return _refuse(command, Status.LIMIT_REACHED, current)
    round_id = await _round(db, command, ctx, bet=0, win=0)
    progress = await bonus_play.record(
        db,
        reference=_reference(command),
        ledger_id=None,
        bonus_id=grant.id,
        kind="free_bet",
        round_id=round_id,
        cash=0,
        bonus=0,
        spins=-1,
    )
    balance_after = current
    if progress.met and command.round_closed:  # the last spin lost and nothing is left to wager
        balance_after = await bonus_lifecycle.complete(db, grant.id, _provider_actor(command))
    return (
        WalletResult(Status.OK, command.user, command.currency, balance_after),
        _Record(ctx.player_id, command.currency, command.amount, round_id, None),
    )


async def _win(
    db: AsyncSession,
    command: WalletCommand,
    dialect: Dialect,
    ctx: _Context,
    state: Any,
    bonus: bonus_play.State,
    purse: _Purse,
    current: int | None,
) -> tuple[WalletResult, _Record | None]:
    if ctx.player_id is None or ctx.cash_id is None or ctx.brand_id is None:
        return _refuse(command, Status.TRANSACTION_DOES_NOT_EXIST)
    if state.rolled_back_by is not None:  # this win was rolled back before it arrived
        result = WalletResult(Status.TRANSACTION_DOES_NOT_EXIST, command.user, command.currency, current)
        return result, _Record(ctx.player_id, command.currency, command.amount)
    if command.reference_uuid is not None:
        if not (
            _ok(dialect, state.ref_status)
            and state.ref_kind == Kind.BET.value
            and state.ref_player == ctx.player_id
            and not state.ref_rolled_back
        ):
            return _refuse(command, Status.TRANSACTION_DOES_NOT_EXIST, current)
        if command.currency != state.ref_currency:
            return _refuse(command, Status.WRONG_CURRENCY, current)
    elif state.round_id is None:  # protocols that name the round, not the bet
        return _refuse(command, Status.TRANSACTION_DOES_NOT_EXIST, current)
    if command.currency is None or command.currency not in CURRENCIES:
        return _refuse(command, Status.WRONG_CURRENCY, current)
    assert current is not None
    ledger_id: uuid.UUID | None = None
    balance_after = current
    wager = bonus.ref if command.reference_uuid is not None else bonus.round
    paid = bonus_play.WinSplit(command.amount, 0, 0, free=False)
    if command.amount > 0:
        house = await wallet.operator_account(db, ctx.brand_id, AccountPurpose.HOUSE_REVENUE, command.currency)
        legs = _pair(ctx.cash_id, command.amount, house)
        if wager is not None:  # a bonus holder's bet: the win follows its split
            paid = bonus_play.split_win(wager, command.amount)
            cost = (
                await wallet.operator_account(db, ctx.brand_id, AccountPurpose.BONUS_COST, command.currency)
                if paid.free
                else house
            )
            assert ctx.bonus_account is not None
            legs = bonus_play.win_legs(ctx.cash_id, ctx.bonus_account, house, cost, paid)
        if legs:
            outcome = await ledger.record(db, _entry(command, ctx, "game_win", legs))
            ledger_id = outcome.transaction_id
            balance_after = _cash_after(outcome, ctx.cash_id, current)
            await rg_gates.count_play(
                db,
                ctx.bettor(command.currency),
                command.currency,
                outcome.created_at,
                won=paid.cash if wager is not None else command.amount,
            )
    round_id = await _round(db, command, ctx, bet=0, win=command.amount)
    if wager is not None and command.amount > 0:
        purse.bonus += paid.bonus
        progress = await bonus_play.record(
            db,
            reference=_reference(command),
            ledger_id=ledger_id,
            bonus_id=wager.bonus_id,
            kind="free_win" if paid.free else "win",
            round_id=round_id,
            cash=paid.cash,
            bonus=paid.bonus,
            converted=paid.converted,
            withheld=paid.withheld,
            granted=paid.bonus if paid.free else 0,
            required=bonus_play.wagering_for(wager.terms, paid.bonus) if paid.free else 0,
        )
        if progress.met:
            purse.bonus = 0
            balance_after = await bonus_lifecycle.complete(db, wager.bonus_id, _provider_actor(command))
    elif wager is not None and command.round_closed and wager.status == "active":  # a round closed with no win
        converted = await bonus_lifecycle.complete_if_met(db, wager.bonus_id, _provider_actor(command))
        if converted is not None:
            purse.bonus, balance_after = 0, converted
    return (
        WalletResult(Status.OK, command.user, command.currency, balance_after),
        _Record(ctx.player_id, command.currency, command.amount, round_id, ledger_id),
    )


async def _rollback(
    db: AsyncSession,
    command: WalletCommand,
    dialect: Dialect,
    ctx: _Context,
    state: Any,
    bonus: bonus_play.State,
    purse: _Purse,
    current: int | None,
) -> tuple[WalletResult, _Record | None]:
    if state.ref_kind is None or state.ref_kind == Kind.ROLLBACK.value:
        # Unknown (or a rollback of a rollback): nothing to undo. Remembered, so the original is refused.
        currency = command.currency if command.currency in CURRENCIES else None
        if command.currency is None:
            currency = ctx.cash_currency  # the balance is shown in the account we read
        return WalletResult(Status.OK, command.user, currency, current), _Record(ctx.player_id, currency, 0)
    # Known: only what actually happened to it counts (its rolled_back flag, set by a rollback that
    # moved money), never another rollback row naming it (refused, or sent as another player).
    currency = state.ref_currency
    if command.currency is not None and command.currency != currency:
        return _refuse(command, Status.WRONG_CURRENCY)
    unchanged = WalletResult(Status.OK, command.user, currency, current)
    wager = bonus.ref
    if (
        wager is not None
        and wager.kind == "free_bet"
        and not state.ref_rolled_back
        and _ok(dialect, state.ref_status)
        and state.ref_player == ctx.player_id
    ):
        # A voided free round gives its spin back.
        await bonus_play.undo(db, wager, spins=1)
        await db.execute(_MARK_ROLLED_BACK, {"id": state.ref_id})
        return unchanged, _Record(ctx.player_id, currency, 0, state.ref_round)
    if (
        state.ref_rolled_back
        or not _ok(dialect, state.ref_status)
        or state.ref_ledger is None
        or state.ref_player != ctx.player_id
        or ctx.cash_id is None
    ):
        # Already undone, refused or free (nothing moved), or not this player's: nothing moves.
        return unchanged, _Record(ctx.player_id, currency, 0)
    assert ctx.player_id is not None
    assert ctx.brand_id is not None
    assert ctx.cash_id is not None
    assert current is not None
    assert currency is not None
    amount = int(state.ref_amount)
    was_bet = state.ref_kind == Kind.BET.value
    house = await wallet.operator_account(db, ctx.brand_id, AccountPurpose.HOUSE_REVENUE, currency)
    to_cash = amount if was_bet else -amount
    legs = _pair(ctx.cash_id, to_cash, house)
    reversal: bonus_play.Reversal | None = None
    if wager is not None:  # exactly the recorded split, wherever its bonus now stands
        cost = await wallet.operator_account(db, ctx.brand_id, AccountPurpose.BONUS_COST, currency)
        assert ctx.bonus_account is not None
        reversal = bonus_play.reverse(wager, was_bet, current)
        legs = bonus_play.reversal_legs(ctx.cash_id, ctx.bonus_account, house, cost, reversal)
    ledger_id: uuid.UUID | None = None
    balance_after = current
    if legs:  # (nothing to move when all of it was bonus money of a bonus since forfeited)
        outcome = await ledger.record(
            db, _entry(command, ctx, "game_bet_rollback" if was_bet else "game_win_rollback", legs)
        )
        if outcome.status == TransactionStatus.REFUSED:  # a win already spent: cannot be taken back
            result = WalletResult(Status.NOT_ENOUGH_MONEY, command.user, currency, current)
            return result, _Record(ctx.player_id, currency, amount, ledger_transaction_id=outcome.transaction_id)
        ledger_id = outcome.transaction_id
        balance_after = _cash_after(outcome, ctx.cash_id, current)
    await db.execute(_MARK_ROLLED_BACK, {"id": state.ref_id})
    own_cash = amount
    if wager is not None and reversal is not None:
        purse.bonus += reversal.bonus
        own_cash = wager.cash
        await bonus_play.undo(
            db,
            wager,
            progress=-wager.contributed if was_bet else 0,
            converted=reversal.converted,
            granted=reversal.granted,
            capped=reversal.capped,
            reopen=reversal.reopen,
            ledger_id=ledger_id,
        )
    # Undone on the day it was counted, so a rollback never makes room in a later period.
    await rg_gates.count_play(
        db,
        ctx.bettor(currency),
        currency,
        state.ref_created_at,
        wagered=-own_cash if was_bet else 0,
        won=0 if was_bet else -own_cash,
    )
    if state.ref_round is not None:
        await db.execute(
            _ROUND_UNDO, {"round": state.ref_round, "bet": amount if was_bet else 0, "win": 0 if was_bet else amount}
        )
    return (
        WalletResult(Status.OK, command.user, currency, balance_after),
        _Record(ctx.player_id, currency, amount, state.ref_round, ledger_id),
    )


def _above_max_bet(max_bet: dict[str, str] | None, command: WalletCommand) -> bool:
    from core.money import parse_amount

    if not max_bet or command.currency not in max_bet:
        return False
    try:
        return command.amount > parse_amount(max_bet[command.currency], command.currency, allow_zero=True)
    except Exception:  # noqa: BLE001  (a malformed catalogue limit must not block play)
        log.warning("bad_max_bet", currency=command.currency)
        return False


def _pair(cash: uuid.UUID, to_cash: int, house: uuid.UUID) -> tuple[Leg, ...]:
    return Leg(cash, to_cash), Leg(house, -to_cash)


def _reference(command: WalletCommand) -> str:
    """The provider transaction as the ledger (and a bonus's split) names it."""
    return f"{command.provider.code}:{command.transaction_uuid}"


def _provider_actor(command: WalletCommand) -> wallet.Actor:
    return wallet.Actor("provider", command.provider.id)


def _entry(command: WalletCommand, ctx: _Context, kind: str, legs: tuple[Leg, ...]) -> Entry:
    return Entry(
        idempotency_key=ledger_key(command),
        kind=kind,
        legs=legs,
        actor_type="provider",
        actor_id=command.provider.id,
        brand_id=ctx.brand_id,
        player_id=ctx.player_id,
        reference_type="provider_transaction",
        reference_id=_reference(command),
        details={
            "provider": command.provider.code,
            "round": command.round_ref,
            "game": command.game_code,
            "reference": command.reference_uuid,
        },
    )


def _cash_after(outcome: ledger.Result, cash: uuid.UUID, fallback: int) -> int:
    for posting in outcome.postings:
        if posting.account_id == cash and posting.balance_after is not None:
            return posting.balance_after
    return fallback


async def _round(db: AsyncSession, command: WalletCommand, ctx: _Context, *, bet: int, win: int) -> uuid.UUID | None:
    if not command.round_ref:
        return None
    now = clock.now()
    round_id: uuid.UUID = (
        await db.execute(
            _ROUND,
            {
                "id": new_id(),
                "provider": command.provider.id,
                "round": command.round_ref,
                "player": ctx.player_id,
                "game": ctx.game_id,
                "session": ctx.session_id if ctx.session_player == ctx.player_id else None,
                "currency": command.currency,
                "status": "closed" if command.round_closed else "open",
                "bet": bet,
                "win": win,
                "now": now,
                "closed_at": now if command.round_closed else None,
            },
        )
    ).scalar_one()
    return round_id
