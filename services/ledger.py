"""The ledger: the only writer of transactions, postings and tracked balances, but for one: a provider's plain bet
or win decided by the database function `wallet_play_v2` (sql/wallet/wallet_play_v2.sql) writes its transaction,
two postings, the cash balance and the outbox event in the shape `record` writes them (its request hash by
`ledger_fingerprint_v1`, this module's `fingerprint` in SQL; tests/providers/test_wallet_functions.py compares).

Guarantees (TigerBeetle's, stated first):
- Every transaction is balanced: per currency its postings sum to zero (checked here, and by a
  deferred constraint trigger at commit).
- A tracked (player) account never goes below zero unless it allows it: the command is refused
  with INSUFFICIENT_FUNDS and nothing moves (checked here under row locks; a CHECK backs it up).
- An idempotency key is used once. The same key with the same request returns the first result
  and writes nothing, also when retries race (the second waits on the first's row locks and
  unique key, then reads its result). The same key with a different request is refused
  (IDEMPOTENCY_CONFLICT). A refusal is recorded under its key, so a retry stays refused
  (TigerBeetle's `id_already_failed`).
- Player accounts are locked in the one order of services/wallet.py (`lock_player_money`): the callers
  hold the player's cash row before they record, and `record` re-locks the tracked accounts of its legs
  cash first, then by id, so it never waits behind that lock and cannot cross another command.
  Derived accounts (house, PSP clearing, pools) are never locked or updated: only postings are
  inserted for them, so no single row is written by every transaction.
- Everything happens in the caller's database transaction, with the outbox event describing it.

Round trips for one transaction: lock the player rows, then one statement that inserts the transaction, its
postings and its outbox events and updates the balances (a refusal: the transaction only).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select  # sqlmodel's select has no overload for six columns
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import outbox, prepared
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.ids import new_id
from core.prepared import Statement
from models.ledger import (
    HoldStatus,
    LedgerAccount,
    LedgerHold,
    LedgerPosting,
    LedgerTransaction,
    TransactionKind,
    TransactionStatus,
)


class IdempotencyConflict(DomainError):
    code = ErrorCode.IDEMPOTENCY_CONFLICT


class InsufficientFunds(DomainError):
    code = ErrorCode.INSUFFICIENT_FUNDS


@dataclass(frozen=True)
class Leg:
    account_id: uuid.UUID
    amount: int  # signed minor units: positive credits the account, negative debits it


@dataclass(frozen=True)
class Entry:
    """One ledger command."""

    idempotency_key: str
    kind: str
    legs: Sequence[Leg]
    actor_type: str
    actor_id: uuid.UUID | None = None
    brand_id: uuid.UUID | None = None
    player_id: uuid.UUID | None = None
    reference_type: str | None = None
    reference_id: str | None = None
    details: dict[str, Any] | None = None  # context for people; not part of the request's identity


@dataclass(frozen=True)
class Posting:
    account_id: uuid.UUID
    currency: str
    amount: int
    balance_after: int | None


@dataclass(frozen=True)
class Result:
    transaction_id: uuid.UUID
    status: TransactionStatus
    refusal_code: str | None
    replayed: bool
    created_at: datetime
    postings: tuple[Posting, ...] = field(default=())

    @property
    def committed(self) -> bool:
        return self.status == TransactionStatus.COMMITTED

    def raise_if_refused(self) -> Result:
        """Call after the database transaction committed (the refusal itself is recorded)."""
        if self.status == TransactionStatus.REFUSED:
            raise InsufficientFunds("Not enough funds.", code=ErrorCode(self.refusal_code or "INSUFFICIENT_FUNDS"))
        return self


@dataclass(frozen=True)
class _Account:
    id: uuid.UUID
    currency: str
    tracked: bool
    allow_negative: bool
    owner_type: str
    owner_id: str
    purpose: str


# Account identity (currency, tracked, owner) never changes: cache it, so derived accounts are
# never read on the hot path, let alone locked.
_ACCOUNT_CACHE: dict[uuid.UUID, _Account] = {}


# The hot path's statements, written once as SQL: building SQLAlchemy insert constructs and running them
# through the ORM's bulk machinery cost more CPU per transaction than the database spent on them
# (bench/README.md, "where the time goes"). Postings go in one statement, in leg order (their ids, and
# so the running balances, follow that order).
# Step 3 of the money lock order (services/wallet.py): the cash account first, as `lock_player_money`
# takes it, then the others by id; rows are locked in the order sorted.
_LOCK_TRACKED = Statement("""
SELECT /* lock_player_money: the ledger's re-lock */ id, balance FROM ledger_accounts
WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY purpose <> 'cash', id FOR UPDATE""")
# One account (a bet or win of a player with no bonus): the same lock as a statement PostgreSQL plans once. The
# array form above gets a custom plan on every execution (~0.15 ms of the server's CPU each time).
_LOCK_TRACKED_ONE = Statement("""
SELECT /* lock_player_money: the ledger's re-lock */ id, balance FROM ledger_accounts WHERE id = :id FOR UPDATE""")
_INSERT_TRANSACTION = Statement("""
INSERT INTO ledger_transactions (id, idempotency_key, request_hash, kind, status, refusal_code, brand_id, player_id,
                                 reference_type, reference_id, actor_type, actor_id, details, created_at)
