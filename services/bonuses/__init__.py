"""The bonus engine: campaigns as data, player bonuses, wagering in the bet path, free rounds, cashback.

Guarantees:
- Every cent of bonus money is in the ledger: each player has a `bonus` account per currency beside
  `cash`; the operator has a `bonus_cost` account. Grants, conversions, forfeits, expiries and the
  bonus part of bets and wins are balanced ledger transactions with idempotency keys (books.py).
- A player has at most one bonus in play (issued or active) per currency (a unique index).
- Wagering progress moves in the transaction of the bet, under the player's cash-row lock, and a
  rollback reverses exactly the split and progress its bet recorded (play.py).
- A bet that takes its round above the bonus's max bet is refused before anything moves (LIMIT_REACHED).
- A withdrawal while a bonus is active is refused with BONUS_ACTIVE unless the player confirms the
  forfeit, which then happens in the withdrawal's own transaction once its hold succeeded: a refused
  withdrawal forfeits nothing (lifecycle.py).
- A deposit offer waiting for a deposit that fails or is abandoned is released in the transaction that
  fails the payment; a released offer never counts as a claim (issue.py).
- Campaign rules are validated (rules.py) and held to the jurisdictions' bonus rules
  (services/rg/bonus_rules.toml) when a campaign is created or activated and when a bonus is issued; a
  wagering cap is measured against the bonus whatever the base, and clamps a bonus's wagering (rules.py).
- Self-excluded or timed-out players see no offers and cannot claim, and get no cashback (campaigns.py).
- Cashback pays each player once per campaign period, however many runs and even concurrent ones
  (cashback.py), less what a late rollback over-paid earlier periods (cashback_recovery.py); a bonus
  settles (converts or expires) under its player's lock, never while a round of it is open unless that
  round went stale, and never after its expiry (lifecycle.py).

Modules, one job each: rules.py (what a campaign may say), books.py (ledger movements and the
player lock), campaigns.py (marketing's commands, eligibility, reach), issue.py (claims, grants,
deposits), cashback.py (cashback periods and their payouts), cashback_recovery.py (over-payments
recovered from later payouts), lifecycle.py (activation, conversion,
forfeit, expiry), play.py (the bet path), events.py (one `bonus.*` event per change of status),
queries.py (offers, history, liability), worker.py (the background job: expiry, conversion, cashback).
"""
