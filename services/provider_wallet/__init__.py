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
  bet (or win) with that uuid is refused (TRANSACTION_DOES_NOT_EXIST) and moves nothing; for a protocol
  whose rollback names its player (`player_scoped_rollbacks`: Pragmatic's refund), only that player's.
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

Round trips for a new bet or win of a player with no bonus and no RG limit: BEGIN · one call of the PostgreSQL
function `wallet_play_v2` (sql/wallet/, through one_call.py) · COMMIT; tests/providers/test_wallet_round_trips.py
pins it; a bet the game's rules refuse is refused in that call too. Everything else the function leaves untouched
('fallback'), and the Python path below decides it in the same database transaction: BEGIN · context (session,
player, game, cash and bonus accounts, the provider row's version) · locks (the transaction's key and the cash row,
+ balance) · state (call, transaction, reference, rollback marker, round, the RG gate's and the bonus's inputs) ·
the ledger's two (re-lock; transaction, postings, balances, outbox in one statement) · the RG activity counter ·
round · transaction · call log · COMMIT. Those statements run on the session's asyncpg connection, prepared
(core/prepared.py). The Hub88 route reads no provider row: it keeps it in memory, and the first statement checks its
version (a changed row: StaleProvider, nothing written, the call served again from a fresh read).

The package, one job a module (each imports only those above it):
- types.py: the neutral vocabulary (statuses, the command, the result, a protocol's `Dialect`) and what
  every step shares (the request's hash, the ledger key);
- statements.py: the SQL, written once, and the writes (round, provider transaction, call log);
- context.py: what a command reads before it decides: context, locks, the state under them;
- replay.py: a repeated call's stored answer, a retried transaction's first result;
- booking.py: how a command is written on the ledger (legs, entry, the cash after);
- bet.py, win.py, rollback.py: the decisions, their steps named;
- group_commit.py: concurrent one calls of a process gathered into one database transaction (`wallet_play_batch_v2`);
- one_call.py: the common case of a bet or a win as one call of `wallet_play_v2` (sql/wallet/wallet_play_v2.sql);
- commands.py: bet, win and rollback in one frame (one database transaction each);
- queries.py: balance (a session's, or an offline player's) and user info;
- award.py: money moved with no bet and no session (a jackpot, a promotion's prize, an adjustment);
- rounds.py: a round declared over.
"""

from services.provider_wallet.award import credit, debit
from services.provider_wallet.commands import bet, rollback, win
from services.provider_wallet.queries import balance, player_balance, user_info
from services.provider_wallet.rounds import end_round
from services.provider_wallet.types import (
    Answer,
    Dialect,
    Kind,
    PlayerInfo,
    ProviderRef,
    StaleProvider,
    Status,
    WalletCommand,
    WalletResult,
    ledger_key,
    request_hash,
)

__all__ = [
    "Answer",
    "Dialect",
    "Kind",
    "PlayerInfo",
    "ProviderRef",
    "StaleProvider",
    "Status",
    "WalletCommand",
    "WalletResult",
    "balance",
    "bet",
    "credit",
    "debit",
    "end_round",
    "ledger_key",
    "player_balance",
    "request_hash",
    "rollback",
    "user_info",
    "win",
]
