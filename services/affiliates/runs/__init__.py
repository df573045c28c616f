"""Commission runs (docs/affiliate-commissions.md). The package, one job a module (each imports only those above):
- maths.py: the commission maths, no database (a plan's terms read by services/affiliates/plans.py `parse`);
- statement.py: a period's lines and deal sums from its inputs (deal in force per day, CPA, second tier);
- drafts.py: making a draft run from the projections, discarding one;
- approval.py: finance's approval, four eyes above the threshold;
- books.py, checks.py: the run in the ledger (booking, payouts) and what `ledger verify` checks of it;
- settlement.py: booking an approved run and paying it out through the PSP;
- reads.py: what staff and partners read (runs, lines, `partner_commissions`).

States: draft → approved → booked → paid; a draft may be discarded instead.
"""
