"""A monitoring version as data: its rules (kind, parameters, score weight) and its scenario (the outcome
ladder), read from TOML (services/aml/monitoring_rules.toml is version 1) and checked before it is stored.

Amounts are decimal strings in the base currency, held as integer minor units; ratios are exact fractions.
No rule looks further back than `MAX_LOOKBACK` (the per-player windows keep that much), so any version can
go live on the windows the consumer already keeps.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from core.errors import DomainError, ErrorCode
from core.money import InvalidAmount, parse_amount

BASE = "EUR"
DEFAULT_FILE = Path(__file__).resolve().parents[1] / "monitoring_rules.toml"
MAX_LOOKBACK = timedelta(days=90)
OUTCOMES = ("approve", "review", "block_and_review", "decline")
KINDS = (
    "large_deposit",
    "rapid_deposits",
    "deposit_then_withdrawal",
    "structuring",
    "many_instruments",
    "out_of_profile",
)


class InvalidRules(DomainError):
    code = ErrorCode.INVALID_INPUT


@dataclass(frozen=True)
class Rule:
    """One rule: `kind` says what it looks for, the other fields are its parameters (unused ones zero)."""

    id: str
    kind: str
    weight: int
    threshold: int = 0  # base minor units
    count: int = 0
    window: timedelta = timedelta(0)
    ratio: Fraction = Fraction(0)
    minimum: int = 0  # base minor units
    history: timedelta = timedelta(0)
    min_history: int = 0

    @property
    def lookback(self) -> timedelta:
        return self.window + self.history

    @property
    def floor(self) -> int:
        """Structuring: the lowest amount that counts as just under the threshold."""
        return int(self.threshold - self.ratio * self.threshold)


@dataclass(frozen=True)
class Step:
    score: int
    outcome: str


@dataclass(frozen=True)
class Version:
    rules: tuple[Rule, ...]
    ladder: tuple[Step, ...]
    note: str = ""
    number: int = 0  # 0 until stored
    document: dict[str, Any] = field(default_factory=dict, compare=False)

    def outcome(self, score: int) -> str:
        """The highest step the score reaches; below the first, approve."""
        reached = "approve"
        for step in self.ladder:
            if score >= step.score:
                reached = step.outcome
        return reached


def _int(raw: dict[str, Any], name: str, rule: str, *, minimum: int = 1) -> int:
    value = raw.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidRules(f"Rule {rule!r}: `{name}` must be an integer ≥ {minimum}.", field=name)
    return value


def _amount(raw: dict[str, Any], name: str, rule: str) -> int:
    value = raw.get(name)
    if not isinstance(value, str):
        raise InvalidRules(f"Rule {rule!r}: `{name}` must be a decimal string in {BASE}.", field=name)
    try:
        return parse_amount(value, BASE, field=name)
    except InvalidAmount as exc:
        raise InvalidRules(f"Rule {rule!r}: {exc.message}", field=name) from None


def _fraction(raw: dict[str, Any], name: str, rule: str, *, scale: int = 1) -> Fraction:
    try:
        value = Decimal(str(raw.get(name)))
    except InvalidOperation:
        raise InvalidRules(f"Rule {rule!r}: `{name}` must be a decimal string.", field=name) from None
    if not value.is_finite() or value < 0:
        raise InvalidRules(f"Rule {rule!r}: `{name}` must be a non-negative number.", field=name)
    return Fraction(value) / scale


def _window(raw: dict[str, Any], rule: str) -> timedelta:
    if "window_minutes" in raw:
        return timedelta(minutes=_int(raw, "window_minutes", rule))
    return timedelta(hours=_int(raw, "window_hours", rule))


def parse_rule(raw: dict[str, Any]) -> Rule:
    rule_id, kind = raw.get("id"), raw.get("kind")
    if not isinstance(rule_id, str) or not rule_id.isidentifier() or len(rule_id) > 64:
        raise InvalidRules("Every rule needs an `id` (a name of letters, digits and _).", field="id")
    if kind not in KINDS:
        raise InvalidRules(f"Rule {rule_id!r}: `kind` must be one of {', '.join(KINDS)}.", field="kind")
    weight = _int(raw, "weight", rule_id, minimum=0)
    match kind:
        case "large_deposit":
            rule = Rule(rule_id, kind, weight, threshold=_amount(raw, "threshold", rule_id))
        case "rapid_deposits" | "many_instruments":
            rule = Rule(
                rule_id, kind, weight, count=_int(raw, "count", rule_id, minimum=2), window=_window(raw, rule_id)
            )
        case "deposit_then_withdrawal":
            rule = Rule(
                rule_id,
                kind,
                weight,
                window=_window(raw, rule_id),
                ratio=_fraction(raw, "wager_ratio", rule_id),
                minimum=_amount(raw, "min_deposited", rule_id),
            )
        case "structuring":
            margin = _fraction(raw, "margin_percent", rule_id, scale=100)
            if not 0 < margin < 1:
                raise InvalidRules(f"Rule {rule_id!r}: `margin_percent` must be between 0 and 100.", field="margin")
            rule = Rule(
                rule_id,
                kind,
                weight,
                threshold=_amount(raw, "threshold", rule_id),
                ratio=margin,
                count=_int(raw, "count", rule_id, minimum=2),
                window=_window(raw, rule_id),
            )
        case _:  # out_of_profile
            rule = Rule(
                rule_id,
                kind,
                weight,
                window=_window(raw, rule_id),
                history=timedelta(days=_int(raw, "history_days", rule_id)),
                ratio=_fraction(raw, "ratio", rule_id),
                minimum=_amount(raw, "min_amount", rule_id),
                min_history=_int(raw, "min_history_deposits", rule_id),
            )
    if rule.lookback > MAX_LOOKBACK:
        raise InvalidRules(f"Rule {rule_id!r} looks back further than {MAX_LOOKBACK.days} days.", field="window")
    return rule


def parse(document: dict[str, Any], *, number: int = 0) -> Version:
    """A version from its document (the TOML's tables, or the JSON stored in the database)."""
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise InvalidRules("A version needs at least one [[rules]] entry.", field="rules")
    rules = tuple(parse_rule(r) for r in raw_rules)
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise InvalidRules("Rule ids must be unique within a version.", field="id")
    raw_ladder = (document.get("scenario") or {}).get("ladder")
    if not isinstance(raw_ladder, list) or not raw_ladder:
        raise InvalidRules("The [scenario] needs a `ladder` of {score, outcome} steps.", field="scenario")
    ladder: list[Step] = []
    for step in raw_ladder:
        outcome, score = step.get("outcome"), step.get("score")
        if outcome not in OUTCOMES[1:] or not isinstance(score, int) or score < 1:
            raise InvalidRules(
                "Each ladder step needs a positive `score` and an `outcome` of review, block_and_review or decline.",
                field="scenario",
            )
        ladder.append(Step(score, outcome))
    if [s.score for s in ladder] != sorted({s.score for s in ladder}):
        raise InvalidRules("The ladder's scores must rise strictly.", field="scenario")
    if [OUTCOMES.index(s.outcome) for s in ladder] != sorted({OUTCOMES.index(s.outcome) for s in ladder}):
        raise InvalidRules("The ladder's outcomes must escalate step by step.", field="scenario")
    note = str(document.get("note") or "")[:500]
    clean = {"note": note, "rules": raw_rules, "scenario": {"ladder": [asdict(s) for s in ladder]}}
    return Version(rules, tuple(ladder), note, number, clean)


def read_file(path: Path) -> Version:
    try:
        return parse(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidRules(f"Cannot read {path}: {exc}", field="file") from None


def default() -> Version:
    return read_file(DEFAULT_FILE)
