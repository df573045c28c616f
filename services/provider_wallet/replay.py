"""Answers given again: a repeated call (`request_uuid` per endpoint) gets its stored answer as it was sent;
a retried transaction (`transaction_uuid`) with the same content gets its first result and moves nothing,
with different content it is DUPLICATE_TRANSACTION."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.provider_wallet import statements
from services.provider_wallet.types import (
    Answer,
    Dialect,
    Duplicate,
    Kind,
    Purse,
    Status,
    WalletCommand,
    WalletResult,
    request_hash,
    total,
)


def from_code(dialect: Dialect, code: str) -> str:
    for status in Status:
        if dialect.status_code(status) == code:
            return status.value
    return Status.UNKNOWN.value


def ok(dialect: Dialect, code: str | None) -> bool:
    return code is not None and code == dialect.status_code(Status.OK)


def neutral(dialect: Dialect, response: Any) -> str:
    body = statements.as_json(response)
    code = body.get("status") or body.get("code")
    return from_code(dialect, str(code)) if code is not None else Status.UNKNOWN.value


def stored_query(command: WalletCommand, stored: dict[str, Any], *, currency: str | None) -> Answer:
    """A balance or user-info call asked again."""
    return Answer(WalletResult(Status.OK, command.user, currency, replayed=True), stored)


async def replayed(
    db: AsyncSession,
    command: WalletCommand,
    dialect: Dialect,
    kind: Kind,
    state: Any,
    current: int | None,
    purse: Purse,
) -> Answer | None:
    """The answer a bet, win or rollback already has (None: it is new). Raises Duplicate for a known
    transaction uuid with other content."""
    if state.call_response is not None:  # the same call again: the same answer, as sent
        return Answer(
            WalletResult(Status(neutral(dialect, state.call_response)), command.user, command.currency, replayed=True),
            statements.as_json(state.call_response),
        )
    if state.own_kind is None:
        return None
    # A retried transaction.
    if state.own_kind != kind.value or state.own_hash != request_hash(command, kind):
        raise Duplicate
    status = Status(from_code(dialect, state.own_status))
    balance_after = state.own_balance if state.own_balance is not None else total(current, purse)
    if getattr(dialect, "retry_shows_current_balance", False) and current is not None:
        balance_after = total(current, purse)  # the protocol asks for the balance now, not the first answer's
    result = WalletResult(status, command.user, state.own_currency or command.currency, balance_after, replayed=True)
    body = dialect.render(command, result)
    await statements.log_call(db, command, body)
    return Answer(result, body)
