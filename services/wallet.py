"""Player wallets and the operator's accounts, the money movements between them, and the rule for
locking a player's money.

Each player has, per currency, a cash, a bonus and a withdrawal-pending account (tracked: they
carry a balance that never goes below zero). The operator side (PSP clearing, adjustments, house
revenue, pools) is one derived account per brand, owner, purpose and currency. Every movement
function here records one balanced ledger transaction in the caller's database transaction.

Locking a player's money: one order, taken by one function, `lock_player_money` (no module writes
these locks by hand; tests/ledger/test_money_locks.py checks it):
1. the player's row (`players`), FOR NO KEY UPDATE, when the command decides on or changes the player's
   standing: RG limits, exclusions and reality checks, the deposit gate, status and profile changes.
   Never FOR UPDATE: every row written for a player (a payment, a provider transaction, a bonus, a
   limit) takes a KEY SHARE lock on the player's row through its foreign key, which FOR UPDATE waits for
   and crosses with (the deadlock of a deposit with its own webhook was this kind of cross, issue 12).
2. the player's cash account in the command's currency, FOR UPDATE: the money lock. Every change of the
   player's money in that currency happens under it (cash, bonus and withdrawal-pending balances, holds,
   bonuses and their wagering, RG counters), so their bets, wins, rollbacks, deposits, withdrawals and
   bonus steps queue on this one row and never cross.
3. under it, whatever the command writes: the ledger re-locks the tracked accounts of its legs (cash
   first, then by id: services/ledger.py, which never waits there behind the money lock), a hold, bonus
   rows.
Before them, in the commands that have one: a payment and its attempt (services/cashier), or a provider
transaction's advisory lock (services/provider_wallet.py, taken in the same statement as the cash row,
so the bet path spends no round trip on it). A command moves one player's money. The function refuses
(LockOrderError) a player's row asked for after their money in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import String, any_, bindparam, event, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.errors import DomainError, ErrorCode
from core.money import currency as currency_info
from models.ledger import PLAYER_PURPOSES, AccountPurpose, LedgerAccount, LedgerHold, LedgerTransaction
from models.players import Player
from services import ledger
from services.ledger import Entry, Leg, Result
from services.rg import activity as rg_activity
from services.rg import profiles as rg_profiles
from services.scoping import scoped


@dataclass(frozen=True)
class PlayerAccounts:
    currency: str
    cash: uuid.UUID
    bonus: uuid.UUID
    withdrawal_pending: uuid.UUID


@dataclass(frozen=True)
class Balance:
    currency: str
    cash: int
    bonus: int
    withdrawal_pending: int


_OPERATOR_ACCOUNTS: dict[tuple[uuid.UUID, str, str, str, str], uuid.UUID] = {}


async def player_accounts(db: AsyncSession, player_id: uuid.UUID, brand_id: uuid.UUID, currency: str) -> PlayerAccounts:
    """The player's accounts in a currency, created on first use (one query when they exist)."""
    code = currency_info(currency).code
    lookup = select(LedgerAccount.purpose, LedgerAccount.id).where(
        LedgerAccount.owner_type == "player",
        LedgerAccount.owner_id == str(player_id),
        LedgerAccount.currency == code,
        col(LedgerAccount.brand_id) == brand_id,
    )
    ids = {purpose: account_id for purpose, account_id in (await db.execute(lookup)).all()}
    if len(ids) < len(PLAYER_PURPOSES):
        await db.execute(
            insert(LedgerAccount)
            .values(
                [
                    {
                        "id": uuid.uuid4(),
                        "brand_id": brand_id,
                        "owner_type": "player",
                        "owner_id": str(player_id),
                        "purpose": purpose.value,
                        "currency": code,
                        "balance": 0,
                        "allow_negative": False,
                    }
                    for purpose in PLAYER_PURPOSES
                ]
            )
            .on_conflict_do_nothing(constraint="uq_ledger_accounts_owner")
        )
        ids = {purpose: account_id for purpose, account_id in (await db.execute(lookup)).all()}
    return PlayerAccounts(
        code, ids[AccountPurpose.CASH], ids[AccountPurpose.BONUS], ids[AccountPurpose.WITHDRAWAL_PENDING]
    )


