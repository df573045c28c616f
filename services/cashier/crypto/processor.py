"""The crypto processor the cashier talks to, through the PSP registry (its base URL and secret)."""

from __future__ import annotations

from core.settings import Settings
from services.cashier.payments import PaymentUnavailable
from services.cashier.psp.cryptopay import CryptoPay
from services.cashier.routing import adapter_for

PROCESSOR = CryptoPay.name


def processor(settings: Settings) -> CryptoPay:
    adapter = adapter_for(settings, PROCESSOR)
    if not isinstance(adapter, CryptoPay):  # the registry names another class: a configuration error
        raise PaymentUnavailable("The crypto processor is not configured.")
    return adapter
