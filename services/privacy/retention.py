"""Retention rules as data: how long each category of an erased player's data is kept, and why.

`retention.toml` has a DEFAULT profile and per-jurisdiction overrides; `rules_for(jurisdiction)` gives
every category a rule (the override if there is one, else DEFAULT's). A category missing from DEFAULT is a
startup error, so an erasure never meets a category it has no rule for.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core.catalogue.privacy import CATEGORIES

RULES_FILE = Path(__file__).with_name("retention.toml")
DEFAULT = "DEFAULT"


@dataclass(frozen=True)
class Rule:
    category: str
    years: int
    basis: str

    def until(self, ended: datetime) -> datetime:
        """The end of the retention period of a relationship that ended at `ended` (leap days: 365.25)."""
        return ended + timedelta(days=round(self.years * 365.25))


@functools.cache
def _profiles(path: Path = RULES_FILE) -> dict[str, dict[str, Rule]]:
    raw = tomllib.loads(path.read_text())
    profiles: dict[str, dict[str, Rule]] = {}
    for name, table in raw.items():
        rules = {}
        for category, spec in table.items():
            if category not in CATEGORIES:
                raise ValueError(f"retention.toml [{name}]: unknown category {category!r}")
            years = int(spec["years"])
            if years < 0:
                raise ValueError(f"retention.toml [{name}].{category}: years must be 0 or more")
            rules[category] = Rule(category, years, str(spec["basis"]))
        profiles[name] = rules
    missing = [c for c in CATEGORIES if c not in profiles.get(DEFAULT, {})]
    if missing:
        raise ValueError(f"retention.toml [DEFAULT] lacks {', '.join(missing)}")
    return profiles


def rules_for(jurisdiction: str) -> dict[str, Rule]:
    profiles = _profiles()
    return {**profiles[DEFAULT], **profiles.get(jurisdiction, {})}
