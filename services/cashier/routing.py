"""Routing: which PSPs to try, in which order, for a payment; and the adapter to reach each.

The rules are data (services/cashier/routing_config.py keeps them, versioned, in `payment_routing_versions`;
staff edit them through services/cashier/routing_admin.py). This module only evaluates them, in one place
(`explain`), so the cascade a payment takes and the back office's preview of it never differ:
- the rules are read by priority (lowest first); a rule matches when every condition it sets holds
  (kind, method, country, currency, amount range, BIN country, risk score range, hour of day in UTC);
- the first matching rule whose PSPs can take the payment decides alone: its PSPs, in its order or, when it
  gives weights, in a weighted draw seeded by the payment (a retry draws the same order), each once;
- a PSP can take a payment when its adapter exists (`ADAPTERS`), supports the method for the payment's kind,
  is not disabled in the PSP terms and the amount is inside its limits for the currency.
With no version stored yet, `DEFAULT_RULES` are the rules (the first edit stores them with the change).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from core.money import format_amount
from core.settings import Settings
from models.payments import PaymentKind
from services.cashier.payments import PaymentUnavailable
from services.cashier.psp import PspAdapter
from services.cashier.psp.adapters import ADAPTERS
from services.risk.actions import Restrictions

if TYPE_CHECKING:
    from services.cashier.routing_config import RoutingConfig


def _group(value: Any) -> frozenset[str] | None:
    return frozenset(str(v) for v in value) if value else None


@dataclass(frozen=True)
class RoutingRule:
    """PSPs to try, in order, for payments matching every condition given (None: any)."""

    psps: tuple[str, ...]
    priority: int = 100
    kinds: frozenset[str] | None = None
    methods: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    currencies: frozenset[str] | None = None
    min_amount: str | None = None  # decimal strings in the payment's currency, inclusive
    max_amount: str | None = None
    name: str = ""  # staff's handle for the rule (unique in a version); empty: derived (`handle`)
    weights: tuple[int, ...] = ()  # one per PSP: the first PSP is drawn by weight; empty: in order
    bin_countries: frozenset[str] | None = None  # the card's issuing country (from the BIN rules)
    min_risk_score: int | None = None  # inclusive, 0..100
    max_risk_score: int | None = None
    hours: tuple[int, int] | None = None  # [from, to) in UTC hours, 0..24; from > to wraps past midnight
    enabled: bool = True

    @property
    def handle(self) -> str:
        if self.name:
            return self.name
        return f"{'-'.join(sorted(self.methods or ())) or 'any'}-{self.priority}"

    def mismatch(self, query: RouteQuery) -> str | None:
        """Why the rule does not match the payment (None: it matches)."""
        if not self.enabled:
            return "disabled"
        for label, allowed, value in (
            ("kind", self.kinds, query.kind),
            ("method", self.methods, query.method),
            ("country", self.countries, query.country),
            ("currency", self.currencies, query.currency),
            ("BIN country", self.bin_countries, query.bin_country),
        ):
            if allowed is not None and value not in allowed:
                return f"{label} {value or 'unknown'} not in {', '.join(sorted(allowed))}"
        amount = Decimal(format_amount(query.amount, query.currency))
        if self.min_amount is not None and amount < Decimal(self.min_amount):
            return f"amount below {self.min_amount}"
        if self.max_amount is not None and amount > Decimal(self.max_amount):
            return f"amount above {self.max_amount}"
        score = query.risk_score or 0
        if self.min_risk_score is not None and score < self.min_risk_score:
            return f"risk score below {self.min_risk_score}"
        if self.max_risk_score is not None and score > self.max_risk_score:
            return f"risk score above {self.max_risk_score}"
        if self.hours is not None:
            start, end = self.hours
            hour = query.at.hour
            inside = start <= hour < end if start <= end else (hour >= start or hour < end)
            if not inside:
                return f"outside {start:02d}:00-{end:02d}:00 UTC"
        return None

    def matches(self, *, kind: str, method: str, country: str, currency: str, amount: int) -> bool:
        query = RouteQuery(kind=kind, method=method, country=country, currency=currency, amount=amount)
        return self.mismatch(query) is None

    def as_dict(self) -> dict[str, Any]:
        """The rule as stored in a version (and read back by `from_dict`)."""

        def listed(value: frozenset[str] | None) -> list[str] | None:
            return sorted(value) if value is not None else None

        return {
            "name": self.handle,
            "psps": list(self.psps),
            "weights": list(self.weights),
            "priority": self.priority,
            "kinds": listed(self.kinds),
            "methods": listed(self.methods),
            "countries": listed(self.countries),
            "currencies": listed(self.currencies),
            "bin_countries": listed(self.bin_countries),
            "min_amount": self.min_amount,
            "max_amount": self.max_amount,
            "min_risk_score": self.min_risk_score,
            "max_risk_score": self.max_risk_score,
            "hours": list(self.hours) if self.hours is not None else None,
            "enabled": self.enabled,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RoutingRule:
        hours = raw.get("hours")

        def score(name: str) -> int | None:
            value = raw.get(name)
            return int(value) if value is not None else None

        return cls(
            psps=tuple(str(p) for p in raw["psps"]),
            priority=int(raw.get("priority", 100)),
            kinds=_group(raw.get("kinds")),
            methods=_group(raw.get("methods")),
            countries=_group(raw.get("countries")),
            currencies=_group(raw.get("currencies")),
            min_amount=raw.get("min_amount"),
            max_amount=raw.get("max_amount"),
            name=str(raw.get("name") or ""),
            weights=tuple(int(w) for w in raw.get("weights") or ()),
            bin_countries=_group(raw.get("bin_countries")),
            min_risk_score=score("min_risk_score"),
            max_risk_score=score("max_risk_score"),
            hours=(int(hours[0]), int(hours[1])) if hours else None,
            enabled=bool(raw.get("enabled", True)),
        )

    from_setting = from_dict  # the name the PSP_ROUTING setting's parser had


@dataclass(frozen=True)
class PspTerms:
    """What the operator agreed with one PSP: whether it is used, its limits per currency, its fees."""

    enabled: bool = True
    limits: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)  # currency: (min, max)
    fee_percent: str = "0"
    fee_fixed: Mapping[str, str] = field(default_factory=dict)  # currency: decimal string

    def refusal(self, amount: int, currency: str) -> str | None:
        """Why this PSP cannot take the amount (None: it can)."""
        if not self.enabled:
            return "disabled"
        low, high = self.limits.get(currency, (None, None))
        value = Decimal(format_amount(amount, currency))
        if low is not None and value < Decimal(low):
            return f"below its minimum {low} {currency}"
        if high is not None and value > Decimal(high):
            return f"above its maximum {high} {currency}"
        return None

    def fee(self, amount: int, currency: str) -> Decimal:
        """The PSP's fee on the amount, in the currency's units (for the preview and the choice of staff)."""
        value = Decimal(format_amount(amount, currency))
        return value * Decimal(self.fee_percent) / 100 + Decimal(self.fee_fixed.get(currency, "0"))


@dataclass(frozen=True)
class RouteQuery:
    """The payment being routed, as far as the rules can see it."""

    kind: str
    method: str
    country: str
    currency: str
    amount: int
    bin_country: str | None = None
    risk_score: int | None = None
    at: datetime = field(default_factory=clock.now)
    seed: str = ""  # the weighted draw's seed (the payment's key): a retry draws the same order


@dataclass(frozen=True)
class RuleLook:
    """One rule as the evaluation saw it: why it did not match, or the PSPs it offered and dropped."""

    rule: RoutingRule
    mismatch: str | None
    dropped: tuple[tuple[str, str], ...] = ()  # (psp, why it cannot take the payment)
    chosen: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteExplanation:
    psps: tuple[str, ...]
    decided_by: RoutingRule | None
    looks: tuple[RuleLook, ...]


def _drawn(rule: RoutingRule, seed: str) -> list[str]:
    """The rule's PSPs in its order, or by a weighted draw without replacement (Efraimidis-Spirakis keys
    from the seed's hash: deterministic per payment; weight 0 only ever comes after the others)."""
    if not rule.weights or len(rule.weights) != len(rule.psps):
        return list(rule.psps)

    def key(index: int) -> tuple[int, float]:
        weight = rule.weights[index]
        if weight <= 0:
            return (0, -index)  # after every weighted PSP, in the listed order
        digest = hashlib.sha256(f"{seed}:{rule.handle}:{index}".encode()).digest()
        u = (int.from_bytes(digest[:8], "big") + 1) / (2**64 + 2)
        return (1, math.log(u) / weight)

    order = sorted(range(len(rule.psps)), key=key, reverse=True)
    return [rule.psps[i] for i in order]


