"""Routing types: the cashier's routing versions (rules, PSP terms, payment limits, BIN rules), their edits and
the preview of the route a payment would take (services/cashier/routing_admin.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import strawberry

from schema.base import UserError
from schema.cashier import PaymentKind, PaymentMethod
from schema.input_limits import REASON, text
from services.cashier.payment_rules import BinRule, BinUnknown, PaymentLimit
from services.cashier.routing import PspTerms
from services.cashier.routing import RoutingRule as RuleData
from services.cashier.routing_admin import Preview
from services.cashier.routing_config import RoutingConfig


def _sorted(values: frozenset[str] | None) -> list[str] | None:
    return sorted(values) if values is not None else None


@strawberry.type(description="A routing rule: the PSPs to try, in order, for the payments matching its conditions.")
class RoutingRule:
    name: str
    psps: list[str] = strawberry.field(description="The cascade, in order (or drawn by weight)")
    weights: list[int] = strawberry.field(description="One per PSP: the first is drawn by weight; empty: in order")
    priority: int = strawberry.field(description="Rules are read lowest first; the first matching one decides")
    kinds: list[PaymentKind] | None = strawberry.field(description="Null: deposits and withdrawals")
    methods: list[PaymentMethod] | None
    countries: list[str] | None = strawberry.field(description="The player's country (ISO 3166)")
    currencies: list[str] | None
    bin_countries: list[str] | None = strawberry.field(description="The card's issuing country (the BIN rules')")
    min_amount: str | None = strawberry.field(description="Inclusive, in the payment's currency")
    max_amount: str | None
    min_risk_score: int | None
    max_risk_score: int | None
    from_hour: int | None = strawberry.field(description="UTC hour the rule starts applying (inclusive)")
    to_hour: int | None = strawberry.field(description="UTC hour it stops (exclusive; below from_hour: overnight)")
    enabled: bool

    @classmethod
    def of(cls, rule: RuleData) -> RoutingRule:
        return cls(
            name=rule.handle,
            psps=list(rule.psps),
            weights=list(rule.weights),
            priority=rule.priority,
            kinds=[PaymentKind(k) for k in sorted(rule.kinds)] if rule.kinds is not None else None,
            methods=[PaymentMethod(m) for m in sorted(rule.methods)] if rule.methods is not None else None,
            countries=_sorted(rule.countries),
            currencies=_sorted(rule.currencies),
            bin_countries=_sorted(rule.bin_countries),
            min_amount=rule.min_amount,
            max_amount=rule.max_amount,
            min_risk_score=rule.min_risk_score,
            max_risk_score=rule.max_risk_score,
            from_hour=rule.hours[0] if rule.hours else None,
            to_hour=rule.hours[1] if rule.hours else None,
            enabled=rule.enabled,
        )


@strawberry.type(description="A PSP's limits and fixed fee in one currency.")
class RoutingPspLimit:
    currency: str
    min_amount: str | None
    max_amount: str | None
    fee_fixed: str | None


@strawberry.type(description="What the operator agreed with a PSP: used or not, limits per currency, fees.")
class RoutingPspTerms:
    psp: str
    enabled: bool
    fee_percent: str
    limits: list[RoutingPspLimit]

    @classmethod
    def of(cls, psp: str, terms: PspTerms) -> RoutingPspTerms:
        currencies = sorted({*terms.limits, *terms.fee_fixed})
        return cls(
            psp=psp,
            enabled=terms.enabled,
            fee_percent=terms.fee_percent,
            limits=[
                RoutingPspLimit(
                    currency=c,
                    min_amount=terms.limits.get(c, (None, None))[0],
                    max_amount=terms.limits.get(c, (None, None))[1],
                    fee_fixed=terms.fee_fixed.get(c),
                )
                for c in currencies
            ],
        )


@strawberry.type(description="A payment limit: per payment, and per player within a rolling window.")
class RoutingLimit:
    name: str
    kind: PaymentKind
    currency: str
    methods: list[PaymentMethod] | None = strawberry.field(description="Null: every method")
    max_amount: str | None = strawberry.field(description="The most one payment may be")
    window_hours: int | None
    max_count: int | None = strawberry.field(description="The most payments per player within the window")
    max_total: str | None = strawberry.field(description="The most money per player within the window")
    min_risk_score: int | None = strawberry.field(description="Applies only to players scoring at least this")
    enabled: bool

    @classmethod
    def of(cls, limit: PaymentLimit) -> RoutingLimit:
        return cls(
            name=limit.name,
            kind=PaymentKind(limit.kind),
            currency=limit.currency,
            methods=[PaymentMethod(m) for m in sorted(limit.methods)] if limit.methods is not None else None,
            max_amount=limit.max_amount,
            window_hours=limit.window_hours,
            max_count=limit.max_count,
            max_total=limit.max_total,
            min_risk_score=limit.min_risk_score,
            enabled=limit.enabled,
        )


strawberry.enum(
    BinUnknown,
    name="RoutingBinUnknown",
    description="What a blocking BIN rule does with a card whose BIN (or issuing country) is unknown: ALLOW (fail "
    "open), REFUSE (fail closed: CARD_BIN_UNKNOWN) or REVIEW (the deposit is held for the risk desk)",
)


@strawberry.type(description="A card BIN rule: a BIN range's issuing country, and whether its cards are refused.")
class RoutingBinRule:
    name: str
    bin_from: str | None
    bin_to: str | None
    country: str | None
    block: bool
    reason: str
    on_unknown: BinUnknown = strawberry.field(description="When it cannot decide on a card (ALLOW if it blocks none)")

    @classmethod
    def of(cls, rule: BinRule) -> RoutingBinRule:
        return cls(
            name=rule.name,
            bin_from=rule.bin_from,
            bin_to=rule.bin_to,
            country=rule.country,
            block=rule.block,
            reason=rule.reason,
            on_unknown=rule.when_unknown,
        )


@strawberry.type(description="A version of the routing: each staff edit stores the next one; the highest is live.")
class RoutingVersion:
    version: int = strawberry.field(description="0: the built-in rules, before any edit")
    change: str
    reason: str
    created_by: uuid.UUID | None
    created_at: datetime | None
    rules: list[RoutingRule]
    psps: list[RoutingPspTerms]
    limits: list[RoutingLimit]
    bin_rules: list[RoutingBinRule]

    @classmethod
    def of(cls, config: RoutingConfig) -> RoutingVersion:
        return cls(
            version=config.version,
            change=config.change,
            reason=config.reason,
            created_by=config.created_by,
            created_at=config.created_at,
            rules=[RoutingRule.of(r) for r in sorted(config.rules, key=lambda r: (r.priority, r.handle))],
            psps=[RoutingPspTerms.of(p, t) for p, t in sorted(config.psps.items())],
            limits=[RoutingLimit.of(x) for x in config.limits],
            bin_rules=[RoutingBinRule.of(b) for b in config.bin_rules],
        )


@strawberry.type
class RoutingVersionPayload:
    version: RoutingVersion | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="How one rule saw the payment.")
class RoutingRuleLook:
    rule: str
    priority: int
    matched: bool
    mismatch: str | None = strawberry.field(description="Why it did not match")
    chosen: list[str]
    dropped: list[str] = strawberry.field(description="PSPs it named that cannot take the payment, and why")


@strawberry.type(description="The PSPs a payment would be tried at, in order, with a PSP's fee on its amount.")
class RoutingPreviewPsp:
    psp: str
    fee: str


@strawberry.type(description="Which route a payment would take, and why.")
class RoutingPreview:
    version: int
    psps: list[RoutingPreviewPsp]
    decided_by: str | None = strawberry.field(description="The rule that decided (null: no PSP takes it)")
    bin_country: str | None
    card_blocked_by: str | None = strawberry.field(description="The BIN rule that would refuse the card")
    card_unknown_by: str | None = strawberry.field(
        description="A blocking BIN rule that could not decide on the card (no BIN, or its country unknown)"
    )
    card_unknown_outcome: BinUnknown | None = strawberry.field(description="What that rule does: REFUSE or REVIEW")
    looks: list[RoutingRuleLook]

    @classmethod
    def of(cls, preview: Preview) -> RoutingPreview:
        found = preview.explanation
        return cls(
            version=preview.version,
            psps=[RoutingPreviewPsp(psp=p, fee=str(preview.fees[p])) for p in found.psps],
            decided_by=found.decided_by.handle if found.decided_by else None,
            bin_country=preview.query.bin_country,
            card_blocked_by=preview.bin_blocked_by.name if preview.bin_blocked_by else None,
            card_unknown_by=preview.bin_unknown_by.name if preview.bin_unknown_by else None,
            card_unknown_outcome=preview.bin_unknown_outcome,
            looks=[
                RoutingRuleLook(
                    rule=look.rule.handle,
                    priority=look.rule.priority,
                    matched=look.mismatch is None,
                    mismatch=look.mismatch,
                    chosen=list(look.chosen),
                    dropped=[f"{psp}: {why}" for psp, why in look.dropped],
                )
                for look in found.looks
            ],
        )


@strawberry.input(description="The payment to preview the route of.")
class RoutingPreviewInput:
    kind: PaymentKind
    method: PaymentMethod
    country: str = text(2)
    amount: str = text(32)
    currency: str = text(8)
    card_bin: str | None = text(8, default=None, description="Its BIN: the BIN rules give its country")
    bin_country: str | None = text(2, default=None, description="Or the card's issuing country itself")
    risk_score: int | None = None
    at: datetime | None = strawberry.field(default=None, description="When (the hour of day); default now")
    version: int | None = strawberry.field(default=None, description="A stored version; default the live one")


@strawberry.input(description="Add a routing rule, or replace the one of its name (a new version, audited).")
class SaveRoutingRuleInput:
    name: str = text(64)
    psps: list[str]
    reason: str = text(REASON)
    weights: list[int] | None = None
    priority: int = 100
    kinds: list[PaymentKind] | None = None
    methods: list[PaymentMethod] | None = None
    countries: list[str] | None = None
    currencies: list[str] | None = None
    bin_countries: list[str] | None = None
    min_amount: str | None = text(32, default=None)
    max_amount: str | None = text(32, default=None)
    min_risk_score: int | None = None
    max_risk_score: int | None = None
    from_hour: int | None = None
    to_hour: int | None = None
    enabled: bool = True
    base_version: int | None = strawberry.field(default=None, description="Refused if the live version is another")


@strawberry.input
class RoutingPspLimitInput:
    currency: str = text(8)
    min_amount: str | None = text(32, default=None)
    max_amount: str | None = text(32, default=None)
    fee_fixed: str | None = text(32, default=None)


@strawberry.input(description="Set a PSP's terms: used or not, limits and fixed fee per currency, percentage fee.")
class SaveRoutingPspTermsInput:
    psp: str = text(32)
    reason: str = text(REASON)
    enabled: bool = True
    fee_percent: str = text(16, default="0")
    limits: list[RoutingPspLimitInput] | None = None
    base_version: int | None = None


@strawberry.input(description="Add a payment limit, or replace the one of its name.")
class SaveRoutingLimitInput:
    name: str = text(64)
    kind: PaymentKind
    currency: str = text(8)
    reason: str = text(REASON)
    methods: list[PaymentMethod] | None = None
    max_amount: str | None = text(32, default=None)
    window_hours: int | None = None
    max_count: int | None = None
    max_total: str | None = text(32, default=None)
    min_risk_score: int | None = None
    enabled: bool = True
    base_version: int | None = None


@strawberry.input(description="Add a card BIN rule, or replace the one of its name.")
class SaveRoutingBinRuleInput:
    name: str = text(64)
    reason: str = text(REASON)
    bin_from: str | None = text(8, default=None)
    bin_to: str | None = text(8, default=None)
    country: str | None = text(2, default=None)
    block: bool = False
    rule_reason: str | None = text(200, default=None, description="Shown to staff: why these cards are refused")
    on_unknown: BinUnknown | None = strawberry.field(
        default=None, description="When the card's BIN or country is unknown; default REFUSE for a blocking rule"
    )
    base_version: int | None = None


class RoutingSection(StrEnum):
    RULE = "rule"
    LIMIT = "limit"
    BIN_RULE = "bin_rule"


strawberry.enum(RoutingSection, name="RoutingSection")


@strawberry.input(description="Delete a routing rule, payment limit or BIN rule by name (a new version, audited).")
class DeleteRoutingEntryInput:
    section: RoutingSection
    name: str = text(64)
    reason: str = text(REASON)
    base_version: int | None = None


@strawberry.input(description="Make an old version's rules, terms, limits and BIN rules live again, as a new version.")
class RestoreRoutingVersionInput:
    version: int
    reason: str = text(REASON)
