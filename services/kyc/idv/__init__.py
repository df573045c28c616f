"""Identity verification at an outside provider, in the shape Sumsub gives it (docs/kyc.md, "Identity
verification provider"): we create an applicant for a player (`externalUserId` = the player's id), hand the
player a link to the provider's hosted flow (WebSDK), and the provider tells us the result by a signed
webhook, retried for hours, possibly more than once and out of order.

Guarantees:
- One applicant per (player, provider): starting again reuses it (the provider answers 409 to a second
  create for the same external user id, and we read the existing one).
- A webhook is applied at most once: its receipt (per provider and delivery id) and its effects commit in
  one transaction; a redelivery finds the receipt and changes nothing.
- Order independence: a review result older than (or as old as) the one applied (the provider's
  `createdAtMs`) is recorded, never applied; the newest result wins. A RED FINAL stays until a newer
  review; while it stands the player cannot start the flow again (RED RETRY lets them).
- An applied result is a provider check (services/kyc/actions.py), recorded as the system, in the same
  transaction as the receipt; waiting withdrawals are released after the commit.

The package: `client.py` (the port and the Sumsub-shaped HTTP adapter), `applicants.py` (start a
verification: the applicant once, the hosted-flow link), `webhooks.py` (verify, record once, apply).
"""
