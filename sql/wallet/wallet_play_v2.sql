-- wallet_play_v2: a Hub88-style bet or win of a player with no bonus and no RG limit, decided in ONE call; a bet
-- the game's catalogue metadata refuses is refused in that same call.
--
-- The common case of services/provider_wallet (bet.py, win.py), in one database round trip: the provider row's
-- version, the context, the transaction's advisory key and the player's cash row (the one lock order of
-- services/wallet.py), the state under them, the ledger transaction (postings, balance, outbox event), the RG
-- day counter, the round, the provider transaction and the call log. Anything else - a repeated call, a
-- retried or rolled-back transaction, a refusal not listed below, a bonus, an RG limit, a player's first play -
-- returns 'fallback' BEFORE writing anything, and the caller decides it in Python, in a database transaction of
-- its own that reads everything again under its own locks. 'stale': the caller's cached provider row changed.
--
-- New in v2 (docs/catalogue-sync.md, "Bets"): a bet the game's own rules refuse, in bet.py's order and with its
-- answers, is 'refused' here, with the neutral status in `refusal` and the player's cash balance, and only the
-- call log written (the Python path records no provider transaction for these refusals either):
--   INVALID_GAME   the game unknown, switched off or withdrawn by a catalogue sync (`enabled`), switched off for
--                  the brand or the player's country (launch's rule, services/games._refuse_for);
--   NOT_CERTIFIED  the game declares where it is certified (`jurisdictions`, from the provider's list) and the
--                  player's country is not there (no country: not there); no declaration: not restricted;
--   LIMIT_REACHED  a stake above the game's max bet or, when it stakes anything, below its min bet for the
--                  currency; a currency the limits do not name has no per-bet limit.
-- A limit that does not read (wallet_max_bet_v1 reads min and max alike) goes to 'fallback': the Python path logs
-- it and lets the bet through. Wins are never refused by these rules (money owed to the player is paid), nor are
-- rollbacks, which never come here. The game row is the one the context statement already reads (its unique key,
-- provider and game code: a lobby may switch games within one session, so not the session's game).
-- The refusal's answer is the OK answer (`p_body`) with its "status" set to the dialect's code for the refusal
-- (`p_refusals`, neutral status -> code; a refusal it does not name goes to 'fallback') and its "balance" set.
--
-- Installed by a migration that reads this file (migrations/versions/0066_wallet_play_v2.py, pinned by its SHA-256);
-- wallet_play_v1 stays installed for servers of the previous release until a later migration drops it. A new
-- version is a new file and a new migration, so a deployed version never changes under a server.
CREATE OR REPLACE FUNCTION wallet_play_v2(
    p_kind text,                -- 'bet' or 'win'
    p_provider uuid,
    p_provider_code text,
    p_provider_version text,    -- the cached provider row's xmin (NULL: not checked)
    p_endpoint text,
    p_request text,             -- request_uuid (NULL: no call log)
    p_tx text,                  -- transaction_uuid
    p_ref text,                 -- reference_transaction_uuid (a win's bet)
    p_round text,
    p_round_closed boolean,
    p_player text,
    p_token text,
    p_game text,
    p_currency text,
    p_exponent integer,         -- the currency's decimal places (core/money.CURRENCIES)
    p_amount bigint,
    p_request_hash text,        -- services/provider_wallet/types.request_hash
    p_ok_code text,             -- the dialect's OK status code (a win's bet must have it)
    p_body jsonb,               -- the dialect's OK answer; its "balance" is set here
    p_refusals jsonb,           -- the dialect's status code of each refusal decided here: {"LIMIT_REACHED": "..."}
    p_units_mul bigint,         -- the dialect's balance = minor units * mul / div
    p_units_div bigint,
    p_raw text,
    p_event_version smallint,   -- the catalogue's schema version of ledger.game_bet / ledger.game_win
    p_zones jsonb,              -- RG profile code -> its timezone (services/rg/jurisdictions.toml)
    p_open_profiles text[],     -- the profiles with no required limit
    p_ids uuid[],               -- time-ordered ids (core/ids.new_id): ledger transaction, round, transaction, call
    p_now timestamptz
) RETURNS TABLE (outcome text, balance bigint, refusal text)  -- refusal: the neutral status when 'refused'
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    v_cash bigint;
    v_after bigint;
    v_house uuid;
    v_ledger uuid;
    v_round uuid;
    v_profile text;
    v_kind text := CASE p_kind WHEN 'bet' THEN 'game_bet' ELSE 'game_win' END;
    v_delta bigint := CASE p_kind WHEN 'bet' THEN -p_amount ELSE p_amount END;
    v_reference text := p_provider_code || ':' || p_tx;
    v_body jsonb;
    v_shown bigint;
    v_refusal text;
    v_min bigint;
    v_max bigint;
BEGIN
    -- The context (services/provider_wallet/statements.CONTEXT, the columns this path needs).
    SELECT gp.xmin::text AS provider_version, p.id AS player_id, p.status AS player_status, p.brand_id,
           p.jurisdiction, s.player_id AS session_player, s.currency AS session_currency, s.expires_at,
           s.ended_at, s.mode, s.id AS session_id, s.auth_session_id, g.id AS game_id, g.min_bet, g.max_bet,
           g.jurisdictions, p.country,
           (g.enabled AND coalesce(bg.enabled, true)
            AND NOT coalesce(p.country = ANY(bg.disabled_countries), false)
            AND (cardinality(g.countries) = 0 OR coalesce(p.country = ANY(g.countries), false))) AS game_enabled,
           a.id AS cash_id, a.allow_negative, ba.id AS bonus_account
      INTO c
      FROM (SELECT 1) AS one
      LEFT JOIN game_providers gp ON gp.id = p_provider
      LEFT JOIN players p ON p.id = p_player::uuid
      LEFT JOIN game_sessions s ON s.token = p_token
      LEFT JOIN games g ON g.provider_id = p_provider AND g.code = p_game
      LEFT JOIN brand_games bg ON bg.brand_id = p.brand_id AND bg.game_id = g.id
      LEFT JOIN ledger_accounts a ON a.owner_type = 'player' AND a.owner_id = p.id::text AND a.brand_id = p.brand_id
           AND a.purpose = 'cash' AND a.currency = p_currency
      LEFT JOIN ledger_accounts ba ON ba.owner_type = 'player' AND ba.owner_id = a.owner_id
           AND ba.brand_id = a.brand_id AND ba.purpose = 'bonus' AND ba.currency = a.currency;
    IF p_provider_version IS NOT NULL AND c.provider_version IS DISTINCT FROM p_provider_version THEN
        RETURN QUERY SELECT 'stale'::text, NULL::bigint, NULL::text;
        RETURN;
    END IF;
    IF c.cash_id IS NULL OR c.brand_id IS NULL THEN  -- unknown player, or first play in this currency
        RETURN QUERY SELECT 'fallback'::text, NULL::bigint, NULL::text;
        RETURN;
    END IF;

    -- The locks, in the one order: the transaction's key, then the player's cash row.
    PERFORM pg_advisory_xact_lock(hashtextextended(p_provider::text || ':' || p_tx, 0));
    SELECT la.balance INTO v_cash
      FROM ledger_accounts la
     WHERE la.id = c.cash_id AND la.owner_type = 'player' AND la.owner_id = c.player_id::text AND la.purpose = 'cash'
       FOR UPDATE;

    -- The state under them: anything but a new transaction of a plain player is decided in Python.
    IF (p_request IS NOT NULL AND EXISTS (SELECT 1 FROM provider_calls pc WHERE pc.provider_id = p_provider
            AND pc.endpoint = p_endpoint AND pc.request_uuid = p_request))
       OR EXISTS (SELECT 1 FROM provider_transactions o WHERE o.provider_id = p_provider AND o.transaction_uuid = p_tx)
       OR EXISTS (SELECT 1 FROM provider_transactions m WHERE m.provider_id = p_provider AND m.kind = 'rollback'
            AND m.reference_transaction_uuid = p_tx)
       -- a bonus in play: the stake splits, the win may convert, and the balance answered includes bonus money
       OR EXISTS (SELECT 1 FROM player_bonuses pb WHERE pb.player_id = c.player_id AND pb.currency = p_currency
            AND pb.status = 'active')
    THEN
        RETURN QUERY SELECT 'fallback'::text, NULL::bigint, NULL::text;
        RETURN;
    END IF;
    v_profile := CASE WHEN p_zones ? coalesce(c.jurisdiction, 'DEFAULT') THEN coalesce(c.jurisdiction, 'DEFAULT')
                      ELSE 'DEFAULT' END;

    IF p_kind = 'bet' THEN
        -- What bet.py refuses before it looks at the game (the token, the player, the session, the currency).
        IF c.session_player IS NULL OR c.session_player <> c.player_id OR c.mode <> 'real'
           OR c.player_status <> 'active'
           OR EXISTS (SELECT 1 FROM rg_exclusions x WHERE x.player_id = c.player_id AND x.starts_at <= p_now
                AND (x.ends_at IS NULL OR x.ends_at > p_now))
           OR c.ended_at IS NOT NULL OR c.expires_at IS NULL OR c.expires_at <= p_now
           OR p_currency IS DISTINCT FROM c.session_currency
        THEN
            RETURN QUERY SELECT 'fallback'::text, NULL::bigint, NULL::text;
            RETURN;
        END IF;
        -- The game's own rules (bet.py _unplayable, in its order): refused here, in this call.
        IF c.game_id IS NULL OR NOT c.game_enabled THEN
            v_refusal := 'INVALID_GAME';
        ELSIF cardinality(c.jurisdictions) > 0 AND NOT coalesce(c.country = ANY(c.jurisdictions), false) THEN
            v_refusal := 'NOT_CERTIFIED';
        ELSE
            IF c.min_bet ? p_currency THEN
                v_min := CASE WHEN jsonb_typeof(c.min_bet -> p_currency) = 'string'
                              THEN wallet_max_bet_v1(c.min_bet ->> p_currency, p_exponent) END;
            END IF;
            IF c.max_bet ? p_currency THEN
                v_max := CASE WHEN jsonb_typeof(c.max_bet -> p_currency) = 'string'
                              THEN wallet_max_bet_v1(c.max_bet ->> p_currency, p_exponent) END;
            END IF;
            IF (c.min_bet ? p_currency AND v_min IS NULL) OR (c.max_bet ? p_currency AND v_max IS NULL) THEN
                RETURN QUERY SELECT 'fallback'::text, NULL::bigint, NULL::text;  -- a limit that does not read
                RETURN;
            END IF;
            IF (p_amount > 0 AND p_amount < v_min) OR p_amount > v_max THEN
                v_refusal := 'LIMIT_REACHED';
            END IF;
        END IF;
        IF v_refusal IS NOT NULL THEN
            IF NOT coalesce(p_refusals ? v_refusal, false) THEN
                RETURN QUERY SELECT 'fallback'::text, NULL::bigint, NULL::text;
                RETURN;
            END IF;
            -- Refused as bet.py refuses it: the cash balance under the lock, the call logged, nothing else.
            v_shown := CASE WHEN p_units_div = 1 THEN v_cash * p_units_mul ELSE v_cash / p_units_div END;
            v_body := jsonb_set(jsonb_set(p_body, '{status}', p_refusals -> v_refusal), '{balance}', to_jsonb(v_shown));
            PERFORM wallet_log_call_v1(p_ids[4], p_provider, p_endpoint, p_request, p_tx, p_raw, v_body, p_now);
            RETURN QUERY SELECT 'refused'::text, v_cash, v_refusal;
            RETURN;
        END IF;
        -- Then the RG gate and the money, decided in Python.
        IF NOT (v_profile = ANY(p_open_profiles))
           OR EXISTS (SELECT 1 FROM rg_limits l WHERE l.player_id = c.player_id AND l.amount IS NOT NULL)
           OR EXISTS (SELECT 1 FROM rg_reality_checks rc WHERE rc.session_id = c.auth_session_id
                AND rc.next_due_at <= p_now)
           OR (v_cash - p_amount < 0 AND NOT c.allow_negative)
        THEN
            RETURN QUERY SELECT 'fallback'::text, NULL::bigint, NULL::text;
            RETURN;
        END IF;
    ELSE
        IF p_ref IS NULL
           OR NOT EXISTS (SELECT 1 FROM provider_transactions r WHERE r.provider_id = p_provider
                AND r.transaction_uuid = p_ref AND r.status = p_ok_code AND r.kind = 'bet'
                AND r.player_id = c.player_id AND NOT r.rolled_back AND r.currency = p_currency)
           OR EXISTS (SELECT 1 FROM bonus_wagers w WHERE w.reference = p_provider_code || ':' || p_ref)
        THEN
            RETURN QUERY SELECT 'fallback'::text, NULL::bigint, NULL::text;
            RETURN;
        END IF;
    END IF;

    v_after := v_cash;
    IF p_amount > 0 THEN
        -- The ledger: the key's first use (a used one rolls this call back: the Python path answers).
        SELECT la.id INTO v_house FROM ledger_accounts la
         WHERE la.brand_id = c.brand_id AND la.owner_type = 'brand' AND la.owner_id = c.brand_id::text
           AND la.purpose = 'house_revenue' AND la.currency = p_currency;
        IF v_house IS NULL THEN
            RETURN QUERY SELECT 'fallback'::text, NULL::bigint, NULL::text;
            RETURN;
        END IF;
        v_after := v_cash + v_delta;
        v_ledger := p_ids[1];
        INSERT INTO ledger_transactions (id, idempotency_key, request_hash, kind, status, refusal_code, brand_id,
                                         player_id, reference_type, reference_id, actor_type, actor_id, details,
                                         created_at)
        VALUES (v_ledger, 'provider:' || p_provider_code || ':' || p_tx,
                ledger_fingerprint_v1(v_kind, c.brand_id, c.player_id, 'provider_transaction', v_reference,
                                      ARRAY[c.cash_id, v_house], ARRAY[v_delta, -v_delta]),
                v_kind, 'committed', NULL, c.brand_id, c.player_id, 'provider_transaction', v_reference, 'provider',
                p_provider,
                jsonb_build_object('provider', p_provider_code, 'round', p_round, 'game', p_game, 'reference', p_ref),
                p_now)
        ON CONFLICT (idempotency_key) DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'wallet_play: ledger key used' USING ERRCODE = 'CW002';
        END IF;
        INSERT INTO ledger_postings (transaction_id, account_id, currency, amount, balance_after, created_at)
        VALUES (v_ledger, c.cash_id, p_currency, v_delta, v_after, p_now),
               (v_ledger, v_house, p_currency, -v_delta, NULL, p_now);
        UPDATE ledger_accounts SET balance = v_after WHERE id = c.cash_id;
        INSERT INTO outbox_events (topic, key, brand_id, schema_version, payload, created_at)
        VALUES ('ledger.' || v_kind, 'player:' || c.player_id, c.brand_id, p_event_version,
                jsonb_build_object('transaction_id', v_ledger, 'kind', v_kind, 'player_id', c.player_id,
                    'currency', p_currency, 'cash', v_delta, 'bonus', 0, 'pending', 0,
                    'balances', jsonb_build_object('cash', v_after), 'reference_type', 'provider_transaction',
                    'reference_id', v_reference, 'game', p_game, 'provider', p_provider_code, 'round', p_round,
                    'provider_reference', p_ref),
                p_now);
        -- The RG day counter (services/rg/activity.count), on the player's local day.
        INSERT INTO rg_activity_days (player_id, currency, day, deposited, wagered, won)
        VALUES (c.player_id, p_currency, (p_now AT TIME ZONE (p_zones ->> v_profile))::date, 0,
                CASE p_kind WHEN 'bet' THEN p_amount ELSE 0 END, CASE p_kind WHEN 'win' THEN p_amount ELSE 0 END)
        ON CONFLICT (player_id, currency, day) DO UPDATE SET
            wagered = rg_activity_days.wagered + EXCLUDED.wagered,
            won = rg_activity_days.won + EXCLUDED.won;
    END IF;

    v_round := wallet_open_round_v1(p_ids[2], p_provider, p_round, c.player_id, c.game_id,
                                    CASE WHEN c.session_player = c.player_id THEN c.session_id END, p_currency,
                                    p_round_closed, CASE p_kind WHEN 'bet' THEN p_amount ELSE 0 END,
                                    CASE p_kind WHEN 'win' THEN p_amount ELSE 0 END, p_now);

    v_shown := CASE WHEN p_units_div = 1 THEN v_after * p_units_mul ELSE v_after / p_units_div END;
    v_body := jsonb_set(p_body, '{balance}', to_jsonb(v_shown));
    IF wallet_record_v1(p_ids[3], p_provider, p_tx, p_kind, p_ref, p_request_hash, p_ok_code, c.player_id, v_round,
                        p_game, p_currency, p_amount, v_ledger, v_after, p_raw, v_body, p_now) IS NULL THEN
        -- another player's transaction with this uuid committed first
        RAISE EXCEPTION 'wallet_play: duplicate transaction' USING ERRCODE = 'CW001';
    END IF;
    PERFORM wallet_log_call_v1(p_ids[4], p_provider, p_endpoint, p_request, p_tx, p_raw, v_body, p_now);
    RETURN QUERY SELECT 'done'::text, v_after, NULL::text;
END
$$;
