"""The demo PSP: a small stand-alone payment service provider the platform talks to over real HTTP.

One process hosts several PSP "brands" (`cardpay`, `swiftpay`, `bankwire`), each with its own
request shape, and a card vault whose hosted form turns card numbers into tokens: card data stays
here, the platform only ever sees a token. Its behaviour is set per PSP through `/control`:
succeed, decline, time out, fail with 5xx, settle later, and send webhooks late, twice, out of order
or not at all. Run it with `python -m integrations.demo.psp --port 8100`.
"""

from integrations.demo.psp.app import DEMO_SECRETS, create_demo_psp

__all__ = ["DEMO_SECRETS", "create_demo_psp"]
