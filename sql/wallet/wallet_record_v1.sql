-- wallet_record_v1: the provider transaction with its answer, processed once forever; NULL when its uuid was
-- taken first (by another player's transaction).
-- Stated once for both of the provider wallet's paths: the one call (wallet_play_v1) and the Python path's
-- statements (services/provider_wallet/statements.py).
CREATE OR REPLACE FUNCTION wallet_record_v1(
    p_id uuid, p_provider uuid, p_tx text, p_kind text, p_ref text, p_request_hash text, p_status text,
    p_player uuid, p_round uuid, p_game text, p_currency text, p_amount bigint, p_ledger uuid, p_balance bigint,
    p_raw text, p_response jsonb, p_now timestamptz
) RETURNS uuid
LANGUAGE plpgsql AS $$  -- plpgsql, not sql: its plan is kept per session (an sql function is planned on every call)
DECLARE
    v_id uuid;
BEGIN
INSERT INTO provider_transactions (id, provider_id, transaction_uuid, kind, reference_transaction_uuid,
    request_hash, status, player_id, round_id, game_code, currency, amount, ledger_transaction_id,
    rolled_back, balance_after, raw_request, response, created_at)
VALUES (p_id, p_provider, p_tx, p_kind, p_ref, p_request_hash, p_status, p_player, p_round, p_game, p_currency,
        p_amount, p_ledger, false, p_balance, p_raw, p_response, p_now)
ON CONFLICT (provider_id, transaction_uuid) DO NOTHING
RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