def explain(
    rules: Sequence[RoutingRule], query: RouteQuery, terms: Mapping[str, PspTerms] | None = None
) -> RouteExplanation:
    """The cascade for the payment and how it was reached (the first matching rule with a PSP decides)."""
    looks: list[RuleLook] = []
    for rule in sorted(rules, key=lambda r: r.priority):
        why = rule.mismatch(query)
        if why is not None:
            looks.append(RuleLook(rule, why))
            continue
        chosen: list[str] = []
        dropped: list[tuple[str, str]] = []
        for psp in _drawn(rule, query.seed):
            adapter = ADAPTERS.get(psp)
            if psp in chosen:
                continue
            if adapter is None:
                dropped.append((psp, "no such PSP"))
                continue
            methods = adapter.deposit_methods if query.kind == PaymentKind.DEPOSIT else adapter.payout_methods
            if query.method not in methods:
                dropped.append((psp, f"does not take {query.method}"))
                continue
            refusal = (terms or {}).get(psp, PspTerms()).refusal(query.amount, query.currency)
            if refusal is not None:
                dropped.append((psp, refusal))
                continue
            chosen.append(psp)
        looks.append(RuleLook(rule, None, tuple(dropped), tuple(chosen)))
        if chosen:
            return RouteExplanation(tuple(chosen), rule, tuple(looks))
    return RouteExplanation((), None, tuple(looks))


