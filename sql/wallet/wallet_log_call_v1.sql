-- wallet_log_call_v1: the call log. A repeated request uuid (per provider and endpoint) keeps its first answer;
-- no request uuid, no log.
-- Stated once for both of the provider wallet's paths: the one call (wallet_play_v1) and the Python path's
-- statements (services/provider_wallet/statements.py).
CREATE OR REPLACE FUNCTION wallet_log_call_v1(
    p_id uuid, p_provider uuid, p_endpoint text, p_request text, p_tx text, p_raw text, p_response jsonb,
    p_now timestamptz
) RETURNS void
LANGUAGE plpgsql AS $$  -- plpgsql, not sql: its plan is kept per session (an sql function is planned on every call)
BEGIN
    IF p_request IS NULL OR p_request = '' THEN
        RETURN;
    END IF;
INSERT INTO provider_calls (id, provider_id, endpoint, request_uuid, transaction_uuid, raw_request, response,
                            http_status, created_at)
VALUES (p_id, p_provider, p_endpoint, p_request, p_tx, p_raw, p_response, 200, p_now)
ON CONFLICT (provider_id, endpoint, request_uuid) DO NOTHING;
END
$$;
