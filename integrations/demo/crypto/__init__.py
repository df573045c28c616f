"""A demo crypto processor (`cryptopay`, CoinsPaid/NOWPayments-shaped) with a simulated chain, served inside the
demo PSP's process (integrations/demo/psp/app.py mounts it), so crypto works offline in the demo and tests."""

from integrations.demo.crypto.app import DEMO_SECRET, crypto_router

__all__ = ["DEMO_SECRET", "crypto_router"]
