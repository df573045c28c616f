"""A segment's rules as validated data, and their one translation into SQL.

Rules are `{"match": "all" | "any", "conditions": [...]}`: every condition (or any one) holds. A condition
names a `field` and an `op`:

- lists (`in`, `not_in` with `values`): `country`, `language`, `currency`, `jurisdiction`, `kyc_level`,
  `kyc_status` (`none` for a player KYC never looked at), `tag` (has any of / none of the tags);
- flags (`is` with `flag`): `marketing_consent`;
- numbers (`eq`, `ne`, `gt`, `gte`, `lt`, `lte` with `value`): `days_since_registration`,
  `days_since_last_deposit`, `days_since_last_bet`, `days_since_last_activity` (recency: a player who never
  deposited / bet / played has no recency, so no recency condition holds for them; `deposit_count = 0`
  finds them), `deposit_count` (frequency; within the last `days` days, or ever), `bonuses_issued`,
  `bonuses_completed` (within `days`, or ever), `vip_level` (the highest `vip-N` tag, 0 without one) and
  `risk_score` (0 to 100, services/risk/score.py);
- money (the same comparisons with `amount` and `currency`): `deposit_amount` (monetary: deposits) and
  `ngr` (stakes - wins - bonus cost), within `days` or ever; a money condition holds only for players of its
  currency (no conversion: a krona player has no euro amount, not an amount of zero euros).

Recency, frequency and money read the report projection `report_player_days` (UTC days; "within 30 days" is
today and the 29 days before). Every rule compiles to one WHERE clause over `players p` with named
parameters (`where`), run by the preview, by the membership of one or many players and by the sweep alike, so
the three never disagree. The clause always keeps out who no audience may hold: players not active, erased,
or in a time-out or self-exclusion now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import DomainError, ErrorCode
from core.money import currency as known_currency
from core.money import parse_amount
from services import player_locale

MAX_CONDITIONS = 30
MAX_VALUES = 200
MAX_DAYS = 3650


class Match(StrEnum):
    ALL = "all"
    ANY = "any"


class Op(StrEnum):
    IN = "in"
    NOT_IN = "not_in"
    IS = "is"
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


class SegmentField(StrEnum):
    COUNTRY = "country"
    LANGUAGE = "language"
    CURRENCY = "currency"
    JURISDICTION = "jurisdiction"
    KYC_LEVEL = "kyc_level"
    KYC_STATUS = "kyc_status"
    TAG = "tag"
    MARKETING_CONSENT = "marketing_consent"
    DAYS_SINCE_REGISTRATION = "days_since_registration"
    DAYS_SINCE_LAST_DEPOSIT = "days_since_last_deposit"
    DAYS_SINCE_LAST_BET = "days_since_last_bet"
    DAYS_SINCE_LAST_ACTIVITY = "days_since_last_activity"
    DEPOSIT_COUNT = "deposit_count"
    BONUSES_ISSUED = "bonuses_issued"
    BONUSES_COMPLETED = "bonuses_completed"
    VIP_LEVEL = "vip_level"
    RISK_SCORE = "risk_score"
    DEPOSIT_AMOUNT = "deposit_amount"
    NGR = "ngr"


_LIST_OPS = frozenset({Op.IN, Op.NOT_IN})
_COMPARISONS = {Op.EQ: "=", Op.NE: "<>", Op.GT: ">", Op.GTE: ">=", Op.LT: "<", Op.LTE: "<="}
_DAY_SUMS = "(SELECT coalesce(sum(d.{column}), 0) FROM report_player_days d WHERE d.player_id = p.id{window})"

# The SQL of each list field's value, of each number's (`{window}`: the optional `days` window) and of
# each money's (`{currency}`: its parameter).
_LISTS: dict[SegmentField, str] = {
    SegmentField.COUNTRY: "p.country",
    SegmentField.LANGUAGE: "p.language",
    SegmentField.CURRENCY: "p.currency",
    SegmentField.JURISDICTION: "p.jurisdiction",
    SegmentField.KYC_LEVEL: "coalesce((SELECT k.level FROM kyc_states k WHERE k.player_id = p.id), 'none')",
    SegmentField.KYC_STATUS: "coalesce((SELECT k.status FROM kyc_states k WHERE k.player_id = p.id), 'none')",
}
_LAST_DAY = "(SELECT max(d.day) FROM report_player_days d WHERE d.player_id = p.id{only})"
_NUMBERS: dict[SegmentField, str] = {
    SegmentField.DAYS_SINCE_REGISTRATION: "(CAST(:today AS date) - CAST(p.created_at AT TIME ZONE 'UTC' AS date))",
    SegmentField.DAYS_SINCE_LAST_DEPOSIT: "(CAST(:today AS date) - "
    + _LAST_DAY.format(only=" AND d.deposit_count > 0")
    + ")",
    SegmentField.DAYS_SINCE_LAST_BET: "(CAST(:today AS date) - " + _LAST_DAY.format(only=" AND d.bet_count > 0") + ")",
    SegmentField.DAYS_SINCE_LAST_ACTIVITY: "(CAST(:today AS date) - "
    + _LAST_DAY.format(only=" AND (d.bet_count > 0 OR d.deposit_count > 0 OR d.withdrawal_count > 0)")
    + ")",
    SegmentField.DEPOSIT_COUNT: _DAY_SUMS.replace("{column}", "deposit_count"),
    SegmentField.BONUSES_ISSUED: "(SELECT count(*) FROM player_bonuses b WHERE b.player_id = p.id{window})",
    SegmentField.BONUSES_COMPLETED: "(SELECT count(*) FROM player_bonuses b WHERE b.player_id = p.id "
    "AND b.status = 'completed'{window})",
    SegmentField.VIP_LEVEL: "coalesce((SELECT max(CAST(substring(t.tag FROM 5) AS integer)) FROM crm_player_tags t "
    "WHERE t.player_id = p.id AND t.tag ~ '^vip-[0-9]{1,3}$'), 0)",
    SegmentField.RISK_SCORE: "least(100, coalesce((SELECT sum(r.points) FROM risk_score_items r "
    "WHERE r.player_id = p.id AND r.expires_at > CAST(:now AS timestamptz)), 0))",
}
_MONEY: dict[SegmentField, str] = {
    SegmentField.DEPOSIT_AMOUNT: "(SELECT coalesce(sum(d.deposits), 0) FROM report_player_days d "
    "WHERE d.player_id = p.id AND d.currency = {currency}{window})",
    SegmentField.NGR: "(SELECT coalesce(sum(d.stakes - d.wins - d.bonus_cost), 0) FROM report_player_days d "
    "WHERE d.player_id = p.id AND d.currency = {currency}{window})",
}
# Fields whose `days` window is a day range of the projection, or a time range of bonuses issued.
_DAY_WINDOW = " AND d.day > CAST(:today AS date) - {days}"
_BONUS_WINDOW = " AND b.issued_at > CAST(:now AS timestamptz) - make_interval(days => {days})"
_WINDOWED = {
    SegmentField.DEPOSIT_COUNT: _DAY_WINDOW,
    SegmentField.DEPOSIT_AMOUNT: _DAY_WINDOW,
    SegmentField.NGR: _DAY_WINDOW,
    SegmentField.BONUSES_ISSUED: _BONUS_WINDOW,
    SegmentField.BONUSES_COMPLETED: _BONUS_WINDOW,
}
_UPPER = frozenset({SegmentField.COUNTRY, SegmentField.CURRENCY, SegmentField.JURISDICTION})

# Who no audience holds, whatever its rules.
REACHABLE = (
    "p.status = 'active' AND p.erased_at IS NULL AND NOT EXISTS (SELECT 1 FROM rg_exclusions x "
    "WHERE x.player_id = p.id AND x.starts_at <= CAST(:now AS timestamptz) "
    "AND (x.ends_at IS NULL OR x.ends_at > CAST(:now AS timestamptz)))"
)


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: SegmentField
    op: Op
    values: list[str] | None = Field(default=None, max_length=MAX_VALUES)
    flag: bool | None = None
    value: int | None = Field(default=None, ge=0, le=10**9)
    amount: str | None = Field(default=None, max_length=32)
    currency: str | None = Field(default=None, max_length=8)
    days: int | None = Field(default=None, ge=1, le=MAX_DAYS)

    @model_validator(mode="after")
    def _shape(self) -> Condition:
        f = self.field
        if f in _LISTS or f == SegmentField.TAG:
            _need(self.op in _LIST_OPS, "op", f"{f.value} takes in or not_in")
            _need(bool(self.values), "values", f"{f.value} needs at least one value")
            _need(all(0 < len(v) <= 40 for v in self.values or []), "values", "each value has 1 to 40 characters")
            _only(self, "values")
        elif f == SegmentField.MARKETING_CONSENT:
            _need(self.op == Op.IS, "op", f"{f.value} takes is")
            _need(self.flag is not None, "flag", f"{f.value} needs flag true or false")
            _only(self, "flag")
        elif f in _MONEY:
            _need(self.op in _COMPARISONS, "op", f"{f.value} takes a comparison (eq, ne, gt, gte, lt, lte)")
            _need(bool(self.amount) and bool(self.currency), "amount", f"{f.value} needs an amount and a currency")
            _only(self, "amount", "currency", "days")
        else:
            _need(self.op in _COMPARISONS, "op", f"{f.value} takes a comparison (eq, ne, gt, gte, lt, lte)")
            _need(self.value is not None, "value", f"{f.value} needs a value")
            _only(self, "value", *(("days",) if f in _WINDOWED else ()))
        return self


def _need(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{field}: {message}")


def _only(condition: Condition, *allowed: str) -> None:
    for name in ("values", "flag", "value", "amount", "currency", "days"):
        if name not in allowed and getattr(condition, name) is not None:
            raise ValueError(f"{name}: {condition.field.value} takes no {name}")


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    match: Match = Match.ALL
    conditions: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)


def parse(data: Any) -> Rules:
    """Rules from their JSON form (a segment's stored `rules`, an API input), or a DomainError naming the
    condition at fault (`rules.conditions.2.op`)."""
    try:
        rules = Rules.model_validate(data)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        field, _, said = message.partition(": ")
        if said and field in {"values", "flag", "value", "amount", "currency", "days", "op"}:
            where, message = f"{where}.{field}".lstrip("."), said
        raise DomainError(message, field=f"rules.{where}" if where else "rules") from invalid
    for i, condition in enumerate(rules.conditions):
        if condition.field == SegmentField.LANGUAGE:  # codes as players' languages are stored (pt_br: pt-BR)
            for value in condition.values or []:
                player_locale.language(value, field=f"rules.conditions.{i}.values")
        if condition.field in _MONEY:  # the amount must be one in its currency
            assert condition.amount is not None
            assert condition.currency is not None
            known_currency(condition.currency, field=f"rules.conditions.{i}.currency")
            parse_amount(condition.amount, condition.currency, field=f"rules.conditions.{i}.amount", allow_zero=True)
    return rules


# The conditions that read what a role may not see of a player: a segment over them would tell its builder each
# member's KYC state or risk score (a preview of "risk score above 80"). Their schema coordinate is the right needed.
GUARDED = {
    SegmentField.KYC_LEVEL: "Player.kyc",
    SegmentField.KYC_STATUS: "Player.kyc",
    SegmentField.RISK_SCORE: "Player.risk",
}


def refuse_hidden(data: Any, allowed: frozenset[str]) -> None:
    """Refuse (NOT_ALLOWED) rules with a condition on what the viewer may not read of a player (`GUARDED`);
    `allowed`: the viewer's schema coordinates. Rules that do not parse are left to `parse`."""
    conditions = data.get("conditions") if isinstance(data, dict) else None
    for i, condition in enumerate(conditions if isinstance(conditions, list) else []):
        name = condition.get("field") if isinstance(condition, dict) else None
        needed = GUARDED.get(SegmentField(name)) if name in _FIELD_NAMES else None
        if needed is not None and needed not in allowed:
            raise DomainError(
                f"A condition on {name} needs the right to read it on a player ({needed}).",
                field=f"rules.conditions.{i}.field",
                code=ErrorCode.NOT_ALLOWED,
            )


_FIELD_NAMES = frozenset(f.value for f in SegmentField)


def dump(rules: Rules) -> dict[str, Any]:
    """The stored form: canonical (upper-case codes, no empty keys)."""
    data: dict[str, Any] = rules.model_dump(mode="json", exclude_none=True)
    for condition in data["conditions"]:
        if condition["field"] in {f.value for f in _UPPER}:
            condition["values"] = [v.upper() for v in condition["values"]]
        if condition["field"] == SegmentField.LANGUAGE.value:
            condition["values"] = [_language(v) for v in condition["values"]]
        if "currency" in condition:
            condition["currency"] = condition["currency"].upper()
    return data


def _language(code: str) -> str:
    """A language code as players' are stored; one `parse` would refuse now (rules stored before) as it is, so
    the SQL of stored rules never fails (it matches nobody)."""
    try:
        return player_locale.language(code)
    except DomainError:
        return code


@dataclass(frozen=True)
class Where:
    """A WHERE clause over `players p` and the values of its named parameters (`:today` and `:now` are the
    caller's: `params(now)` adds them)."""

    sql: str
    values: dict[str, Any]

    def params(self, now: datetime, **more: Any) -> dict[str, Any]:
        return {**self.values, "today": now.date(), "now": now, **more}


def where(rules: Rules) -> Where:
    """The rules as SQL: the reachable players of whom the rules hold (not yet narrowed to a brand)."""
    values: dict[str, Any] = {}

    def bind(value: Any) -> str:
        name = f"v{len(values)}"
        values[name] = value
        return f":{name}"

    parts = [_condition(c, bind) for c in rules.conditions]
    joined = f" {'AND' if rules.match == Match.ALL else 'OR'} ".join(f"({part})" for part in parts)
    return Where(f"{REACHABLE} AND ({joined or 'true'})", values)


def _condition(c: Condition, bind: Callable[[Any], str]) -> str:
    if c.field == SegmentField.TAG:
        has = f"EXISTS (SELECT 1 FROM crm_player_tags t WHERE t.player_id = p.id AND t.tag = ANY({bind(c.values)}))"  # noqa: S608
        return has if c.op == Op.IN else f"NOT {has}"
    if c.field in _LISTS:
        values = [v.upper() for v in c.values or []] if c.field in _UPPER else list(c.values or [])
        if c.field == SegmentField.LANGUAGE:
            values = [_language(v) for v in values]
        test = f"{_LISTS[c.field]} = ANY(CAST({bind(values)} AS text[]))"
        return test if c.op == Op.IN else f"NOT ({test})"
    if c.field == SegmentField.MARKETING_CONSENT:
        return f"p.marketing_consent = {bind(bool(c.flag))}"
    window = _WINDOWED[c.field].format(days=int(c.days)) if c.days is not None and c.field in _WINDOWED else ""
    if c.field in _MONEY:
        assert c.amount is not None
        assert c.currency is not None
        currency = c.currency.upper()
        minor = parse_amount(c.amount, currency, allow_zero=True)
        code = bind(currency)
        expression = _MONEY[c.field].format(currency=code, window=window)
        # Only a player of that currency is measured in it: another's sum in it is no zero of theirs.
        return f"p.currency = {code} AND {expression} {_COMPARISONS[c.op]} {bind(minor)}"
    expression = _NUMBERS[c.field].replace("{window}", window)
    return f"{expression} {_COMPARISONS[c.op]} {bind(int(c.value or 0))}"
