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
transaction's advisory lock (services/provider_wallet/, taken in the same statement as the cash row,
so the bet path spends no round trip on it). A command moves one player's money. The function refuses
(LockOrderError) a player's row asked for after their money in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import String, any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import prepared
from core.errors import DomainError, ErrorCode
from core.money import currency as currency_info
from core.prepared import Statement
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
    debt: uuid.UUID | None = None  # only once a chargeback booked a debt (`debt_account`)


@dataclass(frozen=True)
class Balance:
    currency: str
    cash: int
    bonus: int
    withdrawal_pending: int
    debt: int = 0  # what the player owes after a chargeback (positive; services/cashier/chargebacks.py)


_OPERATOR_ACCOUNTS: dict[tuple[uuid.UUID | None, str, str, str, str], uuid.UUID] = {}


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
    if any(purpose not in ids for purpose in PLAYER_PURPOSES):
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
        code,
        ids[AccountPurpose.CASH],
        ids[AccountPurpose.BONUS],
        ids[AccountPurpose.WITHDRAWAL_PENDING],
        ids.get(AccountPurpose.DEBT),
    )


async def debt_account(db: AsyncSession, player_id: uuid.UUID, brand_id: uuid.UUID, currency: str) -> uuid.UUID:
    """The player's debt account in a currency (tracked; its balance, never above zero, is what they owe,
    negated), created on first use: only players with a chargeback have one."""
    values = {
        "id": uuid.uuid4(),
        "brand_id": brand_id,
        "owner_type": "player",
        "owner_id": str(player_id),
        "purpose": AccountPurpose.DEBT.value,
        "currency": currency,
        "balance": 0,
        "allow_negative": True,
    }
    await db.execute(insert(LedgerAccount).values(values).on_conflict_do_nothing(constraint="uq_ledger_accounts_owner"))
    found: uuid.UUID = (
        await db.execute(
            select(LedgerAccount.id).where(
                col(LedgerAccount.brand_id) == brand_id,
                LedgerAccount.owner_type == "player",
                LedgerAccount.owner_id == str(player_id),
                LedgerAccount.purpose == AccountPurpose.DEBT.value,
                LedgerAccount.currency == currency,
            )
        )
    ).scalar_one()
    return found


async def owed(db: AsyncSession | AsyncConnection, player_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """What each player owes per currency (positive minor units; players owing nothing are absent)."""
    owners = bindparam("owners", [str(p) for p in player_ids], type_=ARRAY(String))
    rows = (
        await db.execute(
            select(LedgerAccount.owner_id, LedgerAccount.currency, LedgerAccount.balance).where(
                LedgerAccount.owner_type == "player",
                LedgerAccount.purpose == AccountPurpose.DEBT.value,
                col(LedgerAccount.owner_id) == any_(owners),
                col(LedgerAccount.balance) < 0,
            )
        )
    ).all()
    found: dict[uuid.UUID, dict[str, int]] = {}
    for owner, code, balance in rows:
        found.setdefault(uuid.UUID(owner), {})[code] = -int(balance)
    return found


async def operator_account(
    db: AsyncSession,
    brand_id: uuid.UUID | None,
    purpose: AccountPurpose,
    currency: str,
    *,
    owner_type: str = "brand",
    owner_id: str | None = None,
) -> uuid.UUID:
    """A derived operator account (balance = sum of postings), created on first use (`brand_id` None: one for
    every brand, such as an affiliate partner's payable)."""
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
                -values.get(AccountPurpose.DEBT, 0),
            )
            for code, values in currencies.items()
        ]
        for player, currencies in grouped.items()
    }


# ---- chargebacks and returned payouts (services/cashier/chargebacks.py decides when) --------------------


@dataclass(frozen=True)
class Chargeback:
    result: Result
    from_cash: int
    to_debt: int


async def charge_back(
    db: AsyncSession,
    *,
    player_id: uuid.UUID,
    currency: str,
    amount: int,
    psp: str,
    key: str,
    dispute_id: uuid.UUID,
    actor: Actor,
) -> Chargeback:
    """A PSP took `amount` of a deposit back: the player's cash pays what it holds, the rest becomes their debt,
    so cash never goes below zero. Decided under the money lock: a bet or a withdrawal hold racing it is
    wholly before it (less cash to take) or wholly after (less cash to spend)."""
    move = await _psp_move(db, player_id, currency, psp)
    from_cash = min(move.cash, amount)
    legs = (
        Leg(move.accounts.cash, -from_cash),
        Leg(await _debt(db, move), from_cash - amount),
        Leg(move.clearing, amount),
    )
    result = await ledger.record(db, _psp_entry(move, key, "chargeback", legs, actor, ("dispute", dispute_id), psp))
    return Chargeback(result, from_cash, amount - from_cash)


async def reverse_chargeback(
    db: AsyncSession,
    *,
    player_id: uuid.UUID,
    currency: str,
    amount: int,
    debt_booked: int,
    psp: str,
    key: str,
    dispute_id: uuid.UUID,
    actor: Actor,
) -> Chargeback:
    """The operator won the dispute: the PSP gives `amount` back. It cancels the debt the chargeback booked
    (as much of it as is still owed), and the rest returns to cash: with nothing repaid in between, exactly
    the two parts the chargeback took; a part a deposit has repaid since comes back as cash."""
    move = await _psp_move(db, player_id, currency, psp)
    debt = await _debt(db, move)
    to_debt = min(debt_booked, -await _balance(db, debt), amount)
    legs = (Leg(move.accounts.cash, amount - to_debt), Leg(debt, to_debt), Leg(move.clearing, -amount))
    entry = _psp_entry(move, key, "chargeback_reversal", legs, actor, ("dispute", dispute_id), psp)
    return Chargeback(await ledger.record(db, entry), amount - to_debt, to_debt)