async def operator_account(
    db: AsyncSession,
    brand_id: uuid.UUID,
    purpose: AccountPurpose,
    currency: str,
    *,
    owner_type: str = "brand",
    owner_id: str | None = None,
) -> uuid.UUID:
    """A derived operator account (balance = sum of postings), created on first use."""
    owner = owner_id or str(brand_id)
    key = (brand_id, owner_type, owner, purpose.value, currency)
    cached = _OPERATOR_ACCOUNTS.get(key)
    if cached is not None:
        return cached
    created = (
        await db.execute(
            insert(LedgerAccount)
            .values(
                id=uuid.uuid4(),
                brand_id=brand_id,
                owner_type=owner_type,
                owner_id=owner,
                purpose=purpose.value,
                currency=currency,
                balance=None,
                allow_negative=True,
            )
            .on_conflict_do_nothing(constraint="uq_ledger_accounts_owner")
            .returning(col(LedgerAccount.id))
        )
    ).scalar_one_or_none()
    if created is not None:
        return created  # not committed yet: cache it only once it is (a rollback would leave a phantom id)
    account_id = (
        await db.execute(
            select(LedgerAccount.id).where(
                col(LedgerAccount.brand_id) == brand_id,
                LedgerAccount.owner_type == owner_type,
                LedgerAccount.owner_id == owner,
                LedgerAccount.purpose == purpose.value,
                LedgerAccount.currency == currency,
            )
        )
    ).scalar_one()
    _OPERATOR_ACCOUNTS[key] = account_id  # ON CONFLICT skipped a committed row: safe to remember
    return account_id


def readable_transactions(viewer: Viewer) -> SelectOfScalar[LedgerTransaction]:
    """Ledger transactions this viewer may read, as SQL: a player their own, staff their brand's."""
    return scoped(
        select(LedgerTransaction),
        viewer,
        player_column=col(LedgerTransaction.player_id),
        brand_column=col(LedgerTransaction.brand_id),
    )


def forget_cached_accounts() -> None:
    """Tests that empty the database call this; in production account ids never disappear."""
    _OPERATOR_ACCOUNTS.clear()
    ledger._ACCOUNT_CACHE.clear()


async def balances(db: AsyncSession | AsyncConnection, player_id: uuid.UUID) -> list[Balance]:
    return (await balances_of(db, [player_id])).get(player_id, [])


async def balances_of(
    db: AsyncSession | AsyncConnection, player_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Balance]]:
    """Balances of several players in one statement (for DataLoaders and services/live_balances).

    The players go as one array parameter (`= ANY(:owners)`), not an IN list: the statement's text
    and cache key stay the same whatever their number, where SQLAlchemy re-expanded and re-keyed an
    IN list of a thousand values on every call."""
    owners = bindparam("owners", [str(p) for p in player_ids], type_=ARRAY(String))
    rows = (
        await db.execute(
            select(LedgerAccount.owner_id, LedgerAccount.currency, LedgerAccount.purpose, LedgerAccount.balance)
            .where(LedgerAccount.owner_type == "player", col(LedgerAccount.owner_id) == any_(owners))
            .order_by(col(LedgerAccount.currency))
        )
    ).all()
    grouped: dict[uuid.UUID, dict[str, dict[str, int]]] = {}
    for owner, code, purpose, balance in rows:
        grouped.setdefault(uuid.UUID(owner), {}).setdefault(code, {})[purpose] = int(balance or 0)
    return {
        player: [
            Balance(
                code,
                values.get(AccountPurpose.CASH, 0),
                values.get(AccountPurpose.BONUS, 0),
                values.get(AccountPurpose.WITHDRAWAL_PENDING, 0),
            )
            for code, values in currencies.items()
        ]
        for player, currencies in grouped.items()
    }


# ---- locking a player's money (the order: the module docstring) -----------------------------------


class LockOrderError(RuntimeError):
    """A programming error: a command asked for a player's locks out of their one order."""


_STANDING, _MONEY = 1, 2
_TAKEN = "player_locks"  # Session.info: player id -> the last step of the order locked in this transaction

