"""The wallet's SQL, written once, and the small functions that run its writes: the round, the provider
transaction, the rollback mark and the call log. The reads (context, locks, state) are run by context.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import prepared
from core.clock import clock
from core.ids import new_id
from core.prepared import Statement
from services.bonuses import play as bonus_play
from services.provider_wallet.types import Kind, WalletCommand
from services.rg import gates as rg_gates

# ---- reads -------------------------------------------------------------------------------------

# `game_enabled` is launch's rule (services/games._refuse_for: the game, the brand's switch, the player's
# country), so a game switched off for a brand or a country, or withdrawn by a catalogue sync, stops bets in
# sessions already open; so do its certified countries (`game_jurisdictions`) and its bet limits (bet.py).
CONTEXT = Statement("""
SELECT p.id AS player_id, p.status AS player_status, p.brand_id, p.country, p.date_of_birth, p.created_at,
       p.jurisdiction, p.currency AS player_currency, b.code AS brand_code,
       s.player_id AS session_player, s.currency AS session_currency, s.expires_at, s.ended_at, s.mode,
       s.id AS session_id, s.auth_session_id,
       g.id AS game_id, g.min_bet, g.max_bet, g.jurisdictions AS game_jurisdictions, g.contribution_category,
       (g.enabled AND coalesce(bg.enabled, true)
        AND NOT coalesce(p.country = ANY(bg.disabled_countries), false)
        AND (cardinality(g.countries) = 0 OR coalesce(p.country = ANY(g.countries), false))) AS game_enabled,
       a.id AS cash_id, a.balance AS cash_balance, a.currency AS cash_currency,
       ba.id AS bonus_account, ba.balance AS bonus_balance, gp.xmin::text AS provider_version
FROM (SELECT 1) AS one
LEFT JOIN game_providers gp ON gp.id = :provider
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

LOCK_ONLY = Statement("SELECT pg_advisory_xact_lock(hashtextextended(:lock_key, 0))")
REFERENCE = Statement("""
SELECT player_id, currency FROM provider_transactions WHERE provider_id = :provider AND transaction_uuid = :ref
""")

STATE = Statement(f"""
SELECT c.response AS call_response, {rg_gates.BET_STATE_COLUMNS}, {bonus_play.BET_STATE_COLUMNS},
       o.kind AS own_kind, o.request_hash AS own_hash, o.status AS own_status, o.balance_after AS own_balance,
       o.currency AS own_currency,
       r.id AS ref_id, r.kind AS ref_kind, r.status AS ref_status, r.player_id AS ref_player,
       r.amount AS ref_amount, r.currency AS ref_currency, r.rolled_back AS ref_rolled_back,
       r.round_id AS ref_round, r.game_code AS ref_game, r.ledger_transaction_id AS ref_ledger,
       r.created_at AS ref_created_at,
       (SELECT m.transaction_uuid FROM provider_transactions m WHERE m.provider_id = :provider
         AND m.kind = 'rollback' AND m.reference_transaction_uuid = :marked
         AND (NOT CAST(:scoped AS boolean) OR m.player_id = CAST(:player AS uuid)) LIMIT 1) AS rolled_back_by,
       (SELECT gr.id FROM game_rounds gr WHERE gr.provider_id = :provider AND gr.round_ref = :round
         AND gr.player_id = CAST(:player AS uuid) AND gr.currency = :currency) AS round_id
FROM (SELECT 1) AS one
LEFT JOIN provider_calls c ON c.provider_id = :provider AND c.endpoint = :endpoint AND c.request_uuid = :request
LEFT JOIN provider_transactions o ON o.provider_id = :provider AND o.transaction_uuid = :tx
LEFT JOIN provider_transactions r ON r.provider_id = :provider AND r.transaction_uuid = :ref
""")  # noqa: S608  (constant fragments from services/rg/gates.py and services/bonuses/play.py, no input)

STORED_CALL = Statement(
    "SELECT response FROM provider_calls WHERE provider_id = :provider AND endpoint = :endpoint "
    "AND request_uuid = :request"
)

# ---- writes ------------------------------------------------------------------------------------