VALUES (:id, :key, :hash, :kind, :status, :refusal, :brand, :player, :reference_type, :reference_id, :actor_type,
        :actor_id, CAST(:details AS jsonb), :now)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id""")
# A committed transaction is one statement: the transaction row, its postings (in leg order: their ids, and
# so the running balances, follow it), the new balances and its outbox events, each step writing only if the
# transaction row went in (an idempotency key used before writes nothing: `_existing` answers).
_WRITE_COMMITTED = Statement(f"""
WITH tx AS ({_INSERT_TRANSACTION.text}),
postings AS (
  INSERT INTO ledger_postings (transaction_id, account_id, currency, amount, balance_after, created_at)
  SELECT tx.id, leg.account_id, leg.currency, leg.amount, leg.balance_after, :now
  FROM tx, unnest(CAST(:accounts AS uuid[]), CAST(:currencies AS varchar[]), CAST(:amounts AS bigint[]),
                  CAST(:balances AS bigint[])) WITH ORDINALITY AS leg(account_id, currency, amount, balance_after, n)
  ORDER BY leg.n
),
balances AS (
  UPDATE ledger_accounts SET balance = new.balance
  FROM tx, unnest(CAST(:tracked AS uuid[]), CAST(:new_balances AS bigint[])) AS new(id, balance)
  WHERE ledger_accounts.id = new.id
),
events AS ({outbox.insert_events("EXISTS (SELECT 1 FROM tx)")})
SELECT id FROM tx""")  # noqa: S608  (constant statements of this module and core/outbox.py, no input)


def fingerprint(entry: Entry) -> str:
    """What makes two requests "the same request" for the idempotency check."""
    legs: dict[str, int] = defaultdict(int)
    for leg in entry.legs:
        legs[str(leg.account_id)] += leg.amount
    identity = {
        "kind": entry.kind,
        "legs": sorted(legs.items()),
        "brand": str(entry.brand_id) if entry.brand_id else None,
        "player": str(entry.player_id) if entry.player_id else None,
        "reference": [entry.reference_type, entry.reference_id],
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


_KINDS = frozenset(TransactionKind)


def _check_shape(entry: Entry) -> None:
    if entry.kind not in _KINDS:  # a programming error: the catalogue of kinds is models.ledger.TransactionKind
        raise ValueError(f"Unknown ledger transaction kind {entry.kind!r}.")
    if not entry.idempotency_key or len(entry.idempotency_key) > 200:
        raise DomainError("An idempotency key of 1 to 200 characters is required.", field="idempotencyKey")
    if len(entry.legs) < 2:
        raise DomainError("A ledger transaction needs at least two postings.")
    for leg in entry.legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool) or leg.amount == 0:
            raise DomainError("Postings are non-zero integers of minor units.", code=ErrorCode.INVALID_AMOUNT)


async def _accounts(db: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, _Account]:
    wanted = set(ids)
    missing = [i for i in wanted if i not in _ACCOUNT_CACHE]
    if missing:
        rows = (
            await db.execute(
                sa_select(
                    col(LedgerAccount.id),
                    col(LedgerAccount.currency),
                    col(LedgerAccount.balance),
                    col(LedgerAccount.allow_negative),
                    col(LedgerAccount.owner_type),
                    col(LedgerAccount.owner_id),
                    col(LedgerAccount.purpose),
                ).where(col(LedgerAccount.id).in_(missing))
            )
        ).all()
        for row in rows:
            _ACCOUNT_CACHE[row.id] = _Account(
                row.id,
                row.currency,
                row.balance is not None,
                row.allow_negative,
                row.owner_type,
                row.owner_id,
                row.purpose,
            )
    unknown = wanted - _ACCOUNT_CACHE.keys()
    if unknown:
        raise DomainError(f"Unknown ledger account(s): {sorted(map(str, unknown))}.")
    return {i: _ACCOUNT_CACHE[i] for i in wanted}


async def _existing(db: AsyncSession, entry: Entry, request_hash: str) -> Result:
    tx = (
        await db.execute(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == entry.idempotency_key))
    ).scalar_one()
    if tx.request_hash != request_hash:
        raise IdempotencyConflict(
            f"Idempotency key {entry.idempotency_key!r} was already used for a different request.",
            field="idempotencyKey",
        )
    postings = (
        (
            await db.execute(
                select(LedgerPosting).where(LedgerPosting.transaction_id == tx.id).order_by(col(LedgerPosting.id))
            )
        )
        .scalars()
        .all()
    )
    return Result(
        tx.id,
        TransactionStatus(tx.status),
        tx.refusal_code,
        True,
        tx.created_at,
        tuple(Posting(p.account_id, p.currency, p.amount, p.balance_after) for p in postings),
    )


def _per_account(entry: Entry, accounts: dict[uuid.UUID, _Account]) -> dict[uuid.UUID, int]:
    """What the entry moves on each account, once it is known to balance in every currency."""
    per_currency: dict[str, int] = defaultdict(int)
    per_account: dict[uuid.UUID, int] = defaultdict(int)
    for leg in entry.legs:
        per_currency[accounts[leg.account_id].currency] += leg.amount
        per_account[leg.account_id] += leg.amount
    if any(per_currency.values()):
        raise DomainError(f"Unbalanced ledger transaction: {dict(per_currency)}.")
    return per_account


async def recorded(db: AsyncSession, idempotency_key: str) -> Result | None:
    """The transaction recorded under a key, if any (for a command whose legs depend on balances that may have
    moved since it first ran: it answers the first result instead of asking again with other legs)."""
    request_hash = await db.scalar(
        select(col(LedgerTransaction.request_hash)).where(LedgerTransaction.idempotency_key == idempotency_key)
    )
    if request_hash is None:
        return None
    return await _existing(
        db, Entry(idempotency_key=idempotency_key, kind="deposit", legs=(), actor_type="system"), request_hash
    )


async def record(db: AsyncSession, entry: Entry) -> Result:
    """Write one balanced transaction (or its refusal) in the caller's database transaction."""
    _check_shape(entry)
    request_hash = fingerprint(entry)
    accounts = await _accounts(db, (leg.account_id for leg in entry.legs))

    per_account = _per_account(entry, accounts)
    tracked = sorted(i for i in per_account if accounts[i].tracked)
    balances: dict[uuid.UUID, int] = {}
    if tracked:
        if len(tracked) == 1:
            rows = await prepared.rows(db, _LOCK_TRACKED_ONE, {"id": tracked[0]})
        else:
            rows = await prepared.rows(db, _LOCK_TRACKED, {"ids": tracked})
        balances = {row.id: int(row.balance) for row in rows}
    new_balances = {i: balances[i] + per_account[i] for i in tracked}
    overdrawn = any(value < 0 and not accounts[i].allow_negative for i, value in new_balances.items())
    status = TransactionStatus.REFUSED if overdrawn else TransactionStatus.COMMITTED

    now = clock.now()
    tx_id = new_id()
    params: dict[str, Any] = {
        "id": tx_id,
        "key": entry.idempotency_key,
        "hash": request_hash,
        "kind": entry.kind,
        "status": status.value,
        "refusal": ErrorCode.INSUFFICIENT_FUNDS.value if overdrawn else None,
        "brand": entry.brand_id,
        "player": entry.player_id,
        "reference_type": entry.reference_type,
        "reference_id": entry.reference_id,
        "actor_type": entry.actor_type,
        "actor_id": entry.actor_id,
        "details": json.dumps(entry.details) if entry.details is not None else None,
        "now": now,
    }
    if overdrawn:
        inserted = await prepared.value(db, _INSERT_TRANSACTION, params)
        if inserted is None:  # the key was used before (or by a racing retry that committed first)
            return await _existing(db, entry, request_hash)
        return Result(tx_id, status, ErrorCode.INSUFFICIENT_FUNDS.value, False, now)

    running = dict(balances)
    postings: list[Posting] = []
    for leg in entry.legs:
        account = accounts[leg.account_id]
        after = None
        if account.tracked:
            running[leg.account_id] += leg.amount
            after = running[leg.account_id]
        postings.append(Posting(leg.account_id, account.currency, leg.amount, after))
    params.update(
        {
            "accounts": [p.account_id for p in postings],
            "currencies": [p.currency for p in postings],
            "amounts": [p.amount for p in postings],
            "balances": [p.balance_after for p in postings],
            "tracked": tracked,
            "new_balances": [new_balances[i] for i in tracked],
            **outbox.events_params(_events(entry, tx_id, postings, accounts, now)),
        }
    )
    inserted = await prepared.value(db, _WRITE_COMMITTED, params)
    if inserted is None:  # the key was used before (or by a racing retry that committed first): nothing written
        return await _existing(db, entry, request_hash)
    return Result(tx_id, status, None, False, now, tuple(postings))


