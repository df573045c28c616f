"""Postbacks (docs/affiliate-postbacks.md): server-to-server calls to a partner's URL when one of its players
registers, makes a first deposit or qualifies for CPA. In the order a postback travels:

- `templates`: URL templates and their macros (`{click_id}`, `{sub1}`…`{sub5}`, `{player_ref}`, `{event}`,
  `{amount}`, `{currency}`, `{event_id}`), the opaque `player_ref`, and the HMAC-SHA256 signature;
- `configs`: staff's commands (a partner's configs, its signing secret) and the reads of the delivery log;
- `consumer`: the `affiliate-postbacks` consumer, which enqueues one delivery per (config, event id) in the
  consumer framework's transaction (exactly once: the event id commits with the delivery);
- `network`: the worker's connections, to public addresses only (every address a host resolves to checked at
  send time, the checked one connected to);
- `worker`: the delivery worker, which sends what is due, records every attempt, and retries with
  exponential backoff until a 2xx or the last try (at least five).

Guarantees: at most one delivery per (config, event id) and per (config, player); a delivery answered 2xx is
never sent again; a request is only sent again after its previous try ended (a failure, a time-out, or a
worker that died holding it past its lease), so a partner deduplicates on `event_id` the rare repeat of a
request it answered too late. No personal data leaves: the partner sees its own click id and sub-ids, an
opaque `player_ref`, the event, and the amount of a first deposit or a CPA.
"""
