"""Money: decimal strings in, integer minor units inside, exact both ways."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError
from core.money import CURRENCIES, MAX_MINOR_UNITS, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12.5", "EUR", 1250),
        ("12", "EUR", 1200),
        ("0.01", "EUR", 1),
        ("1500", "JPY", 1500),
        ("0.00000001", "BTC", 1),
        ("1.000001", "USDT", 1_000_001),
        (" 3.10 ", "gbp", 310),
    ],
)
def test_amounts_parse_to_exact_minor_units(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "code"),
    [
        ("12.345", "EUR", "INVALID_AMOUNT"),
        ("1.5", "JPY", "INVALID_AMOUNT"),
        ("0.000000001", "BTC", "INVALID_AMOUNT"),
        ("-5", "EUR", "INVALID_AMOUNT"),
        ("+5", "EUR", "INVALID_AMOUNT"),
        ("1e3", "EUR", "INVALID_AMOUNT"),
        ("0", "EUR", "INVALID_AMOUNT"),
        ("0.00", "EUR", "INVALID_AMOUNT"),
        ("", "EUR", "INVALID_AMOUNT"),
        ("NaN", "EUR", "INVALID_AMOUNT"),
        ("1,50", "EUR", "INVALID_AMOUNT"),
        ("10", "XYZ", "UNKNOWN_CURRENCY"),
        ("100000000000000", "EUR", "INVALID_AMOUNT"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(text: str, currency: str, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_amount(text, currency)
    assert refused.value.code == code
    assert refused.value.message


def test_zero_is_allowed_only_where_asked() -> None:
    assert parse_amount("0.00", "EUR", allow_zero=True) == 0


def test_registry_has_the_required_currencies_with_bounded_exponents() -> None:
    assert {"EUR", "USD", "GBP", "SEK", "CAD", "JPY", "BTC", "ETH", "USDT"} <= CURRENCIES.keys()
    assert all(0 <= c.exponent <= 8 for c in CURRENCIES.values())
    assert (CURRENCIES["JPY"].exponent, CURRENCIES["BTC"].exponent, CURRENCIES["USDT"].exponent) == (0, 8, 6)


@given(st.sampled_from(sorted(CURRENCIES)), st.integers(min_value=1, max_value=MAX_MINOR_UNITS))
def test_format_and_parse_are_inverse(currency: str, minor: int) -> None:
    text = format_amount(minor, currency)
    assert parse_amount(text, currency) == minor
    assert format_amount(-minor, currency) == "-" + text
