"""KYC profiles (levels.toml): the ordered levels of a jurisdiction, what each requires, and the triggers
that raise the level required of a player. Loaded once and validated as a whole: an unknown level,
requirement, trigger kind, gate or currency fails at load, never at a player's deposit."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from core.money import CURRENCIES, parse_amount

DEFAULT = "DEFAULT"
LEVELS_FILE = Path(__file__).with_name("levels.toml")
TRIGGER_KINDS = frozenset(
    {"lifetime_deposits", "net_deposits", "net_loss", "first_withdrawal", "payment_method_change"}
)
MONEY_TRIGGERS = frozenset({"lifetime_deposits", "net_deposits", "net_loss"})
WINDOW_TRIGGERS = frozenset({"net_deposits", "net_loss"})
GATES = frozenset({"deposit", "withdrawal"})
REQUIREMENTS = frozenset({"officer_approval", "provider_check", "screening_clear"})
DOCUMENT_PREFIX = "document:"
DOCUMENT_KINDS = frozenset({"identity", "address", "source_of_funds"})
RISK_SIGNAL = "risk_signal"  # the trigger of a level another module asks for (services/kyc/actions.py)


class InvalidLevels(ValueError):
    pass


@dataclass(frozen=True)
class Level:
    code: str
    rank: int
    requires: tuple[str, ...]


@dataclass(frozen=True)
class Trigger:
    kind: str
    level: str
    gates: tuple[str, ...]
    amount: int | None = None  # minor units of `currency`
    currency: str | None = None
    window_days: int | None = None

    @property
    def name(self) -> str:
        """What the player is told raised their level, and the key of its requirement row."""
        return f"{self.kind}_{self.window_days}d" if self.window_days else self.kind


@dataclass(frozen=True)
class KycProfile:
    code: str
    levels: tuple[Level, ...]
    triggers: tuple[Trigger, ...]
    four_eyes_levels: frozenset[str]

    @property
    def first(self) -> Level:
        return self.levels[0]

    def level(self, code: str) -> Level:
        for level in self.levels:
            if level.code == code:
                return level
        raise KeyError(code)

    def has(self, code: str) -> bool:
        return any(level.code == code for level in self.levels)

    def above(self, rank: int) -> tuple[Level, ...]:
        return tuple(level for level in self.levels if level.rank > rank)


def _requirement(item: str, where: str) -> str:
    if item in REQUIREMENTS:
        return item
    if item.startswith(DOCUMENT_PREFIX) and item.removeprefix(DOCUMENT_PREFIX) in DOCUMENT_KINDS:
        return item
    raise InvalidLevels(f"{where}: unknown requirement {item!r}")


def _trigger(spec: dict[str, Any], codes: set[str], where: str) -> Trigger:
    kind = spec.get("kind")
    if kind not in TRIGGER_KINDS:
        raise InvalidLevels(f"{where}: unknown trigger kind {kind!r}")
    if spec.get("level") not in codes:
        raise InvalidLevels(f"{where}: trigger {kind} requires unknown level {spec.get('level')!r}")
    gates = tuple(spec.get("gates", ()))
    if not set(gates) <= GATES:
        raise InvalidLevels(f"{where}: trigger {kind} has unknown gates {gates}")
    amount = currency = window = None
    if kind in MONEY_TRIGGERS:
        currency = str(spec.get("currency", ""))
        if currency not in CURRENCIES:
            raise InvalidLevels(f"{where}: trigger {kind} has unknown currency {currency!r}")
        amount = parse_amount(str(spec.get("amount", "")), currency)
    if kind in WINDOW_TRIGGERS:
        window = int(spec.get("window_days", 0))
        if window < 1:
            raise InvalidLevels(f"{where}: trigger {kind} needs window_days >= 1")
    return Trigger(kind, str(spec["level"]), gates, amount, currency, window)


def parse(raw: dict[str, Any]) -> dict[str, KycProfile]:
    if DEFAULT not in raw:
        raise InvalidLevels("levels.toml: no DEFAULT profile")
    found: dict[str, KycProfile] = {}
    for code, spec in raw.items():
        levels = tuple(
            Level(str(item["code"]), rank, tuple(_requirement(r, f"{code}.{item['code']}") for r in item["requires"]))
            for rank, item in enumerate(spec.get("levels", ()))
        )
        codes = {level.code for level in levels}
        if not levels or len(codes) != len(levels):
            raise InvalidLevels(f"{code}: levels must be listed, each once")
        if levels[0].requires:
            raise InvalidLevels(f"{code}: the first level is every player's at registration; it requires nothing")
        four_eyes = frozenset(spec.get("four_eyes_levels", ()))
        if not four_eyes <= codes:
            raise InvalidLevels(f"{code}: four_eyes_levels names unknown levels")
        triggers = tuple(_trigger(t, codes, code) for t in spec.get("triggers", ()))
        found[code] = KycProfile(code, levels, triggers, four_eyes)
    return found


@cache
def profiles() -> dict[str, KycProfile]:
    return parse(tomllib.loads(LEVELS_FILE.read_text()))


def profile_for(jurisdiction: str) -> KycProfile:
    return profiles().get(jurisdiction) or profiles()[DEFAULT]
