"""The common case of a bet or a win in one database call: `wallet_play_v2` (sql/wallet/wallet_play_v2.sql)
decides a new transaction of a player with no bonus and no responsible-gambling limit - locks, state, ledger,
RG counter, round, provider transaction, call log - and answers OK; a bet the game's own rules refuse (switched
off or withdrawn, not certified in the player's country, outside its min or max bet: bet.py `_unplayable`) it
refuses in that same call, logging only the call ('refused'); for anything else it writes nothing and says
'fallback', and the Python path (commands.py) decides in a database transaction of its own."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from core import catalogue, prepared
from core.clock import clock
from core.ids import new_id, parse_uuid
from core.money import CURRENCIES
from core.prepared import Statement
from core.runtime import Runtime
from services.provider_wallet.group_commit import Batcher
from services.provider_wallet.statements import raw
from services.provider_wallet.types import (
    Dialect,
    Duplicate,
    Kind,
    StaleProvider,
    Status,
    WalletCommand,
    WalletResult,
    reference,
    request_hash,
)
from services.rg import profiles

PLAY = Statement("""
SELECT outcome, balance, refusal FROM wallet_play_v2(
    :kind, :provider, :provider_code, :provider_version, :endpoint, :request, :tx, :ref, :round, :round_closed,
    :player, :token, :game, :currency, :exponent, :amount, :request_hash, :ok_code, CAST(:body AS jsonb),
    CAST(:refusals AS jsonb), :units_mul, :units_div, :raw, CAST(:event_version AS smallint), CAST(:zones AS jsonb),
    CAST(:open_profiles AS text[]), CAST(:ids AS uuid[]), :now)""")
# The refusals the function decides itself (bet.py `_unplayable`'s refusals of the game); their answer is the OK
# answer with the dialect's status code in its "status" (as Hub88's is) and the balance set.
REFUSALS = (Status.INVALID_GAME, Status.NOT_CERTIFIED, Status.LIMIT_REACHED)


DUPLICATE = "CW001"  # another player's transaction with this uuid committed first (the function raises it)
KEY_USED = "CW002"  # the ledger key was used: rolled back, decided by the Python path
# A bigint the function overflowed (a yen balance above ~9.2e13 is above 2^63 in Hub88 units, which Python's int
# renders): the one statement rolled back whole, so the Python path decides it.
OUT_OF_RANGE = "22003"


class KeyUsed(Exception):
    """The one call found its ledger key used (it rolled back): decide it in Python."""


@cache
def _zones() -> tuple[str, list[str]]:
    """Each RG profile's timezone (the player's day of the RG counter) and the profiles with no required limit."""
    every = profiles.profiles()
    zones = json.dumps({code: str(p.timezone) for code, p in every.items()})
    return zones, [code for code, p in every.items() if not p.required_limits]


def _refusals(dialect: Dialect) -> str:
    """`REFUSALS` in the dialect's codes, as the function's JSON argument (written once per set of codes)."""
    return _refusals_json(tuple(dialect.status_code(status) for status in REFUSALS))


@cache
def _refusals_json(codes: tuple[str, ...]) -> str:
    return json.dumps({status.value: code for status, code in zip(REFUSALS, codes, strict=True)})


def eligible(command: WalletCommand, kind: Kind, dialect: Dialect) -> bool:
    """Whether the one call can decide this command (else the Python path, untouched)."""
    return (
        kind in (Kind.BET, Kind.WIN)
        and not command.unrepresentable
        and not command.is_free
        and not command.supplier_promo
        and command.currency in CURRENCIES
        and command.transaction_uuid is not None
        and hasattr(dialect, "balance_units")  # its balance is minor units x mul / div: written in the database
        # the ledger's fingerprint in SQL is exact where to_json escapes as json.dumps does (ledger_fingerprint_v1.sql)
        and _escaped_alike(reference(command))
        and _escaped_alike(command.reference_uuid or "")
    )


def _escaped_alike(text: str) -> bool:
    """Whether ledger_fingerprint_v1 writes `text` as Python's json.dumps does: ASCII (json.dumps escapes the
    rest as \\uXXXX, to_json does not; DEL, which only json.dumps escapes, the SQL function escapes itself)."""
    return text.isascii()


def params(command: WalletCommand, dialect: Dialect, kind: Kind) -> dict[str, Any]:
    """The function's arguments for this command (the tests call it with them too)."""
    assert command.currency is not None
    zones, open_profiles = _zones()
    mul, div = dialect.balance_units(command.currency)  # type: ignore[attr-defined]
    body = dialect.render(command, WalletResult(Status.OK, command.user, command.currency, 0))
    return {
        "kind": kind.value,
        "provider": command.provider.id,
        "provider_code": command.provider.code,
        "provider_version": command.provider.version,
        "endpoint": command.endpoint,
        "request": command.request_uuid,
        "tx": command.transaction_uuid,
        "ref": command.reference_uuid,
        "round": command.round_ref,
        "round_closed": command.round_closed,
        # as the Python path reads it (core/ids.parse_uuid): 'urn:uuid:…' is a uuid to Python, not to PostgreSQL
        "player": str(player) if (player := parse_uuid(command.user or "")) is not None else None,
        "token": command.token,
        "game": command.game_code,
        "currency": command.currency,
        "exponent": CURRENCIES[command.currency].exponent,
        "amount": command.amount,
        "request_hash": request_hash(command, kind),
        "ok_code": dialect.status_code(Status.OK),
        "body": json.dumps(body),
        "refusals": _refusals(dialect) if kind == Kind.BET else "{}",
        "units_mul": mul,
        "units_div": div,
        "raw": raw(command),
        "event_version": catalogue.event_type(f"ledger.game_{kind.value}").version,
        "zones": zones,
        "open_profiles": open_profiles,
        "ids": [new_id(), new_id(), new_id(), new_id()],
        "now": clock.now(),
    }


def batcher(rt: Runtime) -> Batcher | None:
    """The runtime's group commit (group_commit.py), made on first use; None: off (core/settings)."""
    settings = rt.settings
    if not settings.wallet_group_commit:
        return None
    if rt.wallet_batcher is None:
        rt.wallet_batcher = Batcher(
            rt.database.engine,
            PLAY,
            batches=settings.wallet_group_commit_batches,
            max_calls=settings.wallet_group_commit_max_calls,
            window=settings.wallet_group_commit_window_ms / 1000,
        )
    made: Batcher = rt.wallet_batcher
    return made


async def play(
    engine: AsyncEngine, command: WalletCommand, dialect: Dialect, kind: Kind, batch: Batcher | None = None
) -> WalletResult | None:
    """The answer when the one call decided it; None: decide in Python (nothing was written). The call is a
    database transaction of its own (one round trip: no BEGIN, no COMMIT), or part of one with the calls `batch`
    gathers; 'fallback' released its locks, and the Python path takes them again in its own transaction and reads
    everything afresh under them."""
    args = params(command, dialect, kind)
    try:
        found: Any = await (prepared.alone(engine, PLAY, args) if batch is None else batch.play(args))
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == DUPLICATE:
            raise Duplicate from exc
        if exc.sqlstate == KEY_USED:
            raise KeyUsed from exc
        if exc.sqlstate == OUT_OF_RANGE:
            return None
        raise
    assert found is not None
    if found.outcome == "stale":
        raise StaleProvider
    if found.outcome == "refused":
        return WalletResult(Status(found.refusal), command.user, command.currency, int(found.balance))
    if found.outcome != "done":
        return None
    return WalletResult(Status.OK, command.user, command.currency, int(found.balance))
