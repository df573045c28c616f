"""Money: integer minor units with a currency, never a float.

The currency registry gives each currency its exponent (EUR 2, JPY 0, BTC 8, USDT 6; at most 8).
The API speaks decimal strings ("12.50"); `parse_amount` turns them into minor units and refuses
excess precision, signs, exponents and unknown currencies, and `format_amount` turns minor units
back into the exact decimal string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from core.errors import DomainError, ErrorCode

MAX_EXPONENT = 8
# Bounded so a sum of many amounts still fits a BIGINT: 10^15 minor units (10 trillion EUR).
MAX_MINOR_UNITS = 10**15
_AMOUNT = re.compile(r"^(\d{1,20})(?:\.(\d{1,8}))?$")


class CurrencyKind(StrEnum):
    FIAT = "fiat"
    CRYPTO = "crypto"


@dataclass(frozen=True)
class Currency:
    code: str
    exponent: int
    kind: CurrencyKind
    name: str


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("EUR", 2, CurrencyKind.FIAT, "Euro"),
        Currency("USD", 2, CurrencyKind.FIAT, "US dollar"),
        Currency("GBP", 2, CurrencyKind.FIAT, "Pound sterling"),
        Currency("SEK", 2, CurrencyKind.FIAT, "Swedish krona"),
        Currency("CAD", 2, CurrencyKind.FIAT, "Canadian dollar"),
        Currency("JPY", 0, CurrencyKind.FIAT, "Japanese yen"),
        Currency("BTC", 8, CurrencyKind.CRYPTO, "Bitcoin"),
        Currency("ETH", 8, CurrencyKind.CRYPTO, "Ether (in units of 10^-8)"),
        Currency("USDT", 6, CurrencyKind.CRYPTO, "Tether USD"),
    )
}


class InvalidAmount(DomainError):
    code = ErrorCode.INVALID_AMOUNT


def currency(code: str, *, field: str = "currency") -> Currency:
    found = CURRENCIES.get(code.strip().upper())
    if found is None:
        raise DomainError(f"Unknown currency {code!r}.", field=field, code=ErrorCode.UNKNOWN_CURRENCY)
    return found


def parse_amount(text: str, currency_code: str, *, field: str = "amount", allow_zero: bool = False) -> int:
    """A positive decimal string in the currency's units → minor units (exactly, or refused)."""
    cur = currency(currency_code)
    match = _AMOUNT.match(text.strip())
    if match is None:
        raise InvalidAmount(f"{text!r} is not an amount: use digits with an optional decimal point.", field=field)
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > cur.exponent:
        raise InvalidAmount(f"{cur.code} has {cur.exponent} decimal places; {text!r} has more.", field=field)
    minor: int = int(whole) * 10**cur.exponent + int(fraction.ljust(cur.exponent, "0") or "0")
    if minor == 0 and not allow_zero:
        raise InvalidAmount("The amount must be greater than zero.", field=field)
    if minor > MAX_MINOR_UNITS:
        raise InvalidAmount("The amount is too large.", field=field)
    return minor


def format_amount(minor: int, currency_code: str) -> str:
    """Minor units → the exact decimal string ("-12.50", "0.00000001", "1500")."""
    exponent = currency(currency_code).exponent
    if exponent == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor)).rjust(exponent + 1, "0")
    return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"


def to_decimal(minor: int, currency_code: str) -> Decimal:
    return Decimal(format_amount(minor, currency_code))
