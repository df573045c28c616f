"""Reference exchange rates: importing the ECB's files, finding the rate in force, converting exactly.

A rate is the ECB's: units of a currency per 1 EUR on a day (EUR itself is 1, never stored). The rate
in force on a day is the latest one on or before it (no rates on weekends and holidays: Friday's
apply). Conversions are exact (`Fraction`, with each currency's exponent from the registry) and round
once, half to even, when a figure is shown. A currency without a rate in force refuses with
`MissingRate` (FX_RATE_MISSING), naming the currency and the day: a report is never silently wrong.

Files: the ECB's `eurofxref-hist.csv` (or the `.zip` it comes in) and the daily `eurofxref.csv`: a
`Date` column (ISO `2026-12-04` or `04 December 2026`), then one column per currency, "N/A" or empty
where the ECB has no rate, possibly a trailing empty column. Columns of currencies outside the
registry (core/money.py) are skipped and reported.
"""

from __future__ import annotations

import bisect
import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError, ErrorCode
from core.money import CURRENCIES

BASE = "EUR"
SAMPLE_FILE = Path(__file__).with_name("sample-eurofxref.csv")  # the demo's rates (illustrative, not the ECB's)
_MISSING = frozenset({"", "N/A", "NA", "-"})


class MissingRate(DomainError):
    """A report needs a rate that was never imported: which currencies, from which day."""

    code = ErrorCode.FX_RATE_MISSING

    def __init__(self, missing: dict[str, date]) -> None:
        self.missing = dict(sorted(missing.items()))
        named = ", ".join(f"{currency} on {day.isoformat()}" for currency, day in self.missing.items())
        super().__init__(
            f"No reference exchange rate in force for {named} (import rates with `croupier fx import`).",
            field="currency",
        )


class InvalidRatesFile(DomainError):
    code = ErrorCode.INVALID_INPUT


@dataclass(frozen=True)
class ParsedRates:
    rates: dict[tuple[str, date], Decimal]  # (currency, day) → units per 1 EUR
    skipped: tuple[str, ...] = ()  # columns of currencies outside the registry


def _day(cell: str, line: int) -> date:
    for shape in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(cell, shape).date()  # a calendar day: no time zone to speak of
        except ValueError:
            continue
    raise InvalidRatesFile(f"Line {line}: {cell!r} is not a date (2026-12-04 or 04 December 2026).", field="file")


def _rate(cell: str, line: int, currency: str) -> Decimal:
    try:
        rate = Decimal(cell)
    except InvalidOperation:
        raise InvalidRatesFile(f"Line {line}: {currency} rate {cell!r} is not a number.", field="file") from None
    if not rate.is_finite() or rate <= 0:
        raise InvalidRatesFile(f"Line {line}: {currency} rate {cell!r} must be a positive number.", field="file")
    return rate


def parse_ecb_csv(content: str) -> ParsedRates:
    """The rates of an ECB reference-rate CSV (refused with InvalidRatesFile, naming the line)."""
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    if not rows or not rows[0] or rows[0][0].strip().lower() != "date":
        raise InvalidRatesFile("Not an ECB reference-rate file: the first column must be `Date`.", field="file")
    header = [cell.strip().upper() for cell in rows[0]]
    columns = {n: code for n, code in enumerate(header) if n and code and code in CURRENCIES and code != BASE}
    skipped = tuple(code for n, code in enumerate(header) if n and code and n not in columns and code != BASE)
    rates: dict[tuple[str, date], Decimal] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        day = _day(row[0].strip(), line)
        for n, currency in columns.items():
            cell = row[n].strip() if n < len(row) else ""
            if cell.upper() not in _MISSING:
                rates[(currency, day)] = _rate(cell, line, currency)
    if not rates:
        raise InvalidRatesFile("The file holds no rate of a known currency.", field="file")
    return ParsedRates(rates, skipped)


