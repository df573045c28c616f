"""Routing: which PSPs to try, in which order, for a payment; and the adapter to reach each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.money import format_amount
from core.settings import Settings
from models.payments import PaymentKind
from services.cashier.payments import PaymentUnavailable
from services.cashier.psp import PspAdapter
from services.cashier.psp.adapters import ADAPTERS
from services.risk.actions import Restrictions


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

    def matches(self, *, kind: str, method: str, country: str, currency: str, amount: int) -> bool:
        if self.kinds is not None and kind not in self.kinds:
            return False
        if self.methods is not None and method not in self.methods:
            return False
        if self.countries is not None and country not in self.countries:
            return False
        if self.currencies is not None and currency not in self.currencies:
            return False
        value = Decimal(format_amount(amount, currency))
        if self.min_amount is not None and value < Decimal(self.min_amount):
            return False
        return not (self.max_amount is not None and value > Decimal(self.max_amount))

    @classmethod
    def from_setting(cls, raw: Mapping[str, Any]) -> RoutingRule:
        def group(name: str) -> frozenset[str] | None:
            value = raw.get(name)
            return frozenset(str(v) for v in value) if value else None

        return cls(
            psps=tuple(str(p) for p in raw["psps"]),
            priority=int(raw.get("priority", 100)),
            kinds=group("kinds"),
            methods=group("methods"),
            countries=group("countries"),
            currencies=group("currencies"),
            min_amount=raw.get("min_amount"),
            max_amount=raw.get("max_amount"),
        )


DEFAULT_RULES: tuple[RoutingRule, ...] = (
    # Nordic cards: swiftpay acquires locally (cheaper), cardpay as fallback.
    RoutingRule(
        psps=("swiftpay", "cardpay"),
        priority=10,
        methods=frozenset({"card"}),
        countries=frozenset({"SE", "FI", "DK", "NO"}),
    ),
    # Very large card deposits: only cardpay has the limits for them.
    RoutingRule(
        psps=("cardpay",), priority=20, kinds=frozenset({"deposit"}), methods=frozenset({"card"}), min_amount="10000"
    ),
    RoutingRule(psps=("cardpay", "swiftpay"), priority=30, methods=frozenset({"card"})),
    RoutingRule(psps=("swiftpay",), priority=40, methods=frozenset({"ewallet"})),
    RoutingRule(psps=("bankwire",), priority=50, methods=frozenset({"bank_transfer"})),
    RoutingRule(psps=("cryptopay",), priority=60, methods=frozenset({"crypto"})),
)


def routing_rules(settings: Settings) -> list[RoutingRule]:
    rules = [RoutingRule.from_setting(raw) for raw in settings.psp_routing] or list(DEFAULT_RULES)
    return sorted(rules, key=lambda r: r.priority)


def route(
    rules: Sequence[RoutingRule], *, kind: str, method: str, country: str, currency: str, amount: int
) -> list[str]:
    """The cascade: the PSPs of the matching rules, by priority, each once, that support the method.

    The first matching rule decides alone; lower-priority rules only add PSPs when the first one
    lists none that can take the payment.
    """
    for rule in sorted(rules, key=lambda r: r.priority):
        if not rule.matches(kind=kind, method=method, country=country, currency=currency, amount=amount):
            continue
        chosen: list[str] = []
        for psp in rule.psps:
            adapter = ADAPTERS.get(psp)
            if adapter is None or psp in chosen:
                continue
            methods = adapter.deposit_methods if kind == PaymentKind.DEPOSIT else adapter.payout_methods
            if method in methods:
                chosen.append(psp)
        if chosen:
            return chosen
    return []


def restrict(psps: Sequence[str], *, three_ds: bool = False, allowed: Sequence[str] | None = None) -> list[str]:
    """The cascade under a player's risk restrictions (services/risk/inline.py): only the PSPs `allowed` (None:
    any), and with `three_ds` only those whose adapter can be told to challenge the card (`forces_3ds`). None
    left: the deposit fails PAYMENT_UNAVAILABLE, as with no PSP at all."""
    kept = [p for p in psps if allowed is None or p in allowed]
    if three_ds:
        kept = [p for p in kept if (adapter := ADAPTERS.get(p)) is not None and adapter.forces_3ds]
    return kept


def deposit_route(
    settings: Settings, *, method: str, country: str, currency: str, amount: int, restrictions: Restrictions
) -> list[str]:
    """A deposit's cascade: the routing rules' PSPs, then the player's risk restrictions (`restrict`)."""
    psps = route(
        routing_rules(settings),
        kind=PaymentKind.DEPOSIT,
        method=method,
        country=country,
        currency=currency,
        amount=amount,
    )
    return restrict(psps, three_ds=restrictions.three_ds and method == "card", allowed=restrictions.psps)


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