_EVENT_PURPOSES = {"cash": "cash", "bonus": "bonus", "withdrawal_pending": "pending", "debt": "debt"}
_EVENT_DETAILS = {
    "game": "game",
    "provider": "provider",
    "round": "round",
    "reference": "provider_reference",
    "psp": "psp",
}


def _events(
    entry: Entry,
    tx_id: uuid.UUID,
    postings: Sequence[Posting],
    accounts: dict[uuid.UUID, _Account],
    at: datetime,
) -> list[outbox.Event]:
    """One `ledger.<kind>` event per player (and currency) whose money moved: the split between cash,
    bonus and pending (and debt, only when it moved: chargebacks and what repays them), the balances after,
    and what it was for (core/catalogue/money.py)."""
    moved: dict[tuple[str, str], dict[str, Any]] = {}
    for posting in postings:
        account = accounts[posting.account_id]
        part = _EVENT_PURPOSES.get(account.purpose)
        if account.owner_type != "player" or part is None:
            continue
        data = moved.get((account.owner_id, posting.currency))
        if data is None:
            data = moved[(account.owner_id, posting.currency)] = {
                "transaction_id": str(tx_id),
                "kind": entry.kind,
                "player_id": account.owner_id,
                "currency": posting.currency,
                "cash": 0,
                "bonus": 0,
                "pending": 0,
                "balances": {},
                "reference_type": entry.reference_type,
                "reference_id": entry.reference_id,
                **{
                    name: (entry.details or {}).get(key)
                    for key, name in _EVENT_DETAILS.items()
                    if key in (entry.details or {})
                },
            }
        data[part] = data.get(part, 0) + posting.amount
        if posting.balance_after is not None:
            data["balances"][part] = posting.balance_after
    # At the transaction's own time: reports count it on the same day as the ledger does.
    return [
        outbox.event(f"ledger.{entry.kind}", f"player:{player_id}", data, brand_id=entry.brand_id, at=at)
        for (player_id, _currency), data in moved.items()
    ]


