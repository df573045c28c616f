"""The books across tables: what `croupier ledger verify` checks beyond the ledger's own tables.

services/ledger.py's VERIFY_QUERIES include these, so the CLI, the books check after every test and the
fault suite all run them. Each query returns (subject, detail) for every row that breaks its invariant, and
marks with `{scope:expression}` how an incremental verify narrows it to new rows (services/ledger_verify/checks.py:
`transaction` — a ledger transaction new since the checkpoint, `account` — an account a new posting touched,
`since` — a timestamp after the checkpoint; a full verify reads every row):
- a provider's money moves once: each ledger transaction the provider wallet booked (reference
  `provider_transaction`) is named by exactly one provider transaction, which agrees with it (player,
  kind, currency, and OK exactly when the ledger committed it), and an OK bet, win or rollback that moved
  money names its ledger transaction (free rounds, and bonus splits that moved nothing, move none);
- a settled payment (a deposit succeeded, a withdrawal paid) names its ledger transaction, which moved its
  amount in its currency on its player's accounts;
- a player's bonus account holds exactly their open bonuses' money: the sum of its postings that belong to
  a bonus still issued or active (a posting belongs to a bonus through the bonus's own transactions, the
  bets and wins it split, and the rollbacks of those);
- crypto deposits a gate held (services/cashier/crypto/holds.py): a brand's `crypto_held` suspense account
  holds exactly the amounts of its deposits still held (or being refunded), per currency;
- chargebacks (services/cashier/chargebacks.py): a player's debt account is never above zero; a dispute's
  chargeback and reversal transactions are of their kind, committed, for its player, and moved exactly its
  amount on the player's accounts (the chargeback: its cash part from cash, its debt part to debt); every
  chargeback or reversal transaction is named by a dispute; a returned withdrawal's money came back once.
"""

from __future__ import annotations

# The status a provider transaction stores when it was answered OK, per protocol (integrations/hub88.py
# `STATUS_CODES`, integrations/softswiss.py `status_code`, integrations/pragmatic_wire.py `SUCCESS`);
# tests/ledger/test_ledger_checks.py holds every dialect to it.
from services.affiliates.runs.checks import AFFILIATE_QUERIES
from services.tournaments.books import TOURNAMENT_QUERIES

PROVIDER_OK = ("RS_OK", "OK", "0")
_OK = "(" + ", ".join(f"'{status}'" for status in PROVIDER_OK) + ")"

