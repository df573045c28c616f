"""Free rounds granted through a game provider's own API (docs/free-rounds.md).

A free-spins bonus (services/bonuses) whose games belong to a provider with a free-rounds API
(`game_providers.free_rounds_url`) is granted there: the bonus engine records the grant in the bonus's own
transaction (grants.request, status `pending`), and a sender delivers it after the commit — at once when staff
grant through GraphQL, else the bonus worker within its interval (grants.deliver_due). The provider's answer
carries its `reward_uuid`, which then names the bonus, so the provider's `is_free` bets and wins of those rounds
land on it (services/provider_wallet). A refusal, or no answer after every attempt, cancels the bonus; staff may
cancel a grant (at the provider first, then the bonus).

Modules: client.py (the provider's API: Hub88 `freebet/rewards/create|cancel`), grants.py (the commands),
queries.py (what staff read).
"""
