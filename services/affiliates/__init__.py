"""Affiliates (docs/affiliates.md): partners who bring players, paid by commission. One module per job:

- `partners`: a partner (company, contacts, payout details, brands, parent), its status, and the lookups every
  other part uses (`get`, `by_code`, `brand_ids`, `readable_partners`);
- `portal_users`: the people who sign in to the partner portal for a partner (created with a password, disabled);
- `links`: tracking links (`/a/{code}`: a random URL-safe code, a tag, a landing path), archived, never deleted;
- `tracking`: the data of tracking (tracking.toml: the attribution window per brand, the click rate limit);
- `clicks`: a click on a link recorded (time, IP, user agent, sub-ids) and where to redirect it;
- `attribution`: a new player attributed, in their registration's transaction, to the partner of their last
  click within the window (one row per player, event `affiliate.attributed`), and the attribution's reads;
- `plans`: commission terms as data (CPA, RevShare flat / tiered / ladder, Hybrid, second tier), validated;
- `plan_store`, `deals`: plans made (never edited); a partner and a brand on a plan from a date on (never
  retroactive), `deal_in_force`;
- `cpa`: the `affiliate-cpa` consumer that qualifies attributed players for their CPA, exactly once.

The other parts build on these: commission runs (`runs/`), postbacks (`postbacks/`), the partner's own API (`portal_*`:
sign-in, tokens, reads) and antifraud on sub-ids (`fraud_rules`: the checks; `fraud`: flags and withheld CPAs;
`fraud_review`: staff's review).
"""
