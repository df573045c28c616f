"""Crypto deposits and withdrawals through a crypto processor (`cryptopay`: services/cashier/psp/cryptopay.py).

A crypto payment is a payment like any other (services/cashier): a `payments` row of method `crypto`, its
money moved by the ledger keyed by the payment id, so closed loop, reports and the back office see it as
they see a card's. What differs, and lives here:
- a deposit has no amount up front: the player gets an address (addresses.py), coins arrive, the processor
  reports the transfer and its confirmations in signed callbacks; the payment is created when the transfer
  is first seen and credited once it has the confirmations we require for its asset (deposits.py), however
  many times, and in whatever order, the callbacks come;
- credited to a fiat wallet, coins are worth what a rate locked in a quote says (quotes.py): the player's
  quote still valid when the transfer is first seen, or else the processor's rate at that moment, locked then;
- a confirmed deposit meets the card deposit's gates before its credit; one refused is held in suspense, then
  released or refunded to its sender (holds.py), the refund's payout followed to its end (refunds.py: a failed
  one holds the deposit again), swept by the server's worker (sweeper.py); the processor's fees are booked (fees.py);
- a withdrawal goes to an address screened on chain before it is taken and again before it is paid;
  from a fiat wallet its amount of the asset is fixed by a quote (withdrawals.py);
- the chain's amounts convert exactly to the ledger's minor units (assets.py, where ETH's exponent is decided).

Modules (each imports only those above it): assets.py, processor.py, addresses.py, quotes.py, fees.py, holds.py,
refunds.py, sweeper.py, deposits.py, withdrawals.py, queries.py (holds.py reaches deposits.py's event writer and
refunds.py at call time).
"""
