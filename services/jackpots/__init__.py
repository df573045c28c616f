"""Jackpots: local and network pools fed by a share of eligible stakes, dropped at a committed point or
by the game provider, paid through the ledger exactly once.

Modules, in the order money flows through them:
- `arithmetic`: the pure rules every path uses (the consumer, the simulation bench/jackpot_simulation.py):
  a contribution in parts per million with the remainder carried, the cap, the drop test, what a rollback
  takes back (only from the pot its bet fed; the rest forgone).
- `commitment`: the drop point and its commitment, SHA-256(drop point as 8 bytes big-endian || 32-byte
  salt), published when a pot is seeded and revealed when it drops; `verify_commitment`.
- `books`: the jackpot's ledger transactions (seed, contributions per consumer batch, wins) on the
  caller's connection, each with its idempotency key.
- `pools`: seeding and reseeding a pot, paying a win under the pool's row lock (one winner per
  generation: `jackpot_wins` is unique per pool and generation).
- `closing`: a jackpot closed: every pot back to the seed account, its commitment revealed as void.
- `consumer`: `JackpotConsumer` (name `jackpots`), contributions and drops from `ledger.game_bet` and
  `ledger.game_bet_rollback` events, exactly once (effects commit with the processed event ids).
- `admin`: the commands and lookups the entry points (GraphQL, the CLI, the provider's REST route) call:
    `create_jackpot(db, spec: JackpotSpec, *, actor: Viewer, reason=None) -> JackpotView`  create, seed every level
    `configure_jackpot(db, jackpot_id, *, actor, status=None, games=None, providers=None, min_bet=None,
                       reason=None) -> JackpotView`        status "closed" refunds the pots (a reason required)
    `list_jackpots(db, *, brand_id=None, status=None, ids=None) -> list[JackpotView]`   one statement, pools in
    `get_jackpot(db, jackpot_id) -> JackpotView`, `find_jackpot(db, code_or_id) -> JackpotView`
    `report_provider_win(db, *, pool_id, player_id, provider, reference, rates, generation=None, actor=None)
        -> WinView`
- `views`: what anyone may read, as dataclasses (`JackpotView`, `PoolState`, `PoolHistory`, `DayView`,
  `WinView`, `SeedView`, `CommitmentView`, `VerifiedDrop`):
    `pool_state(db, pool_id) -> PoolState`
    `history(db, pool_id, *, since=None) -> PoolHistory`        contributions by day, wins, seeds, refunds; `adds_up()`
    `commitments(db, pool_id) -> list[CommitmentView]`          point and salt of revealed ones only
    `verify(db, jackpot_id) -> list[VerifiedDrop]`              every revealed drop checked
- `integrations/jackpot_wins.py`: `POST /providers/{code}/jackpot/win`, Hub88-signed (docs/jackpots.md).
All take an `AsyncSession` in an open transaction (the caller commits) and raise `DomainError`s with codes
(NOT_FOUND, INVALID_INPUT, ALREADY_EXISTS, INVALID_STATE — a pot already won: `pools.AlreadyWon`).

Invariants (checked by `croupier ledger verify`, services/ledger_verify): a pool's `amount` equals its
ledger account's balance; an amount pool never holds more than its cap; every win is one ledger
transaction keyed `jackpot-win:<pool>:<generation>`.
"""
