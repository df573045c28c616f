"""The tournament invariants `croupier ledger verify` checks (services/ledger_checks.py includes them), in the
form of its cross-table queries (subject, detail) with their incremental scopes:
- a tournament transaction (buy-in, refund, prize, rake) names a tournament of its brand and currency;
- each buy-in is refunded at most once, and a cancelled tournament refunded every buy-in, each exactly once;
- the pool of a settled or cancelled tournament is empty, and a pool never goes below zero;
- a settled tournament's paid cash prizes match their ledger transactions."""

from __future__ import annotations

TOURNAMENT_QUERIES: dict[str, str] = {
    "tournament transaction names no tournament of its brand": """
        SELECT t.id::text, t.kind || ' names ' || coalesce(t.reference_type || ' ' || t.reference_id, 'nothing')
        FROM ledger_transactions t
        LEFT JOIN tournaments tt ON t.reference_type = 'tournament' AND tt.id::text = t.reference_id
             AND tt.brand_id IS NOT DISTINCT FROM t.brand_id
        WHERE t.kind IN ('tournament_buy_in', 'tournament_refund', 'tournament_prize', 'tournament_rake')
          AND t.status = 'committed' AND {transaction:t.id} AND tt.id IS NULL""",
    "tournament buy-in refunded other than once": """
        SELECT b.id::text,
               'tournament ' || b.reference_id || ' (' || tt.state || '): refunded ' || count(r.id) || ' times'
        FROM ledger_transactions b
        JOIN tournaments tt ON tt.id::text = b.reference_id
        LEFT JOIN ledger_transactions r ON r.kind = 'tournament_refund' AND r.status = 'committed'
             AND r.reference_type = 'tournament' AND r.reference_id = b.reference_id
             AND r.details->>'buy_in' = b.id::text
        WHERE b.kind = 'tournament_buy_in' AND b.status = 'committed' AND b.reference_type = 'tournament'
          AND {since:coalesce(tt.cancelled_at, tt.created_at)}
        GROUP BY b.id, b.reference_id, tt.state
        HAVING count(r.id) > 1 OR (tt.state = 'cancelled' AND count(r.id) <> 1)""",
    "tournament pool not empty after settlement or cancellation, or negative": """
        SELECT a.id::text, 'tournament ' || a.owner_id || ' (' || tt.state || ') pool holds ' || sum(p.amount)
        FROM ledger_accounts a
        JOIN tournaments tt ON tt.id::text = a.owner_id
        JOIN ledger_postings p ON p.account_id = a.id
        WHERE a.purpose = 'tournament_pool' AND {account:a.id}
        GROUP BY a.id, a.owner_id, tt.state
        HAVING sum(p.amount) < 0 OR (tt.state IN ('settled', 'cancelled') AND sum(p.amount) <> 0)""",
    "tournament cash prize differs from its ledger transaction": """
        SELECT pz.tournament_id::text || ' rank ' || pz.rank, 'prize ' || pz.amount || ', ledger '
               || coalesce(t.kind || ' ' || t.status, 'none')
        FROM tournament_prizes pz
        LEFT JOIN ledger_transactions t ON t.id = pz.ledger_transaction_id
        WHERE pz.kind = 'cash' AND pz.amount > 0 AND {since:pz.created_at}
          AND (t.id IS NULL OR t.kind <> 'tournament_prize' OR t.status <> 'committed'
               OR t.player_id IS DISTINCT FROM pz.player_id
               OR pz.amount <> (SELECT coalesce(sum(lp.amount), 0) FROM ledger_postings lp
                                JOIN ledger_accounts a ON a.id = lp.account_id
                                WHERE lp.transaction_id = t.id AND a.purpose = 'cash'))""",
}