# The round, the provider transaction and the call log: written by the functions of sql/wallet/ (wallet_open_round_v1,
# wallet_record_v1, wallet_log_call_v1), which the one call (wallet_play_v2) uses too, so each write is stated once.
ROUND = Statement("""
SELECT wallet_open_round_v1(:id, :provider, :round, :player, :game, :session, :currency, :closed, :bet, :win, :now)""")

ROUND_UNDO = Statement("""
UPDATE game_rounds SET total_bet = total_bet - :bet, total_win = total_win - :win WHERE id = :round
""")

RECORD = Statement("""
SELECT wallet_record_v1(:id, :provider, :tx, :kind, :ref, :hash, :status, :player, :round, :game, :currency, :amount,
                        :ledger, :balance, :raw, CAST(:response AS jsonb), :now)""")

MARK_ROLLED_BACK = Statement("UPDATE provider_transactions SET rolled_back = true WHERE id = :id")

CALL = Statement("""
SELECT wallet_log_call_v1(:id, :provider, :endpoint, :request, :tx, :raw, CAST(:response AS jsonb), :now)""")


def raw(command: WalletCommand) -> str:
    return command.raw_request.decode("utf-8", errors="replace")


def as_json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        decoded: dict[str, Any] = json.loads(value)
        return decoded
    return dict(value)


async def log_call(db: AsyncSession, command: WalletCommand, body: Mapping[str, Any]) -> None:
    if not command.request_uuid:
        return
    await prepared.execute(
        db,
        CALL,
        {
            "id": new_id(),
            "provider": command.provider.id,
            "endpoint": command.endpoint,
            "request": command.request_uuid,
            "tx": command.transaction_uuid,
            "raw": raw(command),
            "response": json.dumps(dict(body)),
            "now": clock.now(),
        },
    )


async def stored_call(db: AsyncSession, command: WalletCommand) -> dict[str, Any] | None:
    if not command.request_uuid:
        return None
    stored = await prepared.value(
        db,
        STORED_CALL,
        {"provider": command.provider.id, "endpoint": command.endpoint, "request": command.request_uuid},
    )
    return as_json(stored) if stored is not None else None


async def open_round(
    db: AsyncSession,
    command: WalletCommand,
    *,
    player_id: uuid.UUID | None,
    game_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    bet: int,
    win: int,
) -> uuid.UUID | None:
    """The player's round (provider, round ref, player), opened or added to; None when the protocol names none."""
    if not command.round_ref:
        return None
    round_id: uuid.UUID = await prepared.value(
        db,
        ROUND,
        {
            "id": new_id(),
            "provider": command.provider.id,
            "round": command.round_ref,
            "player": player_id,
            "game": game_id,
            "session": session_id,
            "currency": command.currency,
            "closed": command.round_closed,
            "bet": bet,
            "win": win,
            "now": clock.now(),
        },
    )
    return round_id


async def undo_round(db: AsyncSession, round_id: uuid.UUID, *, bet: int, win: int) -> None:
    await prepared.execute(db, ROUND_UNDO, {"round": round_id, "bet": bet, "win": win})


async def mark_rolled_back(db: AsyncSession, transaction_id: uuid.UUID) -> None:
    await prepared.execute(db, MARK_ROLLED_BACK, {"id": transaction_id})


async def record_transaction(
    db: AsyncSession,
    command: WalletCommand,
    kind: Kind,
    *,
    request_hash: str,
    status: str,
    player_id: uuid.UUID | None,
    round_id: uuid.UUID | None,
    currency: str | None,
    amount: int,
    ledger_transaction_id: uuid.UUID | None,
    balance: int | None,
    body: Mapping[str, Any],
) -> bool:
    """Store the provider transaction with its answer; False when its uuid was taken first (by another player's)."""
    inserted = await prepared.value(
        db,
        RECORD,
        {
            "id": new_id(),
            "provider": command.provider.id,
            "tx": command.transaction_uuid,
            "kind": kind.value,
            "ref": command.reference_uuid,
            "hash": request_hash,
            "status": status,
            "player": player_id,
            "round": round_id,
            "game": command.game_code,
            "currency": currency,
            "amount": amount,
            "ledger": ledger_transaction_id,
            "balance": balance,
            "raw": raw(command),
            "response": json.dumps(dict(body)),
            "now": clock.now(),
        },
    )
    return inserted is not None
