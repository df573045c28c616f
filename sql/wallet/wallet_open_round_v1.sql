-- wallet_open_round_v1: the player's round (provider, round ref, player), opened or added to; NULL when the
-- protocol names none.
-- Totals add up (a rollback's undo subtracts: statements.ROUND_UNDO); 'closed' is for good.
-- Stated once for both of the provider wallet's paths: the one call (wallet_play_v1) and the Python path's
-- statements (services/provider_wallet/statements.py).
CREATE OR REPLACE FUNCTION wallet_open_round_v1(
    p_id uuid, p_provider uuid, p_round text, p_player uuid, p_game uuid, p_session uuid, p_currency text,
    p_closed boolean, p_bet bigint, p_win bigint, p_now timestamptz
) RETURNS uuid
LANGUAGE plpgsql AS $$  -- plpgsql, not sql: its plan is kept per session (an sql function is planned on every call)
DECLARE
    v_id uuid;
BEGIN
    IF p_round IS NULL OR p_round = '' THEN
        RETURN NULL;
    END IF;
    INSERT INTO game_rounds AS gr (id, provider_id, round_ref, player_id, game_id, session_id, currency, status,
                               total_bet, total_win, opened_at, closed_at)
VALUES (p_id, p_provider, p_round, p_player, p_game, p_session, p_currency,
        CASE WHEN p_closed THEN 'closed' ELSE 'open' END, p_bet, p_win, p_now, CASE WHEN p_closed THEN p_now END)
ON CONFLICT (provider_id, round_ref, player_id) DO UPDATE SET
    total_bet = gr.total_bet + EXCLUDED.total_bet,
    total_win = gr.total_win + EXCLUDED.total_win,
    status = CASE WHEN EXCLUDED.status = 'closed' THEN 'closed' ELSE gr.status END,
    closed_at = coalesce(gr.closed_at, EXCLUDED.closed_at)
RETURNING gr.id INTO v_id;
    RETURN v_id;
END
$$;
