-- wallet_call_v2: one call of wallet_play_v2 as a value, so that wallet_play_batch_v2 takes many in one array.
-- Its fields are wallet_play_v2's arguments in their order, but the RG zones and open profiles (the same for every
-- call of a batch); v2 adds `refusals` (the dialect's code of each refusal the function decides). Installed by
-- migrations/versions/0066_wallet_play_v2.py, pinned by its SHA-256.
CREATE TYPE wallet_call_v2 AS (
    kind text,
    provider uuid,
    provider_code text,
    provider_version text,
    endpoint text,
    request text,
    tx text,
    ref text,
    round text,
    round_closed boolean,
    player text,
    token text,
    game text,
    currency text,
    exponent integer,
    amount bigint,
    request_hash text,
    ok_code text,
    body jsonb,
    refusals jsonb,
    units_mul bigint,
    units_div bigint,
    raw text,
    event_version smallint,
    ids uuid[],
    now timestamptz
);
