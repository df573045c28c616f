"""Stated exchange rates: money in one currency measured in another (responsible-gambling limits).

A rate is the value of one unit of a currency in a common base (any currency, as long as every rate
uses the same one). Rates come from `FX_RATES` until the reports' FX table replaces them; a currency
without a rate cannot be measured, and whoever asks must refuse rather than guess. Conversions round
in the player's favour of protection: amounts that count towards a limit round up, amounts that
offset one (wins against a loss limit) round down.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from core.money import CURRENCIES

# Demo rates (value in EUR), stated on 2026-12-01: development and tests use them when FX_RATES is
# unset; production has none unless configured, so a limit in another currency refuses. Crypto at the demo
# processor's rates (integrations/demo/crypto), so KYC thresholds and RG limits measure crypto deposits.
DEMO_RATES = {
    "EUR": "1",
    "USD": "0.92",
    "GBP": "1.17",
    "SEK": "0.087",
    "CAD": "0.66",
    "JPY": "0.0062",
    "BTC": "60000",
    "ETH": "3000",
    "USDT": "0.92",
}


class InvalidRates(ValueError):
    pass


@dataclass(frozen=True)
class Rates:
    per_unit: Mapping[str, Fraction] = field(default_factory=dict)  # currency → value of one unit in the base

    @classmethod
    def parse(cls, stated: Mapping[str, str]) -> Rates:
        per_unit: dict[str, Fraction] = {}
        for code, value in stated.items():
            currency = code.strip().upper()
            if currency not in CURRENCIES:
                raise InvalidRates(f"FX_RATES: unknown currency {code!r}")
            try:
                rate = Fraction(Decimal(value))
            except (InvalidOperation, ValueError) as exc:
                raise InvalidRates(f"FX_RATES: {code} has no decimal rate ({value!r})") from exc
            if rate <= 0:
                raise InvalidRates(f"FX_RATES: {code}'s rate must be positive")
            per_unit[currency] = rate
        return cls(per_unit)

    def can_measure(self, source: str, target: str) -> bool:
        return source == target or (source in self.per_unit and target in self.per_unit)

    def convert(self, minor: int, source: str, target: str, *, round_up: bool) -> int | None:
        """`minor` units of `source` in minor units of `target`; None when there is no rate."""
        if source == target:
            return minor
        if not self.can_measure(source, target):
            return None
        value = (
            Fraction(minor, 10 ** CURRENCIES[source].exponent)
            * self.per_unit[source]
            / self.per_unit[target]
            * 10 ** CURRENCIES[target].exponent
        )
        return int(math.ceil(value) if round_up else math.floor(value))


NO_RATES = Rates()
