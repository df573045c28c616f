"""Campaign rules as data: the pydantic models a campaign's `rules` JSON must satisfy, and the
per-jurisdiction caps (services/rg/bonus_rules.toml) every campaign and every issued bonus meets.

Amounts in rules are decimal strings per currency (`{"EUR": "100.00"}`), parsed exactly with the
currency's exponent when a bonus is issued; percentages are whole numbers. A rule that cannot be
satisfied (an unknown currency, a percentage above 100 where that makes no sense, a free-spins offer
without games) is refused when the campaign is written, never discovered when a player claims.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from core.errors import DomainError, ErrorCode
from core.money import CURRENCIES, parse_amount
from models.bonuses import CampaignKind

CAPS_FILE = Path(__file__).resolve().parent.parent / "rg" / "bonus_rules.toml"
DEFAULT_CONTRIBUTIONS = {"slots": 100, "table": 10, "live": 10}
Percent = Annotated[int, Field(ge=0, le=100)]


class SpendOrder(StrEnum):
    CASH_FIRST = "cash_first"
    BONUS_FIRST = "bonus_first"


class WageringBase(StrEnum):
    BONUS = "bonus"
    BONUS_AND_DEPOSIT = "bonus_and_deposit"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _amounts(value: dict[str, str]) -> dict[str, str]:
    for code, amount in value.items():
        if code not in CURRENCIES:
            raise ValueError(f"unknown currency {code}")
        parse_amount(amount, code, allow_zero=True)  # DomainError (a ValueError for pydantic below) if not exact
    return value


def _is_country(code: str) -> bool:
    return len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()


class Contributions(_Strict):
    """How much of a stake counts towards wagering, in percent: by game (code) first, then by the
    game's contribution category, else `other`."""

    categories: dict[str, Percent] = Field(default_factory=lambda: dict(DEFAULT_CONTRIBUTIONS))
    games: dict[str, Percent] = Field(default_factory=dict)
    other: Percent = 0

    def percent(self, game_code: str | None, category: str | None) -> int:
        if game_code is not None and game_code in self.games:
            return self.games[game_code]
        if category is not None and category in self.categories:
            return self.categories[category]
        return self.other


class Eligibility(_Strict):
    countries: list[str] = Field(default_factory=list)  # empty: every country the brand serves
    currencies: list[str] = Field(default_factory=list)  # empty: any
    segments: list[str] = Field(default_factory=list)  # any of: new (no deposit yet), depositor, marketing_consent
    first_deposit_only: bool = False
    # Bounded like every other count in the rules (the reach query compares them in SQL, as BIGINT).
    deposit_number: int | None = Field(default=None, ge=1, le=1000)  # the N-th successful deposit qualifies
    max_claims_per_player: int = Field(default=1, ge=1, le=1000)

    @field_validator("countries", "currencies")
    @classmethod
    def _codes(cls, value: list[str], info: ValidationInfo) -> list[str]:
        """Codes a player can have: ISO countries (two capital letters), currencies of the registry."""
        valid = _is_country if info.field_name == "countries" else CURRENCIES.__contains__
        wrong = [code for code in value if not valid(code)]
        if wrong:
            raise ValueError(f"not {info.field_name} codes: {wrong}")
        return value

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: list[str]) -> list[str]:
        unknown = set(value) - {"new", "depositor", "marketing_consent"}
        if unknown:
            raise ValueError(f"unknown segments {sorted(unknown)}")
        return value


