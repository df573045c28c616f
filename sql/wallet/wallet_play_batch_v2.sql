-- wallet_play_batch_v2: several one calls (wallet_play_v2) decided in ONE database transaction - group commit.
-- v2: wallet_play_v2's calls (its refusals of what the game's catalogue metadata forbids), one row each with its
-- `refusal`; otherwise wallet_play_batch_v1 as it was.
--
-- The provider wallet's batcher (services/provider_wallet/group_commit.py) gathers the calls a server process
-- receives while its previous batch is in flight and sends them here as one statement: one commit, one WAL
-- flush and one deferred-trigger queue for all of them instead of one each. Each call is decided by
-- wallet_play_v2 itself, in the order given, with its own result row (answer, 'refused', 'fallback' or 'stale');
-- the rules live there, once. A 'fallback' writes nothing (wallet_play_v2's promise) and a 'refused' only its own
-- call log, so neither touches its neighbours.
--
-- Calls of one batch see each other as calls made one after another do: a second call of the same player reads
-- the balance the first left; a second call with the same transaction uuid or request uuid finds the first's
-- rows and goes to 'fallback', whose Python path, run after this transaction commits, answers it as a replay.
--
-- An error raised by one call (wallet_play_v2's CW001/CW002, an overflow, a deadlock) rolls the whole batch back,
-- nothing written; the batcher then sends each of its calls alone, in order, to wallet_play_v2, so every caller
-- gets what the one call gives it and the failing call alone its error. Errors are rare (another player's
-- transaction with the same uuid, a used ledger key), so that costs less than a subtransaction (BEGIN ...
-- EXCEPTION) around every call (bench/README.md § 1, fourth session).
--
-- Locks: no deadlock across batches, nor with the Python path. Before any call is decided, the batch takes
--   1. every call's transaction key (pg_advisory_xact_lock of "provider:transaction_uuid"), in the keys' order;
--   2. every call's cash row (FOR UPDATE), in the rows' id order;
-- then wallet_play_v2 takes each again, at no cost (held). Every other writer of the wallet takes at most one
-- transaction key and then one player's cash row (services/wallet.py's one order; the key first), so every
-- transaction takes keys before cash rows, keys in ascending order and cash rows in ascending order: two batches,
-- or a batch and a Python command, never wait on each other crosswise for these. What a call writes after them
-- is keyed by what it holds: the ledger key and the provider transaction by the transaction key; the round and
-- the RG day row by the player's cash row (every writer of a player's money holds it). The foreign keys' KEY
-- SHARE locks on parents conflict with no lock any wallet writer takes on them (a player's row is locked FOR NO
-- KEY UPDATE, never FOR UPDATE: services/wallet.py). The one unheld key is the call log's request uuid: two
-- batches each holding a call with a request uuid of the other's can wait crosswise on the unique index;
-- PostgreSQL detects it, one batch rolls back and its calls go alone, as above.
--
-- Its argument: an array of wallet_call_v2 (wallet_call_v2.sql). Installed by a migration that reads these files
-- (migrations/versions/0066_wallet_play_v2.py, pinned by their SHA-256); a new version is a new file and a
-- new migration.
CREATE OR REPLACE FUNCTION wallet_play_batch_v2(
    p_calls wallet_call_v2[],
    p_zones jsonb,              -- as wallet_play_v2's, the same for every call
    p_open_profiles text[]
) RETURNS TABLE (ordinal integer, outcome text, balance bigint, refusal text)  -- one row per call; ordinal: from 1
LANGUAGE plpgsql AS $$
DECLARE
    c wallet_call_v2;
    v_key bigint;
    v_at integer := 0;
BEGIN
    FOR v_key IN SELECT DISTINCT hashtextextended(x.provider::text || ':' || x.tx, 0) AS k
                   FROM unnest(p_calls) AS x ORDER BY k LOOP
        PERFORM pg_advisory_xact_lock(v_key);
    END LOOP;
    -- ORDER BY before the locking clause: the rows are locked as they come out of the sort
    PERFORM 1 FROM ledger_accounts la
     WHERE la.id IN (SELECT a.id FROM unnest(p_calls) AS x
                       JOIN players p ON p.id = x.player::uuid
                       JOIN ledger_accounts a ON a.owner_type = 'player' AND a.owner_id = p.id::text
                            AND a.brand_id = p.brand_id AND a.purpose = 'cash' AND a.currency = x.currency)
     ORDER BY la.id
       FOR UPDATE;
    FOREACH c IN ARRAY p_calls LOOP
        v_at := v_at + 1;
        RETURN QUERY SELECT v_at, w.outcome, w.balance, w.refusal FROM wallet_play_v2(
            c.kind, c.provider, c.provider_code, c.provider_version, c.endpoint, c.request, c.tx, c.ref, c.round,
            c.round_closed, c.player, c.token, c.game, c.currency, c.exponent, c.amount, c.request_hash, c.ok_code,
            c.body, c.refusals, c.units_mul, c.units_div, c.raw, c.event_version, p_zones, p_open_profiles, c.ids,
            c.now) AS w;
    END LOOP;
END
$$;