# ---- two-phase holds ---------------------------------------------------------------------------


async def reserve(
    db: AsyncSession, entry: Entry, *, source: uuid.UUID, pending: uuid.UUID, amount: int
) -> tuple[Result, LedgerHold | None]:
    """Phase one: move `amount` from `source` to its `pending` account and open a hold on it."""
    if amount <= 0:
        raise DomainError("A hold is for a positive amount.", code=ErrorCode.INVALID_AMOUNT)
    result = await record(db, replace(entry, legs=(Leg(source, -amount), Leg(pending, amount))))
    if not result.committed:
        return result, None
    hold = await db.scalar(select(LedgerHold).where(LedgerHold.reserve_transaction_id == result.transaction_id))
    if hold is None:
        currency = (await _accounts(db, [source]))[source].currency
        hold = LedgerHold(
            source_account_id=source,
            pending_account_id=pending,
            amount=amount,
            currency=currency,
            reserve_transaction_id=result.transaction_id,
        )
        db.add(hold)
        await db.flush()
    return result, hold


async def _resolve(
    db: AsyncSession, hold_id: uuid.UUID, entry: Entry, *, destination: uuid.UUID | None, status: HoldStatus
) -> Result:
    # Lock and re-read: an earlier unlocked read of this hold in the session must not leave a stale
    # status behind the lock (populate_existing), or two resolutions could both see it pending.
    hold = await db.scalar(
        select(LedgerHold)
        .where(col(LedgerHold.id) == hold_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if hold is None:
        raise DomainError("No such hold.", code=ErrorCode.NOT_FOUND)
    target = destination if status == HoldStatus.POSTED else hold.source_account_id
    assert target is not None
    resolution = replace(entry, legs=(Leg(hold.pending_account_id, -hold.amount), Leg(target, hold.amount)))
    if hold.status != HoldStatus.PENDING:
        if hold.resolve_transaction_id is not None and hold.status == status:
            replay = await db.get(LedgerTransaction, hold.resolve_transaction_id)
            if replay is not None and replay.idempotency_key == entry.idempotency_key:
                # This request's own fingerprint: the same key asking for another destination is refused.
                return await _existing(db, entry, fingerprint(resolution))
        raise DomainError(f"The hold is already {hold.status}.", code=ErrorCode.INVALID_STATE)
    result = await record(db, resolution)
    if result.committed:
        hold.status = status.value
        hold.resolve_transaction_id = result.transaction_id
        hold.resolved_at = clock.now()
        await db.flush()
    return result


async def post_hold(db: AsyncSession, hold_id: uuid.UUID, entry: Entry, *, destination: uuid.UUID) -> Result:
    """Phase two, success: the held amount leaves for `destination` (e.g. the PSP paid it out)."""
    return await _resolve(db, hold_id, entry, destination=destination, status=HoldStatus.POSTED)


async def void_hold(db: AsyncSession, hold_id: uuid.UUID, entry: Entry) -> Result:
    """Phase two, cancelled: the held amount returns to where it came from."""
    return await _resolve(db, hold_id, entry, destination=None, status=HoldStatus.VOIDED)


# ---- verification: services/ledger_verify/ (re-exported: `ledger.verify(db)` is the books check) ----

from services.ledger_verify import VERIFY_QUERIES, Discrepancy, Verification, verify  # noqa: E402

__all__ = ["VERIFY_QUERIES", "Discrepancy", "Verification", "verify"]