async def return_payout(
    db: AsyncSession, *, player_id: uuid.UUID, currency: str, amount: int, psp: str, payment_id: uuid.UUID, actor: Actor
) -> Result:
    """A paid withdrawal came back (the bank refused the destination): the PSP returns it, to the player's cash."""
    move = await _psp_move(db, player_id, currency, psp)
    legs = (Leg(move.accounts.cash, amount), Leg(move.clearing, -amount))
    key = f"payout-returned:{payment_id}"
    return await ledger.record(db, _psp_entry(move, key, "payout_returned", legs, actor, ("payment", payment_id), psp))


# ---- locking a player's money (the order: the module docstring) -----------------------------------


class LockOrderError(RuntimeError):
    """A programming error: a command asked for a player's locks out of their one order."""


_STANDING, _MONEY = 1, 2
_TAKEN = "player_locks"  # Session.info: player id -> the last step of the order locked in this transaction

# Tagged, so a test can tell these statements from a lock written by hand (tests/ledger/test_money_locks.py).
_LOCK_CASH = Statement("""
SELECT /* lock_player_money */ balance FROM ledger_accounts
WHERE id = :cash AND owner_type = 'player' AND owner_id = :player AND purpose = 'cash' FOR UPDATE""")
# The provider wallet's transaction key first (evaluated as the row is read, before it is locked), then the
# cash row: one round trip on the bet path.
_LOCK_CASH_AFTER_SERIAL = Statement("""
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
            balance = int(await prepared.value(db, _LOCK_CASH, params))
        else:
            balance = int((await prepared.one(db, _LOCK_CASH_AFTER_SERIAL, {**params, "serial": serial})).balance)
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


async def _balance(db: AsyncSession, account_id: uuid.UUID) -> int:
    """A tracked account's balance, read under the player's money lock (which every change of it takes)."""
    return int(await db.scalar(select(LedgerAccount.balance).where(col(LedgerAccount.id) == account_id)) or 0)


@dataclass(frozen=True)
class _PspMove:
    """What a movement between a player and a PSP works with, under the player's money lock."""

    player: Player
    accounts: PlayerAccounts
    cash: int  # the cash balance, read under the lock
    clearing: uuid.UUID


async def _psp_move(db: AsyncSession, player_id: uuid.UUID, currency: str, psp: str) -> _PspMove:
    player = await _player(db, player_id)
    accounts = await player_accounts(db, player.id, player.brand_id, currency)
    held = await lock_player_money(db, player.id, cash=accounts.cash)
    clearing = await operator_account(
        db, player.brand_id, AccountPurpose.PSP_CLEARING, accounts.currency, owner_type="psp", owner_id=psp
    )
    return _PspMove(player, accounts, held.cash, clearing)


async def _debt(db: AsyncSession, move: _PspMove) -> uuid.UUID:
    return move.accounts.debt or await debt_account(db, move.player.id, move.player.brand_id, move.accounts.currency)


def _psp_entry(
    move: _PspMove, key: str, kind: str, legs: Sequence[Leg], actor: Actor, reference: tuple[str, uuid.UUID], psp: str
) -> Entry:
    return Entry(
        idempotency_key=key,
        kind=kind,
        legs=tuple(leg for leg in legs if leg.amount),
        actor_type=actor.type,
        actor_id=actor.id,
        brand_id=move.player.brand_id,
        player_id=move.player.id,
        reference_type=reference[0],
        reference_id=str(reference[1]),
        details={"psp": psp},
    )


async def credit_deposit(
    db: AsyncSession,
    *,
    player_id: uuid.UUID,
    currency: str,
    amount: int,
    psp: str,
    payment_id: uuid.UUID,
    actor: Actor,
    repay_debt: bool = True,
) -> Result:
    """A PSP confirmed a deposit: the PSP owes us the money, the player's cash has it. A player who owes a
    chargeback's debt repays it first, when `repay_debt` (the `deposits_repay_debt` setting): only the rest
    reaches cash."""
    move = await _psp_move(db, player_id, currency, psp)
    debt = move.accounts.debt
    key = f"deposit:{payment_id}"
    repaid = 0
    if repay_debt and debt is not None:
        # The legs depend on the debt, which may have moved since a first credit under this key: that one stands.
        first = await ledger.recorded(db, key)
        if first is not None:
            return first
        repaid = min(amount, -await _balance(db, debt))
    legs = [Leg(move.accounts.cash, amount - repaid), Leg(move.clearing, -amount)]
    if debt is not None:
        legs.append(Leg(debt, repaid))
    result = await ledger.record(db, _psp_entry(move, key, "deposit", legs, actor, ("payment", payment_id), psp))
    if result.committed and not result.replayed:  # counted for deposit limits, with the credit
        day = rg_profiles.profile(move.player.jurisdiction).local_day(result.created_at)
        await rg_activity.count(
            db, player_id=move.player.id, currency=move.accounts.currency, day=day, deposited=amount
        )
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
