"""Inbound routes facing game providers and PSPs (signed REST, never GraphQL), and the demo world.

Each provider protocol is one module of routes over one wallet service (`hub88.py`, `softswiss.py`);
`webhooks.py` receives PSP notifications. Outbound PSP adapters live with the cashier
(`services/cashier/psp/`): nothing in `services/` imports this package. `demo/` holds the demo PSP,
the demo game provider and the demo seed.
"""
