"""Tournaments (docs/tournaments.md), one module per job, in the order a tournament lives:

- `definitions`: a definition as data, validated (eligibility, scoring, caps, entry, buy-in, prizes);
- `entries`: joining (opt-in, buy-in, re-buy) through the ledger into the tournament's pool, RG first;
- `scoring`: the score of a set of rounds, per scoring kind, and who reached it first;
- `consumer`: the `tournaments` consumer turning bet/win/rollback events into rounds and standings;
- `standings`: the one ranking rule, read from PostgreSQL;
- `lifecycle`: scheduled → running → finished (`tick`), cancellation with refunds;
- `settlement`: prizes through the ledger and the bonus engine, the results hash;
- `results`: the canonical results document and its SHA-256, and `verify`.
"""
