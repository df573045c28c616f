"""What `croupier ledger verify` checks of the affiliate accounts (services/ledger_checks.py includes them), in the
form of its cross-table queries (subject, detail) with their incremental scopes; books.py says what they hold:
- a payout names one committed affiliate_commission transaction of its run that put exactly its amount on the
  partner's payable;
- a booked or paid run's lines add up to its payouts;
- a paid payout names one committed affiliate_payout transaction that took exactly its amount off the payable;
- a partner's payable is never below zero and equals its payouts not yet paid.

No imports: services/ledger_checks.py loads this while services/ledger.py is still loading."""

from __future__ import annotations

AFFILIATE_QUERIES: dict[str, str] = {
    "affiliate payout differs from its commission transaction": """
        SELECT o.id::text, 'owed ' || o.amount || ' ' || o.currency || ', ledger '
               || coalesce(t.kind || ' ' || t.status || ' moving ' || coalesce(sum(lp.amount), 0), 'none')
        FROM affiliate_payouts o
        LEFT JOIN ledger_transactions t ON t.id = o.commission_transaction_id
        LEFT JOIN ledger_accounts a ON a.owner_type = 'system' AND a.owner_id = 'affiliate:' || o.affiliate_id
             AND a.purpose = 'affiliate_payable' AND a.currency = o.currency AND a.brand_id IS NULL
        LEFT JOIN ledger_postings lp ON lp.transaction_id = t.id AND lp.account_id = a.id
        WHERE {transaction:o.commission_transaction_id}
        GROUP BY o.id, t.kind, t.status, t.reference_id
        HAVING t.kind IS DISTINCT FROM 'affiliate_commission' OR t.status IS DISTINCT FROM 'committed'
            OR t.reference_id IS DISTINCT FROM o.run_id::text OR coalesce(sum(lp.amount), 0) <> o.amount""",
    "booked affiliate run differs from its lines": """
        SELECT r.id::text, 'lines ' || coalesce(l.total, 0) || ', payouts ' || coalesce(o.total, 0)
        FROM affiliate_runs r
        LEFT JOIN (SELECT run_id, sum(revshare + cpa_amount + second_tier) AS total FROM affiliate_run_lines
                   GROUP BY run_id) l ON l.run_id = r.id
        LEFT JOIN (SELECT run_id, sum(amount) AS total FROM affiliate_payouts GROUP BY run_id) o ON o.run_id = r.id
        WHERE r.state IN ('booked', 'paid') AND {since:r.booked_at}
          AND coalesce(l.total, 0) <> coalesce(o.total, 0)""",
    "affiliate payout paid without its ledger transaction": """
        SELECT o.id::text, o.status || ' ' || o.amount || ' ' || o.currency || ', ledger '
               || coalesce(t.kind || ' ' || t.status || ' taking ' || coalesce(-sum(lp.amount), 0), 'none')
        FROM affiliate_payouts o
        LEFT JOIN ledger_transactions t ON t.id = o.payout_transaction_id
        LEFT JOIN ledger_accounts a ON a.owner_type = 'system' AND a.owner_id = 'affiliate:' || o.affiliate_id
             AND a.purpose = 'affiliate_payable' AND a.currency = o.currency AND a.brand_id IS NULL
        LEFT JOIN ledger_postings lp ON lp.transaction_id = t.id AND lp.account_id = a.id
        WHERE (o.status = 'paid' OR o.payout_transaction_id IS NOT NULL) AND {since:o.paid_at}
        GROUP BY o.id, t.kind, t.status
        HAVING o.status <> 'paid' OR t.kind IS DISTINCT FROM 'affiliate_payout'
            OR t.status IS DISTINCT FROM 'committed' OR coalesce(-sum(lp.amount), 0) <> o.amount""",
    "affiliate payable differs from its unpaid payouts": """
        SELECT a.id::text, a.owner_id || ' ' || a.currency || ' payable ' || coalesce(p.total, 0) || ', unpaid '
               || coalesce(u.total, 0)
        FROM ledger_accounts a
        LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_postings GROUP BY account_id) p
               ON p.account_id = a.id
        LEFT JOIN (SELECT affiliate_id, currency, sum(amount) AS total FROM affiliate_payouts WHERE status <> 'paid'
                   GROUP BY affiliate_id, currency) u
               ON 'affiliate:' || u.affiliate_id = a.owner_id AND u.currency = a.currency
        WHERE a.purpose = 'affiliate_payable' AND {account:a.id}
          AND (coalesce(p.total, 0) < 0 OR coalesce(p.total, 0) <> coalesce(u.total, 0))""",
}
