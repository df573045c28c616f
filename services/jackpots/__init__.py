"""Jackpots: local and network pools fed by a share of eligible stakes, dropped at a committed point or
by the game provider, paid through the ledger exactly once.

Modules, in the order money flows through them:
- `arithmetic`: the pure rules every path uses (the consumer, the simulation bench/jackpot_simulation.py):
  a contribution in parts per million with the remainder carried, the cap, the drop test.
- `commitment`: the drop point and its commitment, SHA-256(drop point as 8 bytes big-endian || 32-byte
  salt), published when a pot is seeded and revealed when it drops; `verify_commitment`.
- `books`: the jackpot's ledger transactions (seed, contributions per consumer batch, wins) on the
  caller's connection, each with its idempotency key.
- `pools`: seeding and reseeding a pot, paying a win under the pool's row lock (one winner per
  generation: `jackpot_wins` is unique per pool and generation).
- `consumer`: `JackpotConsumer` (name `jackpots`), contributions and drops from `ledger.game_bet` and
  `ledger.game_bet_rollback` events, exactly once (effects commit with the processed event ids).
- `admin`: the service functions the entry points (GraphQL, CLI, REST) call:
    `create_jackpot(db, spec: JackpotSpec, *, actor_id) -> Jackpot`       create and seed every level
    `configure_jackpot(db, jackpot_id, *, status=..., games=..., providers=..., min_bet=...) -> Jackpot`
    `list_jackpots(db, *, brand_id=None, status=None) -> list[Jackpot]`
    `get_jackpot(db, jackpot_id) -> Jackpot`
    `pools(db, jackpot_ids) -> dict[UUID, list[PoolState]]`             the pots now (amount, level, …)
    `pool_state(db, pool_id) -> PoolState`
    `history(db, pool_id, *, since=None) -> PoolHistory`                days, wins, reseeds
    `commitments(db, pool_id) -> list[CommitmentView]`                  published, revealed ones shown
    `report_provider_win(db, *, pool_id, player_id, provider, reference, actor) -> WinView`
    `verify(db, jackpot_id) -> list[VerifiedDrop]`                      every revealed drop checked
  All take an `AsyncSession` in an open transaction (the caller commits) and raise `DomainError`s with
  codes (NOT_FOUND, INVALID_INPUT, INVALID_STATE, JACKPOT_ALREADY_WON).

Invariants (checked by `croupier ledger verify`, services/ledger_verify): a pool's `amount` equals its
ledger account's balance; an amount pool never holds more than its cap; every win is one ledger
transaction keyed `jackpot-win:<pool>:<generation>`.
"""
