"""Jurisdiction profiles (jurisdictions.toml) and the calendar periods limits are counted in."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from models.rg import LimitKind, LimitPeriod

DEFAULT = "DEFAULT"
PROFILES_FILE = Path(__file__).with_name("jurisdictions.toml")


@dataclass(frozen=True)
class Profile:
    code: str
    name: str
    countries: tuple[str, ...]
    timezone: ZoneInfo
    minimum_age: int
    increase_cooling_off: timedelta
    increase_after_period_end: bool
    required_limits: tuple[LimitKind, ...]
    reality_check_minutes: int
    reality_check_required: bool
    registers: tuple[str, ...]
    # Withdrawals go back to the deposits' methods first (services/cashier/closed_loop.py).
    closed_loop: bool = False

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self.timezone).date()

    def period(self, period: LimitPeriod, at: datetime) -> tuple[datetime, datetime]:
        """The calendar day, week (from Monday) or month containing `at`, in local time."""
        local = at.astimezone(self.timezone).date()
        if period == LimitPeriod.DAY:
            first, after = local, local + timedelta(days=1)
        elif period == LimitPeriod.WEEK:
            first = local - timedelta(days=local.weekday())
            after = first + timedelta(days=7)
        else:
            first = local.replace(day=1)
            after = (first + timedelta(days=32)).replace(day=1)
        return self._midnight(first), self._midnight(after)

    def _midnight(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.timezone)


@cache
def profiles() -> dict[str, Profile]:
    raw = tomllib.loads(PROFILES_FILE.read_text())
    return {
        code: Profile(
            code=code,
            name=spec["name"],
            countries=tuple(spec["countries"]),
            timezone=ZoneInfo(spec["timezone"]),
            minimum_age=int(spec["minimum_age"]),
            increase_cooling_off=timedelta(hours=int(spec["increase_cooling_off_hours"])),
            increase_after_period_end=bool(spec["increase_after_period_end"]),
            required_limits=tuple(LimitKind(kind) for kind in spec["required_limits"]),
            reality_check_minutes=int(spec["reality_check_minutes"]),
            reality_check_required=bool(spec["reality_check_required"]),
            registers=tuple(spec["registers"]),
            closed_loop=bool(spec.get("closed_loop", False)),
        )
        for code, spec in raw.items()
    }


def profile(code: str) -> Profile:
    return profiles().get(code) or profiles()[DEFAULT]


def resolve(served: Sequence[str], country: str) -> Profile | None:
    """The profile for a player from `country` at a brand serving `served`; None: the brand may not take them."""
    for code in served:
        candidate = profiles().get(code)
        if candidate is not None and country in candidate.countries:
            return candidate
    return profiles()[DEFAULT] if DEFAULT in served else None


def unknown_codes(codes: Sequence[str]) -> list[str]:
    return [code for code in codes if code not in profiles()]
