"""Privacy: a player's data export, and erasure by pseudonymisation within retention duties.

Modules, in the order a request meets them:
- `retention`: the retention rules as data (retention.toml), per category and jurisdiction;
- `export`: everything held about a player, in one consistent read, audited;
- `erasure`: the player's request, the data-protection officer's erasure (refused while AML, money or
  payments hold it), and the sweep that erases held categories once their period has passed.
"""
