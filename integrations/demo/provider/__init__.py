"""The demo game provider: a small stand-alone app of ours that plays the aggregator's side of the
Hub88 wallet contract against the platform, over real HTTP, with RSA-signed calls.

Two provably fair games (`fair.py`): `demo-slot` (RTP 96.33 %) and `demo-dice` (RTP 99 %). The game
client is `GET /play?token=…&game=…&mode=real|demo&currency=…&user=…`; rounds are `POST /api/spin`.
Run it with `python -m integrations.demo.provider --port N --platform-url URL --private-key PATH`;
`croupier demo` starts it and stores its public key on the `demo` provider row (`platform.py`).
"""

from integrations.demo.provider.keys import ensure_demo_provider_keys

__all__ = ["ensure_demo_provider_keys"]
