"""Payment limits and card BIN rules as data (kept with the routing rules in each routing version).

- A `PaymentLimit` caps one kind of payment (deposit or withdrawal) in one currency, for some methods (None:
  all): each payment's amount (`max_amount`), and per player within a rolling window of `window_hours` how many
  (`max_count`) and how much (`max_total`). With `min_risk_score` it only applies to players whose risk score is
  at least that (tighter limits for riskier players); the limits that apply all hold at once.
- A `BinRule` names a range of card BINs (`bin_from`..`bin_to`, digit prefixes of one length, 6 to 8): the
  issuing `country` of those cards (what routing's BIN-country condition reads) and whether cards in it are
  refused (`block`). The first range holding a card's BIN gives its country. A rule with no range and a
  `country` blocks the cards of that issuing country (as the ranges give it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def _group(value: Any) -> frozenset[str] | None:
    return frozenset(str(v) for v in value) if value else None


@dataclass(frozen=True)
class PaymentLimit:
    name: str
    kind: str  # deposit | withdrawal
    currency: str
    methods: frozenset[str] | None = None
    max_amount: str | None = None  # decimal strings in the currency
    window_hours: int | None = None
    max_count: int | None = None
    max_total: str | None = None
    min_risk_score: int | None = None
    enabled: bool = True

    def applies(self, *, kind: str, method: str, currency: str, risk_score: int) -> bool:
        return (
            self.enabled
            and self.kind == kind
            and self.currency == currency
            and (self.methods is None or method in self.methods)
            and (self.min_risk_score is None or risk_score >= self.min_risk_score)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "currency": self.currency,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "max_amount": self.max_amount,
            "window_hours": self.window_hours,
            "max_count": self.max_count,
            "max_total": self.max_total,
            "min_risk_score": self.min_risk_score,
            "enabled": self.enabled,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PaymentLimit:
        def number(name: str) -> int | None:
            value = raw.get(name)
            return int(value) if value is not None else None

        return cls(
            name=str(raw["name"]),
            kind=str(raw["kind"]),
            currency=str(raw["currency"]),
            methods=_group(raw.get("methods")),
            max_amount=raw.get("max_amount"),
            window_hours=number("window_hours"),
            max_count=number("max_count"),
            max_total=raw.get("max_total"),
            min_risk_score=number("min_risk_score"),
            enabled=bool(raw.get("enabled", True)),
        )


@dataclass(frozen=True)
class BinRule:
    name: str
    bin_from: str | None
    bin_to: str | None
    country: str | None = None
    block: bool = False
    reason: str = ""

    def holds(self, card_bin: str) -> bool:
        if self.bin_from is None or self.bin_to is None:
            return False
        width = len(self.bin_from)
        return len(card_bin) >= width and self.bin_from <= card_bin[:width] <= self.bin_to

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bin_from": self.bin_from,
            "bin_to": self.bin_to,
            "country": self.country,
            "block": self.block,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BinRule:
        return cls(
            name=str(raw["name"]),
            bin_from=raw.get("bin_from"),
            bin_to=raw.get("bin_to"),
            country=raw.get("country"),
            block=bool(raw.get("block", False)),
            reason=str(raw.get("reason") or ""),
        )


@dataclass(frozen=True)
class CardVerdict:
    """What the BIN rules say of a card: its issuing country (None: unknown) and the rule refusing it."""

    country: str | None
    blocked_by: BinRule | None


def card_verdict(rules: Sequence[BinRule], card_bin: str | None) -> CardVerdict:
    if not card_bin:
        return CardVerdict(None, None)
    holding = [r for r in rules if r.holds(card_bin)]
    country = next((r.country for r in holding if r.country), None)
    by_country = [r for r in rules if r.bin_from is None and r.block and country and r.country == country]
    return CardVerdict(country, next((r for r in [*holding, *by_country] if r.block), None))
