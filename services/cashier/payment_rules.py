"""Payment limits and card BIN rules as data (kept with the routing rules in each routing version).

- A `PaymentLimit` caps one kind of payment (deposit or withdrawal) in one currency, for some methods (None:
  all): each payment's amount (`max_amount`), and per player within a rolling window of `window_hours` how many
  (`max_count`) and how much (`max_total`). With `min_risk_score` it only applies to players whose risk score is
  at least that (tighter limits for riskier players); the limits that apply all hold at once.
- A `BinRule` names a range of card BINs (`bin_from`..`bin_to`, digit prefixes of one length, 6 to 8): the
  issuing `country` of those cards (what routing's BIN-country condition reads) and whether cards in it are
  refused (`block`). The first range holding a card's BIN gives its country. A rule with no range and a
  `country` blocks the cards of that issuing country (as the ranges give it).
- A blocking rule says what happens when it cannot decide (`on_unknown`, `BinUnknown`): the card's BIN is unknown
  (the vault's lookup failed or gave none) for a range rule, or its issuing country is (no BIN, or no range holds
  it) for a country rule. `refuse` (fail closed, the default for blocking rules): refused CARD_BIN_UNKNOWN;
  `review`: the deposit is held for the risk desk (services/cashier/risk_holds.py), no PSP asked; `allow` (fail
  open): it goes on. A rule that blocks nothing never refuses, whatever it says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
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


class BinUnknown(StrEnum):
    """What a blocking BIN rule does with a card it cannot decide on (its BIN or issuing country unknown)."""

    ALLOW = "allow"  # fail open: the card goes on
    REFUSE = "refuse"  # fail closed: refused CARD_BIN_UNKNOWN
    REVIEW = "review"  # held for the risk desk, no PSP asked


@dataclass(frozen=True)
class BinRule:
    name: str
    bin_from: str | None
    bin_to: str | None
    country: str | None = None
    block: bool = False
    reason: str = ""
    on_unknown: BinUnknown | None = None  # None: REFUSE for a rule that blocks, ALLOW otherwise

    @property
    def when_unknown(self) -> BinUnknown:
        if not self.block:
            return BinUnknown.ALLOW
        return self.on_unknown or BinUnknown.REFUSE

    def undecided(self, card_bin: str | None, country: str | None) -> bool:
        """Can this blocking rule not say whether the card is one it blocks? A range rule without the card's BIN;
        a country rule without the card's issuing country."""
        if not self.block:
            return False
        if self.bin_from is not None:
            return not card_bin
        return country is None

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
            "on_unknown": self.when_unknown.value,
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
            on_unknown=BinUnknown(raw["on_unknown"]) if raw.get("on_unknown") else None,
        )


@dataclass(frozen=True)
class CardVerdict:
    """What the BIN rules say of a card: its issuing country (None: unknown), the rule refusing it, and, when no
    rule refuses it, the first blocking rule that could not decide and refuses (`unknown_refused_by`) or holds
    (`review_by`) it."""

    country: str | None
    blocked_by: BinRule | None
    unknown_refused_by: BinRule | None = None
    review_by: BinRule | None = None


def card_verdict(rules: Sequence[BinRule], card_bin: str | None) -> CardVerdict:
    """The verdict on a card with this BIN (None: the lookup failed or gave none)."""
    holding = [r for r in rules if card_bin and r.holds(card_bin)]
    country = next((r.country for r in holding if r.country), None)
    by_country = [r for r in rules if r.bin_from is None and r.block and country and r.country == country]
    blocked = next((r for r in [*holding, *by_country] if r.block), None)
    if blocked is not None:
        return CardVerdict(country, blocked)
    undecided = [r for r in rules if r.undecided(card_bin, country)]
    refusing = next((r for r in undecided if r.when_unknown == BinUnknown.REFUSE), None)
    reviewing = next((r for r in undecided if r.when_unknown == BinUnknown.REVIEW), None)
    return CardVerdict(country, None, refusing, None if refusing else reviewing)