class CampaignRules(_Strict):
    match_percent: int = Field(default=100, ge=1, le=1000)  # deposit match / reload
    max_bonus: dict[str, str] = Field(default_factory=dict)  # per currency; deposit match cap
    min_deposit: dict[str, str] = Field(default_factory=dict)
    fixed_amount: dict[str, str] = Field(default_factory=dict)  # no-deposit bonus
    free_spins: int = Field(default=0, ge=0, le=1000)
    spin_bet: dict[str, str] = Field(default_factory=dict)
    games: list[str] = Field(default_factory=list)  # free spins: the game codes they play on
    cashback_percent: int = Field(default=0, ge=0, le=100)
    cashback_period_days: int = Field(default=7, ge=1, le=31)
    cashback_min: dict[str, str] = Field(default_factory=dict)
    cashback_max: dict[str, str] = Field(default_factory=dict)
    cashback_auto_pay: bool = True  # the bonus worker pays each period when it closes (else: staff or cron)
    wagering_multiplier: int = Field(default=30, ge=0, le=100)
    wagering_base: WageringBase = WageringBase.BONUS
    contributions: Contributions = Field(default_factory=Contributions)
    max_bet: dict[str, str] = Field(default_factory=dict)  # while wagering
    max_conversion: dict[str, str] = Field(default_factory=dict)  # cash-out cap
    max_conversion_multiple: int | None = Field(default=None, ge=1, le=100)  # or: N x the bonus
    spend_order: SpendOrder = SpendOrder.CASH_FIRST
    days_to_wager: int = Field(default=30, ge=1, le=365)  # an active bonus expires after this
    days_to_claim: int = Field(default=7, ge=1, le=365)  # an issued (waiting) bonus expires after this
    products: list[str] = Field(default_factory=lambda: ["casino"])  # casino, sports, poker …
    eligibility: Eligibility = Field(default_factory=Eligibility)

    _check_amounts = field_validator(
        "max_bonus",
        "min_deposit",
        "fixed_amount",
        "spin_bet",
        "cashback_min",
        "cashback_max",
        "max_bet",
        "max_conversion",
    )(_amounts)

    def amount(self, table: dict[str, str], currency: str) -> int | None:
        raw = table.get(currency)
        return None if raw is None else parse_amount(raw, currency, allow_zero=True)


def parse_rules(kind: CampaignKind, raw: dict[str, Any]) -> CampaignRules:
    """Validate a campaign's rules; a DomainError (INVALID_INPUT, field `rules`) says what is wrong."""
    try:
        rules = CampaignRules.model_validate(raw)
    except (ValidationError, DomainError) as exc:
        raise DomainError(f"The campaign's rules are not valid: {_explain(exc)}", field="rules") from exc
    needs = {
        CampaignKind.DEPOSIT_MATCH: ("max_bonus", "a maximum bonus per currency"),
        CampaignKind.RELOAD: ("max_bonus", "a maximum bonus per currency"),
        CampaignKind.NO_DEPOSIT: ("fixed_amount", "an amount per currency"),
        CampaignKind.FREE_SPINS: ("spin_bet", "a spin bet value per currency"),
        CampaignKind.CASHBACK: ("cashback_max", "a maximum cashback per currency"),
    }
    attribute, what = needs[kind]
    if not getattr(rules, attribute):
        raise DomainError(f"A {kind.value} campaign needs {what} ({attribute}).", field="rules")
    if kind == CampaignKind.FREE_SPINS and (rules.free_spins < 1 or not rules.games):
        raise DomainError("A free-spins campaign needs a number of spins and the games they play on.", field="rules")
    if kind == CampaignKind.CASHBACK and rules.cashback_percent < 1:
        raise DomainError("A cashback campaign needs a percentage of net losses.", field="rules")
    return rules


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'rules'}: {e['msg']}" for e in exc.errors())
    return str(exc)


# ---- per-jurisdiction caps ------------------------------------------------------------------------


@dataclass(frozen=True)
class Caps:
    """What a jurisdiction allows of a bonus (services/rg/bonus_rules.toml)."""

    code: str
    max_wagering_multiplier: int | None
    mixed_products: bool
    first_occasion_only: bool
    min_days_to_wager: int | None
    marketing_to_excluded: bool = False


