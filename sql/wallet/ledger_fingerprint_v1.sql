-- ledger_fingerprint_v1: services/ledger.fingerprint, byte for byte - what makes two ledger requests "the same
-- request" for the idempotency check: sha256 of Python's json.dumps(identity, sort_keys=True) of the kind, the
-- legs summed per account (sorted by the account id's text), the brand, the player and the reference.
-- Exact for ASCII text (json.dumps escapes other characters as \uXXXX, to_json does not): callers keep
-- other references on the Python path. DEL (0x7f) is ASCII that to_json leaves as is and json.dumps writes as
-- \u007f: the reference is escaped here as Python does.
CREATE OR REPLACE FUNCTION ledger_fingerprint_v1(
    p_kind text, p_brand uuid, p_player uuid, p_reference_type text, p_reference_id text,
    p_accounts uuid[], p_amounts bigint[]
) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$  -- plpgsql: its plan is kept per session (sql: planned every call)
BEGIN
RETURN encode(sha256(convert_to(
    '{"brand": ' || coalesce(to_json(p_brand::text)::text, 'null')
    || ', "kind": ' || to_json(p_kind)::text
    || ', "legs": [' || coalesce((
        SELECT string_agg('[' || to_json(leg.account::text)::text || ', ' || leg.amount::text || ']', ', '
                          ORDER BY leg.account::text COLLATE "C")
          FROM (SELECT l.account, sum(l.amount) AS amount
                  FROM unnest(p_accounts, p_amounts) AS l(account, amount) GROUP BY l.account) AS leg), '')
    || '], "player": ' || coalesce(to_json(p_player::text)::text, 'null')
    || ', "reference": [' || coalesce(replace(to_json(p_reference_type)::text, chr(127), '\u007f'), 'null')
    || ', ' || coalesce(replace(to_json(p_reference_id)::text, chr(127), '\u007f'), 'null') || ']}',
    'UTF8')), 'hex');
END
$$;
