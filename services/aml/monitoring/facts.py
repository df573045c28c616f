"""From events to the facts the rules read: which events matter, what each says, and its amount in the
base currency (the ECB rate in force on the event's UTC day, services/reports/fx.py; a currency without a
rate refuses with MissingRate, so the consumer parks the event visibly rather than guess).

Deposits are `payment.succeeded` of a deposit (the instrument from its payment: method and card token, or
the PSP), withdrawals are `payment.requested`, play is `ledger.game_bet` (cash and bonus stake). Rollbacks
are not subtracted: a stake the provider cancelled still counted as play (docs/aml-monitoring.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from fractions import Fraction

import asyncpg

from services.aml.monitoring.engine import BET, DEPOSIT, WITHDRAWAL
from services.aml.monitoring.rules import BASE
from services.reports.fx import MissingRate, RateBook

DEPOSIT_TYPE, WITHDRAWAL_TYPE, BET_TYPE = "payment.succeeded", "payment.requested", "ledger.game_bet"
TYPES = frozenset({DEPOSIT_TYPE, WITHDRAWAL_TYPE, BET_TYPE})
KIND_OF = {DEPOSIT_TYPE: DEPOSIT, WITHDRAWAL_TYPE: WITHDRAWAL, BET_TYPE: BET}

# The rates in force over a range of days (as services/reports/fx.py reads them), on asyncpg.
_IN_FORCE = """
(SELECT currency, day, rate FROM fx_rates WHERE currency = ANY($1::varchar[]) AND day BETWEEN $2 AND $3)
UNION ALL
(SELECT DISTINCT ON (currency) currency, day, rate FROM fx_rates
 WHERE currency = ANY($1::varchar[]) AND day < $2 ORDER BY currency, day DESC)"""
# A deposit's instrument: its method and the PSP's token of the card (or the PSP where there is none).
INSTRUMENTS = """
SELECT id::text AS payment, method || ':' || coalesce(instrument_token, psp, '') AS instrument
FROM payments WHERE id = ANY($1::uuid[])"""


def day_of(at: float) -> date:
    return datetime.fromtimestamp(at, UTC).date()


class Converter:
    """Amounts into base minor units, one exact factor per (currency, day), remembered."""

    def __init__(self, book: RateBook) -> None:
        self.book = book
        self.factors: dict[tuple[str, date], Fraction] = {}

    @classmethod
    async def load(cls, conn: asyncpg.Connection, currencies: Iterable[str], start: date, end: date) -> Converter:
        wanted = sorted(set(currencies) - {BASE})
        book = RateBook()
        if wanted:
            for currency, day, rate in sorted(tuple(r) for r in await conn.fetch(_IN_FORCE, wanted, start, end)):
                book.days.setdefault(currency, []).append(day)
                book.rates.setdefault(currency, []).append(Fraction(rate))
        return cls(book)

    def base(self, amount: int, currency: str, at: float) -> int:
        if currency == BASE:
            return amount
        key = (currency, day_of(at))
        factor = self.factors.get(key)
        if factor is None:
            book = self.book
            book.require([key], BASE)  # MissingRate when there is none in force
            factor = self.factors[key] = book.convert(1, currency, key[1], BASE)
        return round(amount * factor)


__all__ = ["BET_TYPE", "DEPOSIT_TYPE", "INSTRUMENTS", "TYPES", "WITHDRAWAL_TYPE", "Converter", "MissingRate"]
