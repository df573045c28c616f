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
- projection.py: the consumer that folds events into the projections;
- fx.py: reference rates (the ECB CSV import) and exact conversion;
- kpis.py: the figures by day, week or month, per brand or for a staff member's brands;
- verify.py: the projections against the ledger.
"""