# Tagged, so a test can tell these statements from a lock written by hand (tests/ledger/test_money_locks.py).
_LOCK_CASH = text("""
SELECT /* lock_player_money */ balance FROM ledger_accounts
WHERE id = :cash AND owner_type = 'player' AND owner_id = :player AND purpose = 'cash' FOR UPDATE""")
# The provider wallet's transaction key first (evaluated as the row is read, before it is locked), then the
# cash row: one round trip on the bet path.
_LOCK_CASH_AFTER_SERIAL = text("""
SELECT /* lock_player_money */ pg_advisory_xact_lock(hashtextextended(:serial, 0)) AS serialised, balance
FROM ledger_accounts
WHERE id = :cash AND owner_type = 'player' AND owner_id = :player AND purpose = 'cash' FOR UPDATE""")


@dataclass(frozen=True)
class HeldMoney:
    """What `lock_player_money` read under its locks."""

    player: Player | None  # standing=True: the player's row, re-read
    cash_balance: int | None  # cash=...: the cash account's balance

    @property
    def cash(self) -> int:
        if self.cash_balance is None:
            raise LockOrderError("lock_player_money reads the cash balance only when it locks the cash account.")
        return self.cash_balance


async def lock_player_money(
    db: AsyncSession,
    player_id: uuid.UUID,
    *,
    standing: bool = False,
    cash: uuid.UUID | None = None,
    serial: str | None = None,
) -> HeldMoney:
    """Take a player's locks in their one order: their row (`standing`), then their cash account `cash` (the
    money lock; `serial`: an advisory key taken first, in the same statement). Locks already held are
    taken again at no cost; one step asked for after a later one is refused (LockOrderError)."""
    taken: dict[uuid.UUID, int] = db.info.setdefault(_TAKEN, {})
    if standing and taken.get(player_id, 0) > _STANDING:
        raise LockOrderError("A player's row is locked before their money, never after it (services/wallet.py).")
    player: Player | None = None
    if standing:
        if serial is not None:
            raise LockOrderError("An advisory key comes before the player's row; take it on its own first.")
        player = await db.scalar(
            select(Player)
            .prefix_with("/* lock_player_money */")
            .where(col(Player.id) == player_id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE
            .execution_options(populate_existing=True)
        )
        if player is None:
            raise DomainError("No such player.", field="playerId", code=ErrorCode.NOT_FOUND)
        taken[player_id] = max(taken.get(player_id, 0), _STANDING)
    balance: int | None = None
    if cash is not None:
        params = {"cash": cash, "player": str(player_id)}
        if serial is None:
            balance = int((await db.execute(_LOCK_CASH, params)).scalar_one())
        else:
            balance = int((await db.execute(_LOCK_CASH_AFTER_SERIAL, {**params, "serial": serial})).one().balance)
        taken[player_id] = _MONEY
    return HeldMoney(player, balance)


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the database transaction ended: its locks are gone
        session.info.pop(_TAKEN, None)


async def _player(db: AsyncSession, player_id: uuid.UUID) -> Player:
    player = await db.get(Player, player_id)
    if player is None:
        raise DomainError("No such player.", field="playerId", code=ErrorCode.NOT_FOUND)
    return player


@dataclass(frozen=True)
class Actor:
    type: str
    id: uuid.UUID | None = None


async def credit_deposit(
    db: AsyncSession, *, player_id: uuid.UUID, currency: str, amount: int, psp: str, payment_id: uuid.UUID, actor: Actor
) -> Result:
    """A PSP confirmed a deposit: the PSP owes us the money, the player's cash has it."""
    player = await _player(db, player_id)
    accounts = await player_accounts(db, player.id, player.brand_id, currency)
    await lock_player_money(db, player.id, cash=accounts.cash)
    clearing = await operator_account(
        db, player.brand_id, AccountPurpose.PSP_CLEARING, accounts.currency, owner_type="psp", owner_id=psp
    )
    result = await ledger.record(
        db,
        Entry(
            idempotency_key=f"deposit:{payment_id}",
            kind="deposit",
            legs=(Leg(accounts.cash, amount), Leg(clearing, -amount)),
            actor_type=actor.type,
            actor_id=actor.id,
            brand_id=player.brand_id,
            player_id=player.id,
            reference_type="payment",
            reference_id=str(payment_id),
            details={"psp": psp},
        ),
    )
    if result.committed and not result.replayed:  # counted for deposit limits, with the credit
        day = rg_profiles.profile(player.jurisdiction).local_day(result.created_at)
        await rg_activity.count(db, player_id=player.id, currency=accounts.currency, day=day, deposited=amount)
    return result


async def hold_withdrawal(
    db: AsyncSession, *, player_id: uuid.UUID, currency: str, amount: int, payment_id: uuid.UUID, actor: Actor
) -> tuple[Result, LedgerHold | None]:
    """Reserve a withdrawal: cash → withdrawal-pending, refused if the cash is not there."""
    player = await _player(db, player_id)
    accounts = await player_accounts(db, player.id, player.brand_id, currency)
    await lock_player_money(db, player.id, cash=accounts.cash)
    return await ledger.reserve(
        db,
        Entry(
            idempotency_key=f"withdrawal-hold:{payment_id}",
            kind="withdrawal_hold",
            legs=(),
            actor_type=actor.type,
            actor_id=actor.id,
            brand_id=player.brand_id,
            player_id=player.id,
            reference_type="payment",
            reference_id=str(payment_id),
        ),
        source=accounts.cash,
        pending=accounts.withdrawal_pending,
        amount=amount,
    )


async def pay_withdrawal(
    db: AsyncSession, *, hold_id: uuid.UUID, psp: str, payment_id: uuid.UUID, actor: Actor
) -> Result:
    """The PSP paid the withdrawal out: the held money leaves for the PSP's clearing account."""
    hold = await _hold(db, hold_id)
    account = await db.get(LedgerAccount, hold.pending_account_id)
    assert account is not None
    assert account.brand_id is not None
    await lock_player_money(db, uuid.UUID(account.owner_id), cash=hold.source_account_id)
    clearing = await operator_account(
        db, account.brand_id, AccountPurpose.PSP_CLEARING, hold.currency, owner_type="psp", owner_id=psp
    )
    return await ledger.post_hold(
        db,
        hold_id,
        Entry(
            idempotency_key=f"withdrawal-paid:{payment_id}",
            kind="withdrawal_paid",
            legs=(),
            actor_type=actor.type,
            actor_id=actor.id,
            brand_id=account.brand_id,
            player_id=uuid.UUID(account.owner_id),
            reference_type="payment",
            reference_id=str(payment_id),
            details={"psp": psp},
        ),
        destination=clearing,
    )


async def void_withdrawal(
    db: AsyncSession, *, hold_id: uuid.UUID, payment_id: uuid.UUID, actor: Actor, reason: str
) -> Result:
    """The withdrawal will not be paid (rejected, failed): the held money returns to cash."""
    hold = await _hold(db, hold_id)
    account = await db.get(LedgerAccount, hold.pending_account_id)
    assert account is not None
    await lock_player_money(db, uuid.UUID(account.owner_id), cash=hold.source_account_id)
    return await ledger.void_hold(
        db,
        hold_id,
        Entry(
            idempotency_key=f"withdrawal-void:{payment_id}",
            kind="withdrawal_void",
            legs=(),
            actor_type=actor.type,
            actor_id=actor.id,
            brand_id=account.brand_id,
            player_id=uuid.UUID(account.owner_id),
            reference_type="payment",
            reference_id=str(payment_id),
            details={"reason": reason},
        ),
    )


async def _hold(db: AsyncSession, hold_id: uuid.UUID) -> LedgerHold:
    hold = await db.get(LedgerHold, hold_id)
    if hold is None:
        raise DomainError("No such hold.", code=ErrorCode.NOT_FOUND)
    return hold


async def adjust(
    db: AsyncSession,
    *,
    player_id: uuid.UUID,
    currency: str,
    amount: int,
    adjustment_id: uuid.UUID,
    actor: Actor,
    reason: str,
) -> Result:
    """A manual correction of a player's cash (positive credits, negative debits)."""
    player = await _player(db, player_id)
    accounts = await player_accounts(db, player.id, player.brand_id, currency)
    await lock_player_money(db, player.id, cash=accounts.cash)
    other_side = await operator_account(db, player.brand_id, AccountPurpose.ADJUSTMENTS, accounts.currency)
    return await ledger.record(
        db,
        Entry(
            idempotency_key=f"adjustment:{adjustment_id}",
            kind="adjustment",
            legs=(Leg(accounts.cash, amount), Leg(other_side, -amount)),
            actor_type=actor.type,
            actor_id=actor.id,
            brand_id=player.brand_id,
            player_id=player.id,
            reference_type="adjustment",
            reference_id=str(adjustment_id),
            details={"reason": reason},
        ),
    )
