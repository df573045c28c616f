"""KYC verification: levels per jurisdiction, the triggers that require them, the gates that hold money until
they are reached, and the officers' reviews (docs/kyc.md).

Guarantees:
- Levels only go up, in the profile's order; a level is reached when every one of its requirements is met,
  in the same transaction as the last one (an officer's approval, a provider's result).
- A trigger is recorded once per (player, trigger, level); the figures that crossed its threshold stay with it.
- Deposits and withdrawals read the player's KYC state in their own transaction, under the player's money
  lock: a deposit a gate refuses moves no money and reaches no PSP; a withdrawal a gate holds keeps its
  amount held (`waiting_for_kyc`) and is released once, by whichever release comes first.
- Every staff decision is audited; every change is an outbox event in the same transaction.

The package, one job a module (each imports only those above it; none imports it from here, since the
cashier imports `gates` and `reviews` releases the cashier's waiting withdrawals):
- levels.py (+ levels.toml): the profiles as data, validated at load;
- requirements.py: whether a requirement is met, a registry of checkers (documents and screening: seams);
- state.py: the player's state row, its lock, `require` and `advance`;
- triggers.py: which triggers a cashier decision sets off, with their figures;
- gates.py: the deposit, withdrawal and game-launch questions;
- reviews.py: officers approve, reject, request more (four eyes);
- actions.py: restrict, high risk, provider results, `require_level` for risk signals;
- view.py: `Player.kyc` and the review queue.
"""
