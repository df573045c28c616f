"""Player wallets and the operator's accounts, and the money movements between them.

Each player has, per currency, a cash, a bonus and a withdrawal-pending account (tracked: they
carry a balance that never goes below zero). The operator side (PSP clearing, adjustments, house
revenue, pools) is one derived account per brand, owner, purpose and currency. Every function
here records one balanced ledger transaction in the caller's database transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
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


async def balances(db: AsyncSession, player_id: uuid.UUID) -> list[Balance]:
    return (await balances_of(db, [player_id])).get(player_id, [])


async def balances_of(db: AsyncSession, player_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Balance]]:
    """Balances of several players in one query (for DataLoaders)."""
    rows = (
        await db.execute(
            select(LedgerAccount.owner_id, LedgerAccount.currency, LedgerAccount.purpose, LedgerAccount.balance)
            .where(LedgerAccount.owner_type == "player", col(LedgerAccount.owner_id).in_([str(p) for p in player_ids]))
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
