"""Reports: KPIs over projections of the event stream, never over the ledger's hot tables.

The definitions of every figure live in one place, docs/reports.md. Guarantees:
- The projections (`report_*` tables, models/reports.py) are written only by the `reports` consumer,
  exactly once per event through the consumer framework (core/consumers.py): a batch's effects commit
  with the ids of its events, so a redelivery changes nothing, and a rebuild (reset + replay of the
  outbox) gives the same rows.
- Their money figures equal the ledger's: GGR is the house_revenue movement, the bonus cost the
  bonus_cost accounts' outflow, deposits and withdrawals what the player accounts received and paid
  out, per UTC day, brand and currency. `croupier reports verify` recomputes them from the ledger.
- A conversion into the reporting currency uses the reference rate in force on each day (the latest on
  or before it); a currency without one refuses the report (`FX_RATE_MISSING`), never guesses.

Modules, one job each (each imports only those above it):
- projection.py: the `reports` consumer that folds events into the projections;
- fx.py: reference rates (the ECB CSV import) and exact conversion;
- periods.py: days, weeks and months, the range asked for, the brands a viewer's reports cover;
- kpis.py: money, player and game figures per period, per brand or for a staff member's brands;
- cohorts.py: registration cohorts, retention on day n and lifetime value;
- verify.py: the projections against the ledger (`croupier reports verify`).
"""
