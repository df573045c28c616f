-- wallet_max_bet_v1: a game's max bet (`games.max_bet`, a decimal string per currency) in minor units, as
-- core/money.parse_amount(text, currency, allow_zero=True) reads it; NULL when it does not read (too many
-- decimals, not digits, above MAX_MINOR_UNITS): the caller leaves such a limit to the Python path, which logs it
-- and lets the bet through.
CREATE OR REPLACE FUNCTION wallet_max_bet_v1(p_text text, p_exponent integer) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$  -- plpgsql: its plan is kept per session (sql: planned every call)
DECLARE
    m text[] := regexp_match(p_text, '^\s*(\d{1,20})(?:\.(\d{1,8}))?\s*$');
    v_minor numeric;
BEGIN
    IF m IS NULL OR length(coalesce(m[2], '')) > p_exponent THEN
        RETURN NULL;
    END IF;
    v_minor := m[1]::numeric * power(10::numeric, p_exponent)
               + coalesce(nullif(rpad(coalesce(m[2], ''), p_exponent, '0'), '')::numeric, 0);
    RETURN CASE WHEN v_minor <= 1000000000000000 THEN v_minor::bigint END;
END
$$;