def read_rates_file(path: Path) -> ParsedRates:
    """A CSV file, or the `.zip` the ECB serves it in (its one CSV inside)."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
                if len(names) != 1:
                    raise InvalidRatesFile("The zip file must hold exactly one CSV file.", field="file")
                return parse_ecb_csv(archive.read(names[0]).decode("utf-8"))
        return parse_ecb_csv(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise InvalidRatesFile(f"Cannot read {path}: {exc}", field="file") from None


@dataclass(frozen=True)
class ImportResult:
    rates: int
    currencies: tuple[str, ...]
    first_day: date
    last_day: date
    skipped: tuple[str, ...]


_UPSERT = text("""
INSERT INTO fx_rates (currency, day, rate)
SELECT * FROM unnest(CAST(:currencies AS varchar[]), CAST(:days AS date[]), CAST(:rates AS numeric[]))
ON CONFLICT (currency, day) DO UPDATE SET rate = excluded.rate, imported_at = now()""")


async def import_rates(db: AsyncSession, parsed: ParsedRates) -> ImportResult:
    """Write the rates (a rate already there for that currency and day is replaced), in one statement."""
    keys = sorted(parsed.rates)
    await db.execute(
        _UPSERT,
        {
            "currencies": [currency for currency, _ in keys],
            "days": [day for _, day in keys],
            "rates": [parsed.rates[key] for key in keys],
        },
    )
    days = [day for _, day in keys]
    return ImportResult(len(keys), tuple(sorted({c for c, _ in keys})), min(days), max(days), parsed.skipped)


_IN_FORCE = text("""
(SELECT currency, day, rate FROM fx_rates
 WHERE currency = ANY(CAST(:currencies AS varchar[])) AND day BETWEEN :start AND :end)
UNION ALL
(SELECT DISTINCT ON (currency) currency, day, rate FROM fx_rates
 WHERE currency = ANY(CAST(:currencies AS varchar[])) AND day < :start ORDER BY currency, day DESC)""")


@dataclass
class RateBook:
    """The rates in force over a range of days, per currency in day order."""

    days: dict[str, list[date]] = field(default_factory=dict)
    rates: dict[str, list[Fraction]] = field(default_factory=dict)

    def rate(self, currency: str, day: date) -> Fraction | None:
        """Units of `currency` per 1 EUR in force on `day` (the latest on or before it)."""
        if currency == BASE:
            return Fraction(1)
        days = self.days.get(currency, [])
        at = bisect.bisect_right(days, day)
        return self.rates[currency][at - 1] if at else None

    def require(self, needed: Iterable[tuple[str, date]], target: str) -> None:
        """Refuse (MissingRate) unless every (currency, day) converts into `target`."""
        missing: dict[str, date] = {}
        for currency, day in needed:
            if currency == target:
                continue
            for code in (currency, target):
                if self.rate(code, day) is None and (code not in missing or day < missing[code]):
                    missing[code] = day
        if missing:
            raise MissingRate(missing)

    def convert(self, minor: int, currency: str, day: date, target: str) -> Fraction:
        """`minor` units of `currency` on `day` in minor units of `target`, exactly (after `require`)."""
        if currency == target:
            return Fraction(minor)
        source_rate, target_rate = self.rate(currency, day), self.rate(target, day)
        if source_rate is None or target_rate is None:
            raise MissingRate({currency if source_rate is None else target: day})
        exponents = CURRENCIES[target].exponent - CURRENCIES[currency].exponent
        return Fraction(minor) * target_rate / source_rate * Fraction(10) ** exponents


async def load_rates(db: AsyncSession, currencies: Iterable[str], start: date, end: date) -> RateBook:
    """The rates of `currencies` in force on any day from `start` to `end` (one query)."""
    wanted = sorted(set(currencies) - {BASE})
    book = RateBook()
    if not wanted:
        return book
    rows = (await db.execute(_IN_FORCE, {"currencies": wanted, "start": start, "end": end})).all()
    for currency, day, rate in sorted(rows):
        book.days.setdefault(currency, []).append(day)
        book.rates.setdefault(currency, []).append(Fraction(rate))
    return book


def rounded(value: Fraction) -> int:
    """A converted amount shown in whole minor units (half to even)."""
    return round(value)
