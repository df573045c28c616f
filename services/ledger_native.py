"""`ledger.record` for a consumer's asyncpg connection (services/jackpots' consumer runs on one): the same rows,
request hash and events, for a transaction that never takes money from a tracked account (a pool's contributions
and seeds, a jackpot paid into a player's cash), so it is never refused. It lives beside services/ledger.py and uses
its internals, so the ledger's shape is written in one place."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from core import outbox
from core.clock import clock
from core.errors import DomainError
from core.ids import new_id
from models.ledger import TransactionStatus
from services.ledger import (
    _ACCOUNT_CACHE,
    _WRITE_COMMITTED,
    Entry,
    IdempotencyConflict,
    Posting,
    Result,
    _Account,
    _check_shape,
    _events,
    _per_account,
    fingerprint,
)

_ACCOUNTS_NATIVE = (
    "SELECT id, currency, balance, allow_negative, owner_type, owner_id, purpose FROM ledger_accounts "
    "WHERE id = ANY($1::uuid[])"
)
_LOCK_NATIVE = (
    "SELECT id, balance FROM ledger_accounts WHERE id = ANY($1::uuid[]) ORDER BY purpose <> 'cash', id FOR UPDATE"
)


async def record_on_connection(conn: asyncpg.Connection, entry: Entry) -> Result:
    """`record` for a consumer's asyncpg connection (services/jackpots), in its open transaction, for a transaction
    that never takes money from a tracked account (a pool's contributions and seeds, a jackpot paid to a player's
    cash): it cannot be refused. Same rows, same request hash, same events as `record` writes; the tracked
    accounts it credits are locked in the money lock order (cash first, then by id)."""
    _check_shape(entry)
    request_hash = fingerprint(entry)
    wanted = {leg.account_id for leg in entry.legs}
    for row in await conn.fetch(_ACCOUNTS_NATIVE, [i for i in wanted if i not in _ACCOUNT_CACHE]):
        _ACCOUNT_CACHE[row["id"]] = _Account(
            row["id"], row["currency"], row["balance"] is not None, row["allow_negative"], row["owner_type"],
            row["owner_id"], row["purpose"],
        )  # fmt: skip
    if wanted - _ACCOUNT_CACHE.keys():
        raise DomainError(f"Unknown ledger account(s): {sorted(map(str, wanted - _ACCOUNT_CACHE.keys()))}.")
    accounts = {i: _ACCOUNT_CACHE[i] for i in wanted}
    per_account = _per_account(entry, accounts)
    tracked = sorted(i for i in per_account if accounts[i].tracked)
    if any(per_account[i] < 0 for i in tracked):
        raise ValueError("record_on_connection only credits tracked accounts")  # a programming error
    running = {row["id"]: int(row["balance"]) for row in await conn.fetch(_LOCK_NATIVE, tracked)} if tracked else {}
    new_balances = {i: running[i] + per_account[i] for i in tracked}
    now = clock.now()
    tx_id = new_id()
    postings: list[Posting] = []
    for leg in entry.legs:
        after = None
        if accounts[leg.account_id].tracked:
            running[leg.account_id] += leg.amount
            after = running[leg.account_id]
        postings.append(Posting(leg.account_id, accounts[leg.account_id].currency, leg.amount, after))
    params: dict[str, Any] = {
        "id": tx_id, "key": entry.idempotency_key, "hash": request_hash, "kind": entry.kind,
        "status": TransactionStatus.COMMITTED.value, "refusal": None, "brand": entry.brand_id,
        "player": entry.player_id, "reference_type": entry.reference_type, "reference_id": entry.reference_id,
        "actor_type": entry.actor_type, "actor_id": entry.actor_id,
        "details": json.dumps(entry.details) if entry.details is not None else None, "now": now,
        "accounts": [p.account_id for p in postings], "currencies": [p.currency for p in postings],
        "amounts": [p.amount for p in postings], "balances": [p.balance_after for p in postings],
        "tracked": tracked, "new_balances": [new_balances[i] for i in tracked],
        **outbox.events_params(_events(entry, tx_id, postings, accounts, now)),
    }  # fmt: skip
    inserted = await conn.fetchval(_WRITE_COMMITTED.native, *[params[n] for n in _WRITE_COMMITTED.names])
    if inserted is not None:
        return Result(tx_id, TransactionStatus.COMMITTED, None, False, now, tuple(postings))
    first = await conn.fetchrow(
        "SELECT id, request_hash, status, refusal_code, created_at FROM ledger_transactions WHERE idempotency_key = $1",
        entry.idempotency_key,
    )
    if first["request_hash"] != request_hash:
        raise IdempotencyConflict(
            f"Idempotency key {entry.idempotency_key!r} was already used for a different request.",
            field="idempotencyKey",
        )
    return Result(first["id"], TransactionStatus(first["status"]), first["refusal_code"], True, first["created_at"])