def route(
    rules: Sequence[RoutingRule],
    *,
    kind: str,
    method: str,
    country: str,
    currency: str,
    amount: int,
    terms: Mapping[str, PspTerms] | None = None,
    **context: Any,
) -> list[str]:
    """The cascade: the PSPs of the first matching rule that has some able to take the payment (`explain`).
    `context`: the rest of `RouteQuery` (bin_country, risk_score, at, seed)."""
    query = RouteQuery(kind=kind, method=method, country=country, currency=currency, amount=amount, **context)
    return list(explain(rules, query, terms).psps)


def restrict(psps: Sequence[str], *, three_ds: bool = False, allowed: Sequence[str] | None = None) -> list[str]:
    """The cascade under a player's risk restrictions (services/risk/inline.py): only the PSPs `allowed` (None:
    any), and with `three_ds` only those whose adapter can be told to challenge the card (`forces_3ds`). None
    left: the deposit fails PAYMENT_UNAVAILABLE, as with no PSP at all."""
    kept = [p for p in psps if allowed is None or p in allowed]
    if three_ds:
        kept = [p for p in kept if (adapter := ADAPTERS.get(p)) is not None and adapter.forces_3ds]
    return kept


DEFAULT_RULES: tuple[RoutingRule, ...] = (
    # Nordic cards: swiftpay acquires locally (cheaper), cardpay as fallback.
    RoutingRule(
        psps=("swiftpay", "cardpay"),
        priority=10,
        methods=frozenset({"card"}),
        countries=frozenset({"SE", "FI", "DK", "NO"}),
        name="nordic-cards",
    ),
    # Very large card deposits: only cardpay has the limits for them.
    RoutingRule(
        psps=("cardpay",),
        priority=20,
        kinds=frozenset({"deposit"}),
        methods=frozenset({"card"}),
        min_amount="10000",
        name="large-card-deposits",
    ),
    RoutingRule(psps=("cardpay", "swiftpay"), priority=30, methods=frozenset({"card"}), name="cards"),
    RoutingRule(psps=("swiftpay",), priority=40, methods=frozenset({"ewallet"}), name="ewallets"),
    RoutingRule(psps=("bankwire",), priority=50, methods=frozenset({"bank_transfer"}), name="bank-transfers"),
    RoutingRule(psps=("cryptopay",), priority=60, methods=frozenset({"crypto"}), name="crypto"),
)


async def routing_rules(db: AsyncSession) -> list[RoutingRule]:
    """The rules of the live version (the defaults before any edit), by priority."""
    from services.cashier.routing_config import live

    return sorted((await live(db)).rules, key=lambda r: r.priority)


async def _live_route(db: AsyncSession, config: RoutingConfig | None, query: RouteQuery) -> list[str]:
    """The cascade for the query under `config` (None: the live version, read here)."""
    from services.cashier.routing_config import live

    chosen = config or await live(db)
    return list(explain(chosen.rules, query, chosen.psps).psps)


async def deposit_route(
    db: AsyncSession,
    *,
    method: str,
    country: str,
    currency: str,
    amount: int,
    restrictions: Restrictions,
    bin_country: str | None = None,
    risk_score: int | None = None,
    seed: str = "",
    config: RoutingConfig | None = None,
) -> list[str]:
    """A deposit's cascade: the live rules' PSPs (`config`: the live version the caller already read), then the
    player's risk restrictions (`restrict`)."""
    query = RouteQuery(PaymentKind.DEPOSIT, method, country, currency, amount, bin_country, risk_score, seed=seed)
    psps = await _live_route(db, config, query)
    return restrict(psps, three_ds=restrictions.three_ds and method == "card", allowed=restrictions.psps)


async def payout_route(
    db: AsyncSession,
    *,
    method: str,
    country: str,
    currency: str,
    amount: int,
    seed: str = "",
    config: RoutingConfig | None = None,
    **context: Any,
) -> list[str]:
    """A payout's cascade (withdrawals, affiliate payouts) under the live rules (`config`: the live version the
    caller already read)."""
    query = RouteQuery(PaymentKind.WITHDRAWAL, method, country, currency, amount, seed=seed, **context)
    return await _live_route(db, config, query)


def adapter_for(settings: Settings, psp: str) -> PspAdapter:
    cls = ADAPTERS.get(psp)
    if cls is None or settings.psp_base_url is None or psp not in settings.psp_secrets:
        raise PaymentUnavailable(f"PSP {psp} is not configured.")
    return cls(
        settings.psp_base_url,
        settings.psp_secrets[psp],
        timeout_seconds=settings.psp_timeout_seconds,
        webhook_tolerance_seconds=settings.psp_webhook_tolerance_seconds,
    )