CROSS_TABLE_QUERIES: dict[str, str] = {
    "provider ledger transaction is not named by exactly one provider transaction": """
        SELECT t.id::text, count(pt.id) || ' provider transactions name it'
        FROM ledger_transactions t LEFT JOIN provider_transactions pt ON pt.ledger_transaction_id = t.id
        WHERE t.reference_type = 'provider_transaction' AND {transaction:t.id}
        GROUP BY t.id HAVING count(pt.id) <> 1""",
    "provider transaction differs from its ledger transaction": f"""
        SELECT pt.id::text, pt.kind || ' ' || pt.status || ' of player ' || coalesce(pt.player_id::text, '-')
               || ', ledger ' || t.kind || ' ' || t.status || ' of player ' || coalesce(t.player_id::text, '-')
        FROM provider_transactions pt JOIN ledger_transactions t ON t.id = pt.ledger_transaction_id
        WHERE {{transaction:t.id}} AND (t.player_id IS DISTINCT FROM pt.player_id
           OR t.reference_type IS DISTINCT FROM 'provider_transaction'
           OR (pt.status IN {_OK}) <> (t.status = 'committed')
           OR t.kind <> ALL(CASE pt.kind WHEN 'bet' THEN ARRAY['game_bet'] WHEN 'win' THEN ARRAY['game_win']
                                         ELSE ARRAY['game_bet_rollback', 'game_win_rollback'] END)
           OR EXISTS (SELECT 1 FROM ledger_postings lp WHERE lp.transaction_id = t.id
                      AND lp.currency IS DISTINCT FROM pt.currency))""",  # noqa: S608  (constants, no input)
    "OK provider transaction moved money without a ledger transaction": f"""
        SELECT pt.id::text, pt.kind || ' of ' || pt.amount || ' ' || coalesce(pt.currency, '') || ' answered '
               || pt.status
        FROM provider_transactions pt JOIN game_providers gp ON gp.id = pt.provider_id
        WHERE pt.status IN {_OK} AND pt.amount > 0 AND pt.ledger_transaction_id IS NULL AND {{since:pt.created_at}}
          AND NOT EXISTS (SELECT 1 FROM bonus_wagers w
                          WHERE w.reference = gp.code || ':' || CASE pt.kind WHEN 'rollback'
                                THEN pt.reference_transaction_uuid ELSE pt.transaction_uuid END)""",  # noqa: S608
    "settled payment differs from its ledger transaction": """
        SELECT p.id::text, p.kind || ' ' || p.status || ' of ' || p.amount || ' ' || p.currency || ', ledger '
               || coalesce(t.kind || ' ' || t.status || ' moving ' || moved.total || ' '
                           || coalesce(moved.currencies, '-') || ' for player ' || coalesce(t.player_id::text, '-'),
                           'none')
        FROM payments p
        LEFT JOIN ledger_transactions t ON t.id = p.transaction_id
        LEFT JOIN LATERAL (
            SELECT coalesce(sum(lp.amount), 0) AS total, string_agg(DISTINCT lp.currency, ',') AS currencies
            FROM ledger_postings lp JOIN ledger_accounts a ON a.id = lp.account_id
            WHERE lp.transaction_id = t.id AND a.owner_type = 'player' AND a.owner_id = p.player_id::text
        ) moved ON true
        WHERE ((p.kind = 'deposit' AND p.status = 'succeeded')
               OR (p.kind = 'withdrawal' AND p.status IN ('paid', 'returned')))
          AND {since:p.updated_at}
          AND (t.id IS NULL OR t.status <> 'committed' OR t.player_id IS DISTINCT FROM p.player_id
               OR t.kind <> CASE p.kind WHEN 'deposit' THEN 'deposit' ELSE 'withdrawal_paid' END
               OR t.reference_type IS DISTINCT FROM 'payment' OR t.reference_id IS DISTINCT FROM p.id::text
               OR moved.total <> CASE p.kind WHEN 'deposit' THEN p.amount ELSE -p.amount END
               OR moved.currencies IS DISTINCT FROM p.currency)""",
    "player's bonus balance differs from their open bonuses'": """
        WITH belongs AS (
            SELECT lp.account_id, lp.amount,
                   coalesce(CASE WHEN t.reference_type = 'bonus' THEN t.reference_id END,
                            wager.bonus_id::text, undone.bonus_id::text) AS bonus_id
            FROM ledger_accounts a
            JOIN ledger_postings lp ON lp.account_id = a.id
            JOIN ledger_transactions t ON t.id = lp.transaction_id
            LEFT JOIN bonus_wagers wager ON wager.ledger_transaction_id = t.id
            LEFT JOIN provider_transactions pt ON pt.ledger_transaction_id = t.id AND pt.kind = 'rollback'
            LEFT JOIN game_providers gp ON gp.id = pt.provider_id
            LEFT JOIN bonus_wagers undone ON undone.reference = gp.code || ':' || pt.reference_transaction_uuid
            WHERE a.owner_type = 'player' AND a.purpose = 'bonus' AND {account:a.id})
        SELECT a.id::text, 'player ' || a.owner_id || ' ' || a.currency || ': balance ' || a.balance
               || ', open bonuses ' || coalesce(open.total, 0)
        FROM ledger_accounts a
        LEFT JOIN (SELECT belongs.account_id, sum(belongs.amount) AS total FROM belongs
                   JOIN player_bonuses b ON b.id::text = belongs.bonus_id AND b.status IN ('issued', 'active')
                   GROUP BY belongs.account_id) open ON open.account_id = a.id
        WHERE a.owner_type = 'player' AND a.purpose = 'bonus' AND {account:a.id}
          AND a.balance <> coalesce(open.total, 0)""",
    "crypto suspense differs from its held deposits": """
        SELECT a.id::text, 'suspense ' || s.total || ', held deposits ' || coalesce(h.total, 0)
        FROM ledger_accounts a
        CROSS JOIN LATERAL (SELECT coalesce(sum(lp.amount), 0) AS total FROM ledger_postings lp
                            WHERE lp.account_id = a.id) s
        LEFT JOIN LATERAL (SELECT sum(p.amount) AS total FROM crypto_transfers t JOIN payments p ON p.id = t.payment_id
                           WHERE t.brand_id = a.brand_id AND p.currency = a.currency
                             AND t.status IN ('held', 'refunding')) h ON true
        WHERE a.purpose = 'crypto_held' AND {account:a.id} AND s.total <> coalesce(h.total, 0)""",
    "player's debt account is above zero": """
        SELECT a.id::text, 'player ' || a.owner_id || ' ' || a.currency || ': debt balance ' || a.balance
        FROM ledger_accounts a WHERE a.purpose = 'debt' AND a.balance > 0 AND {account:a.id}""",
    "dispute differs from its ledger transactions": """
        SELECT d.id::text, step.kind || ' of ' || d.amount || ' ' || d.currency || ': ledger '
               || coalesce(t.kind || ' ' || t.status || ' moving cash ' || moved.cash || ', debt ' || moved.debt
                           || ' for player ' || coalesce(t.player_id::text, '-'), 'none')
        FROM disputes d
        CROSS JOIN LATERAL (VALUES ('chargeback', d.chargeback_transaction_id, -1),
                                   ('chargeback_reversal', d.reversal_transaction_id, 1)) AS step(kind, id, sign)
        LEFT JOIN ledger_transactions t ON t.id = step.id
        LEFT JOIN LATERAL (
            SELECT coalesce(sum(lp.amount) FILTER (WHERE a.purpose = 'cash'), 0) AS cash,
                   coalesce(sum(lp.amount) FILTER (WHERE a.purpose = 'debt'), 0) AS debt,
                   coalesce(sum(lp.amount) FILTER (WHERE a.purpose NOT IN ('cash', 'debt')), 0) AS other,
                   string_agg(DISTINCT lp.currency, ',') AS currencies
            FROM ledger_postings lp JOIN ledger_accounts a ON a.id = lp.account_id
            WHERE lp.transaction_id = t.id AND a.owner_type = 'player' AND a.owner_id = d.player_id::text
        ) moved ON true
        WHERE {since:d.updated_at}
          AND (step.id IS NOT NULL OR (step.kind = 'chargeback' AND d.reversal_transaction_id IS NOT NULL))
          AND (t.id IS NULL OR t.status <> 'committed' OR t.kind <> step.kind
               OR t.player_id IS DISTINCT FROM d.player_id
               OR t.reference_type IS DISTINCT FROM 'dispute' OR t.reference_id IS DISTINCT FROM d.id::text
               OR moved.cash + moved.debt <> step.sign * d.amount OR moved.other <> 0
               OR moved.currencies IS DISTINCT FROM d.currency
               OR (step.kind = 'chargeback' AND (moved.cash <> -d.cash_debited OR moved.debt <> -d.debt_booked)))""",
    "chargeback ledger transaction is named by no dispute": """
        SELECT t.id::text, t.kind || ' ' || t.status || ' for player ' || coalesce(t.player_id::text, '-')
        FROM ledger_transactions t
        WHERE t.kind IN ('chargeback', 'chargeback_reversal') AND t.status = 'committed' AND {transaction:t.id}
          AND NOT EXISTS (SELECT 1 FROM disputes d
                          WHERE t.id IN (d.chargeback_transaction_id, d.reversal_transaction_id))""",
    "returned payout differs from its ledger transaction": """
        SELECT p.id::text, p.kind || ' ' || p.status || ' of ' || p.amount || ' ' || p.currency || ', returned '
               || count(t.id) || ' times, moving ' || coalesce(sum(moved.total), 0)
        FROM payments p
        LEFT JOIN ledger_transactions t ON t.reference_type = 'payment' AND t.reference_id = p.id::text
             AND t.kind = 'payout_returned' AND t.status = 'committed'
        LEFT JOIN LATERAL (
            SELECT coalesce(sum(lp.amount), 0) AS total
            FROM ledger_postings lp JOIN ledger_accounts a ON a.id = lp.account_id
            WHERE lp.transaction_id = t.id AND a.owner_type = 'player' AND a.owner_id = p.player_id::text
              AND a.purpose = 'cash' AND lp.currency = p.currency
        ) moved ON true
        WHERE p.kind = 'withdrawal' AND {since:p.updated_at}
          AND (p.status = 'returned' OR t.id IS NOT NULL)
        GROUP BY p.id
        HAVING p.status <> 'returned' OR count(t.id) <> 1 OR coalesce(sum(moved.total), 0) <> p.amount""",
    **TOURNAMENT_QUERIES,
    **AFFILIATE_QUERIES,  # services/affiliates/runs: runs, payouts and partners' payables
    # services/jackpots: a pot is what its pool's ledger account holds; a win is one committed jackpot_win
    # transaction that took exactly the pot from that account.
    "jackpot pool differs from its ledger account": """
        SELECT p.id::text, 'pot ' || p.amount || ', postings ' || coalesce(sum(lp.amount), 0)
        FROM jackpot_pools p LEFT JOIN ledger_postings lp ON lp.account_id = p.account_id
        WHERE {account:p.account_id}
        GROUP BY p.id HAVING p.amount <> coalesce(sum(lp.amount), 0)""",
    "jackpot win differs from its ledger transaction": """
        SELECT w.id::text, 'won ' || w.amount || ', ledger ' || coalesce(t.kind, '-') || ' ' || coalesce(t.status, '-')
               || ' taking ' || coalesce(-sum(lp.amount), 0) || ' from the pool'
        FROM jackpot_wins w JOIN jackpot_pools p ON p.id = w.pool_id
        LEFT JOIN ledger_transactions t ON t.id = w.ledger_transaction_id
        LEFT JOIN ledger_postings lp ON lp.transaction_id = t.id AND lp.account_id = p.account_id
        WHERE {since:w.won_at}
        GROUP BY w.id, t.kind, t.status
        HAVING t.kind IS DISTINCT FROM 'jackpot_win' OR t.status IS DISTINCT FROM 'committed'
            OR coalesce(-sum(lp.amount), 0) <> w.amount""",
}