@cache
def caps_table() -> dict[str, Caps]:
    raw = tomllib.loads(CAPS_FILE.read_text())
    return {
        code: Caps(
            code=code,
            max_wagering_multiplier=spec.get("max_wagering_multiplier"),
            mixed_products=bool(spec.get("mixed_products", True)),
            first_occasion_only=bool(spec.get("first_occasion_only", False)),
            min_days_to_wager=spec.get("min_days_to_wager"),
        )
        for code, spec in raw.items()
    }


def caps(jurisdiction: str | None) -> Caps:
    table = caps_table()
    return table.get(jurisdiction or "DEFAULT") or table["DEFAULT"]


DEPOSIT_OFFERS = (CampaignKind.DEPOSIT_MATCH, CampaignKind.RELOAD)


def cap_violations(kind: CampaignKind, rules: CampaignRules, jurisdiction: str) -> list[str]:
    """Why a campaign of this kind with these rules may not be offered in a jurisdiction (empty: it may)."""
    limits = caps(jurisdiction)
    found: list[str] = []
    cap = limits.max_wagering_multiplier
    if cap is not None and rules.wagering_multiplier > cap:
        asked = rules.wagering_multiplier
        found.append(f"{jurisdiction}: wagering at most {cap}x the bonus (this campaign asks {asked}x)")
    elif (
        cap is not None
        and kind in DEPOSIT_OFFERS
        and rules.wagering_base == WageringBase.BONUS_AND_DEPOSIT
        and not _within_cap(rules, cap)
    ):
        found.append(
            f"{jurisdiction}: wagering at most {cap}x the bonus; {rules.wagering_multiplier}x of bonus and deposit "
            f"at a {rules.match_percent}% match asks at least "
            f"{rules.wagering_multiplier * (rules.match_percent + 100) / rules.match_percent:g}x the bonus"
        )
    if not limits.mixed_products and len(set(rules.products)) > 1:
        found.append(f"{jurisdiction}: no offers mixing products ({', '.join(sorted(set(rules.products)))})")
    if limits.first_occasion_only and rules.eligibility.max_claims_per_player > 1:
        found.append(f"{jurisdiction}: a bonus only on the first occasion (once per player)")
    if limits.min_days_to_wager is not None and rules.days_to_wager < limits.min_days_to_wager:
        found.append(
            f"{jurisdiction}: at least {limits.min_days_to_wager} days to meet the conditions "
            f"(this campaign gives {rules.days_to_wager})"
        )
    return found


def _within_cap(rules: CampaignRules, cap: int) -> bool:
    """Can wagering on bonus + deposit stay within `cap` x the bonus? Its best case is a deposit the match
    does not cap, where the bonus is match% of it: multiplier x (bonus + deposit) = multiplier x
    (1 + 100 / match%) x bonus. A bigger deposit (the bonus capped by `max_bonus`) only raises it, and
    is clamped when issued (`required_wagering`); a rule whose best case is already above is refused.
    (Offers without a deposit wager on the bonus alone.)"""
    return rules.wagering_multiplier * (rules.match_percent + 100) <= cap * rules.match_percent


def required_wagering(rules: CampaignRules, amount: int, deposit: int, jurisdiction: str | None) -> tuple[int, int]:
    """The wagering a bonus of `amount` (on a deposit of `deposit`) requires, and what the rules asked before
    the jurisdiction's cap: the cap is on the wagering measured against the bonus, whatever the base, so
    a bonus never requires more than cap x its amount (clamped, docs/bonuses.md)."""
    base = amount + deposit if rules.wagering_base == WageringBase.BONUS_AND_DEPOSIT else amount
    asked = rules.wagering_multiplier * base
    cap = caps(jurisdiction).max_wagering_multiplier
    return (asked if cap is None else min(asked, cap * amount)), asked


def refuse_violations(found: list[str]) -> None:
    if found:
        raise DomainError(
            "Not allowed by the jurisdiction's bonus rules: " + "; ".join(found) + ".",
            field="rules",
            code=ErrorCode.BONUS_NOT_ALLOWED,
        )


def days(n: int) -> timedelta:
    return timedelta(days=n)
