"""The crypto assets the cashier takes, their networks, and the one conversion between the chain's amounts
and the ledger's minor units.

The ledger keeps every amount as a BIGINT of minor units with at most 8 decimals (core/money.py). BTC (8
decimals on chain) and USDT (6, as an ERC-20 token) fit exactly. Ether has 18 decimals on chain: at 18, a
BIGINT holds at most 9.22 ETH, so the ledger counts ether in units of 10^-8 ETH (10 gwei; 92 billion ETH fit).
A payout converts exactly (10^-8 ETH is 10^10 wei); a deposit's amount below 10^-8 ETH (dust) cannot be
held: it is recorded on the transfer, never credited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from core.errors import DomainError, ErrorCode
from core.money import currency as currency_info

_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BTC_ADDRESS = re.compile(rf"^(bc1[{_BECH32}]{{8,87}}|[13][1-9A-HJ-NP-Za-km-z]{{25,34}})$")


@dataclass(frozen=True)
class Asset:
    code: str  # also its currency code in the ledger
    network: str
    chain_decimals: int
    address: re.Pattern[str]

    @property
    def ledger_exponent(self) -> int:
        return currency_info(self.code).exponent


ASSETS: dict[str, Asset] = {
    a.code: a
    for a in (
        Asset("BTC", "bitcoin", 8, _BTC_ADDRESS),
        Asset("ETH", "ethereum", 18, _EVM_ADDRESS),
        Asset("USDT", "ethereum", 6, _EVM_ADDRESS),  # Tether's ERC-20 token
    )
}


def asset(code: str, *, field: str = "asset") -> Asset:
    found = ASSETS.get(code.strip().upper())
    if found is None:
        raise DomainError(
            f"Crypto payments take {', '.join(ASSETS)}; not {code!r}.", field=field, code=ErrorCode.UNKNOWN_CURRENCY
        )
    return found


def check_address(of: Asset, address: str) -> str:
    """A destination address in the network's format (its checksum is the processor's to verify)."""
    value = address.strip()
    if not of.address.match(value):
        raise DomainError(f"That is not a {of.network} address.", field="address", code=ErrorCode.INVALID_INPUT)
    return value


def instrument_token(of: Asset, address: str) -> str:
    """The payment's instrument: `<asset>:<address>` (closed loop matches withdrawals on it)."""
    return f"{of.code}:{address}"


def split_token(token: str | None) -> tuple[Asset, str] | None:
    if not token or ":" not in token:
        return None
    code, address = token.split(":", 1)
    found = ASSETS.get(code)
    return (found, address) if found else None


def chain_amount(of: Asset, text: str, *, zero: bool = False) -> Decimal:
    """The processor's decimal string, exactly, with no more decimals than the chain has; positive (or zero,
    when `zero`: a fee)."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    if (
        not value.is_finite()
        or value < 0
        or (value == 0 and not zero)
        or -value.as_tuple().exponent > of.chain_decimals  # type: ignore[operator]
        or value.adjusted() >= 20  # NUMERIC(38, 18): 20 digits before the point
    ):
        raise ValueError(f"not an amount of {of.code}: {text!r}")
    return value


def to_ledger(of: Asset, amount: Decimal) -> tuple[int, Decimal]:
    """Chain amount → (minor units of the asset, the dust the ledger's exponent cannot hold)."""
    scale = Decimal(10) ** of.ledger_exponent
    minor = int((amount * scale).to_integral_value(rounding="ROUND_DOWN"))
    return minor, amount - Decimal(minor) / scale


def to_chain(of: Asset, minor: int) -> str:
    """Minor units of the asset → the chain's decimal string (exact: the ledger's exponent is never finer)."""
    return str((Decimal(minor) / Decimal(10) ** of.ledger_exponent).quantize(Decimal(1).scaleb(-of.chain_decimals)))


def fiat_value(amount: Decimal, rate: Decimal, currency: str) -> int:
    """What `amount` of an asset is worth at `rate` in minor units of `currency`, rounded down (the player is
    never credited what the rate does not cover, and never paid out more than the quote said)."""
    scale = Decimal(10) ** currency_info(currency).exponent
    return int((amount * rate * scale).to_integral_value(rounding="ROUND_DOWN"))
