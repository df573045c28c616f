"""Staff's side of the routing versions (services/cashier/routing_config.py): save or delete a routing rule, a
payment limit or a BIN rule, set a PSP's terms, restore an old version; and the preview of the route a payment
would take.

Guarantees:
- Each edit is checked as a whole before anything is stored (a refusal names its field, code INVALID_INPUT):
  PSPs the cashier has, methods and currencies it knows, ranges that are ranges.
- Each edit that changes something stores a new version, audits it (`payment_routing.changed`: the entry
  before and after, the reason) and announces it (event `payment_routing.changed`), in one transaction; an
  edit that changes nothing stores nothing. With `base_version` an edit made on an older version is refused
  (INVALID_STATE), as is the loser of two concurrent edits.
- Routing is shared by every brand (PSP contracts are the operator's): only staff of every brand edit it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.exc import IntegrityError

from authz.subjects import Viewer
from core import outbox
from core.clock import clock, utc
from core.errors import DomainError, ErrorCode, NotFound
from core.money import CURRENCIES, parse_amount
from core.money import currency as currency_info
from core.runtime import Runtime
from models.payment_routing import PaymentRoutingVersion
from models.payments import PaymentKind, PaymentMethod
from services import audit
from services.cashier.payment_rules import BinRule, BinUnknown, CardVerdict, PaymentLimit, card_verdict
from services.cashier.psp.adapters import ADAPTERS
from services.cashier.routing import PspTerms, RouteExplanation, RouteQuery, RoutingRule, explain
from services.cashier.routing_config import RoutingConfig, at_version, live, terms_as_dict

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
KINDS = frozenset(k.value for k in (PaymentKind.DEPOSIT, PaymentKind.WITHDRAWAL))


class Section:
    RULE = "rule"
    LIMIT = "limit"
    BIN_RULE = "bin_rule"


def _refuse(message: str, field: str) -> DomainError:
    return DomainError(message, field=field, code=ErrorCode.INVALID_INPUT)


def _name(value: Any, field: str = "name") -> str:
    name = str(value or "").strip()
    if not NAME.match(name):
        raise _refuse("A name of 1 to 64 lower-case letters, digits and dashes.", field)
    return name


def _choices(values: Sequence[str] | None, allowed: frozenset[str], field: str) -> list[str] | None:
    if not values:
        return None
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise _refuse(f"Unknown {field} {unknown[0]!r} (one of {', '.join(sorted(allowed))}).", field)
    return sorted(set(values))


def _countries(values: Sequence[str] | None, field: str) -> list[str] | None:
    if not values:
        return None
    found = sorted({v.strip().upper() for v in values})
    if any(not COUNTRY.match(c) for c in found):
        raise _refuse("Countries are ISO 3166 two-letter codes.", field)
    return found


def _decimal(value: str | None, field: str) -> str | None:
    if value is None or not str(value).strip():
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _refuse(f"{value!r} is not an amount.", field) from None
    if not number.is_finite() or number < 0:
        raise _refuse("An amount of zero or more.", field)
    return str(number)


def _ordered(low: str | None, high: str | None, field: str) -> None:
    if low is not None and high is not None and Decimal(low) > Decimal(high):
        raise _refuse("The minimum is above the maximum.", field)


def _score(value: int | None, field: str) -> int | None:
    if value is not None and not 0 <= value <= 100:
        raise _refuse("A risk score goes from 0 to 100.", field)
    return value


def checked_rule(raw: Mapping[str, Any]) -> RoutingRule:
    """A routing rule from staff's input, or refused naming the field."""
    psps = [str(p).strip() for p in raw.get("psps") or []]
    if not psps or len(set(psps)) != len(psps):
        raise _refuse("A rule names one or more PSPs, each once.", "psps")
    _choices(psps, frozenset(ADAPTERS), "psps")
    weights = [int(w) for w in raw.get("weights") or []]
    if weights and (len(weights) != len(psps) or min(weights) < 0 or max(weights) == 0):
        raise _refuse("One weight per PSP, zero or more, not all zero.", "weights")
    priority = int(raw.get("priority", 100))
    if not 0 <= priority <= 100_000:
        raise _refuse("A priority from 0 to 100000 (lowest first).", "priority")
    low, high = _decimal(raw.get("min_amount"), "minAmount"), _decimal(raw.get("max_amount"), "maxAmount")
    _ordered(low, high, "minAmount")
    low_score, high_score = (
        _score(raw.get("min_risk_score"), "minRiskScore"),
        _score(raw.get("max_risk_score"), "maxRiskScore"),
    )
    if low_score is not None and high_score is not None and low_score > high_score:
        raise _refuse("The minimum risk score is above the maximum.", "minRiskScore")
    hours = raw.get("hours")
    if hours is not None:
        start, end = (int(h) for h in hours)
        if not (0 <= start <= 23 and 0 <= end <= 24 and start != end):
            raise _refuse("Hours from 0 to 23, until 1 to 24 (UTC), not the same.", "hours")
        hours = [start, end]
    return RoutingRule.from_dict(
        {
            "name": _name(raw.get("name")),
            "psps": psps,
            "weights": weights,
            "priority": priority,
            "kinds": _choices(raw.get("kinds"), KINDS, "kinds"),
            "methods": _choices(raw.get("methods"), frozenset(PaymentMethod), "methods"),
            "countries": _countries(raw.get("countries"), "countries"),
            "currencies": _choices(raw.get("currencies"), frozenset(CURRENCIES), "currencies"),
            "bin_countries": _countries(raw.get("bin_countries"), "binCountries"),
            "min_amount": low,
            "max_amount": high,
            "min_risk_score": low_score,
            "max_risk_score": high_score,
            "hours": hours,
            "enabled": bool(raw.get("enabled", True)),
        }
    )


def checked_terms(raw: Mapping[str, Any]) -> PspTerms:
    limits: dict[str, tuple[str | None, str | None]] = {}
    fixed: dict[str, str] = {}
    for entry in raw.get("limits") or []:
        code = str(entry["currency"]).upper()
        _choices([code], frozenset(CURRENCIES), "currency")
        low, high = _decimal(entry.get("min_amount"), "limits"), _decimal(entry.get("max_amount"), "limits")
        fee = _decimal(entry.get("fee_fixed"), "limits")
        for value in (low, high, fee):
            if value is not None:  # exact in the currency and within its range ("1E+30" broke the preview's fees)
                parse_amount(value, code, field="limits", allow_zero=True)
        _ordered(low, high, "limits")
        limits[code] = (low, high)
        if fee is not None:
            fixed[code] = fee
    percent = _decimal(raw.get("fee_percent"), "feePercent") or "0"
    if Decimal(percent) > 100:
        raise _refuse("A fee of 0 to 100 percent.", "feePercent")
    return PspTerms(enabled=bool(raw.get("enabled", True)), limits=limits, fee_percent=percent, fee_fixed=fixed)


def checked_limit(raw: Mapping[str, Any]) -> PaymentLimit:
    kind = str(raw.get("kind") or "")
    _choices([kind], KINDS, "kind")
    code = str(raw.get("currency") or "").upper()
    _choices([code], frozenset(CURRENCIES), "currency")
    window = raw.get("window_hours")
    if window is not None and not 1 <= int(window) <= 24 * 31:
        raise _refuse("A window of 1 hour to 31 days.", "windowHours")
    count = raw.get("max_count")
    if count is not None and int(count) < 1:
        raise _refuse("A count of at least 1.", "maxCount")
    total = _decimal(raw.get("max_total"), "maxTotal")
    if (count is not None or total is not None) and window is None:
        raise _refuse("A count or total needs its window.", "windowHours")
    limit = PaymentLimit.from_dict(
        {
            "name": _name(raw.get("name")),
            "kind": kind,
            "currency": code,
            "methods": _choices(raw.get("methods"), frozenset(PaymentMethod), "methods"),
            "max_amount": _decimal(raw.get("max_amount"), "maxAmount"),
            "window_hours": window,
            "max_count": count,
            "max_total": total,
            "min_risk_score": _score(raw.get("min_risk_score"), "minRiskScore"),
            "enabled": bool(raw.get("enabled", True)),
        }
    )
    for value, field in ((limit.max_amount, "maxAmount"), (limit.max_total, "maxTotal")):
        if value is not None:  # exact in the currency (no more decimals than it has)
            parse_amount(value, code, field=field, allow_zero=True)
    if limit.max_amount is None and limit.max_count is None and limit.max_total is None:
        raise _refuse("A limit caps the amount, the count or the total.", "maxAmount")
    return limit


def checked_bin_rule(raw: Mapping[str, Any]) -> BinRule:
    low, high = (str(raw.get(k) or "").strip() or None for k in ("bin_from", "bin_to"))
    if (low is None) != (high is None):
        raise _refuse("A range has both ends.", "binTo")
    if (
        low is not None
        and high is not None
        and not (low.isdigit() and high.isdigit() and 6 <= len(low) <= 8 and len(low) == len(high) and low <= high)
    ):
        raise _refuse("A range of BINs: 6 to 8 digits, both ends of one length, in order.", "binFrom")
    countries = _countries([str(raw["country"])], "country") if raw.get("country") else None
    country = countries[0] if countries else None
    if low is None and (country is None or not raw.get("block")):
        raise _refuse("A rule without a range blocks the cards of a country.", "country")
    block = bool(raw.get("block", False))
    try:
        on_unknown = BinUnknown(str(raw["on_unknown"]).lower()) if raw.get("on_unknown") else None
    except ValueError:
        raise _refuse("When the card's BIN is unknown: allow, refuse or review.", "onUnknown") from None
    if not block and on_unknown not in (None, BinUnknown.ALLOW):
        raise _refuse("Only a rule that blocks cards can refuse or hold the cards it cannot decide on.", "onUnknown")
    return BinRule(
        name=_name(raw.get("name")),
        bin_from=low,
        bin_to=high,
        country=country,
        block=block,
        reason=str(raw.get("reason") or "")[:200],
        on_unknown=on_unknown if block else None,
    )


def _replaced(entries: Sequence[Any], entry: Any) -> tuple[tuple[Any, ...], dict[str, Any] | None]:
    """The entries with `entry` in place of the one of its name (or added); the one it replaced."""
    before = next((e for e in entries if e.name == entry.name or getattr(e, "handle", None) == entry.name), None)
    kept = tuple(e for e in entries if e is not before)
    return (*kept, entry), before.as_dict() if before is not None else None


@dataclass(frozen=True)
class Edit:
    config: RoutingConfig
    change: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _save(entry: Any, attribute: str, label: str) -> Callable[[RoutingConfig], Edit]:
    """The edit putting `entry` in place of the one of its name in `attribute` (rules, limits, bin_rules)."""

    def edit(config: RoutingConfig) -> Edit:
        entries, before = _replaced(getattr(config, attribute), entry)
        changed = replace(config, **{attribute: entries})  # type: ignore[arg-type]
        return Edit(changed, f"{label} {getattr(entry, 'handle', entry.name)} saved", before, entry.as_dict())

    return edit


def save_rule(raw: Mapping[str, Any]) -> Callable[[RoutingConfig], Edit]:
    return _save(checked_rule(raw), "rules", "rule")


def save_limit(raw: Mapping[str, Any]) -> Callable[[RoutingConfig], Edit]:
    return _save(checked_limit(raw), "limits", "limit")


def save_bin_rule(raw: Mapping[str, Any]) -> Callable[[RoutingConfig], Edit]:
    return _save(checked_bin_rule(raw), "bin_rules", "BIN rule")


def save_terms(psp: str, raw: Mapping[str, Any]) -> Callable[[RoutingConfig], Edit]:
    _choices([psp], frozenset(ADAPTERS), "psp")
    terms = checked_terms(raw)

    def edit(config: RoutingConfig) -> Edit:
        old = config.psps.get(psp)
        psps = {**config.psps, psp: terms}
        before = terms_as_dict(old) if old is not None else None
        return Edit(replace(config, psps=psps), f"PSP {psp} terms saved", before, terms_as_dict(terms))

    return edit


def delete(section: str, name: str) -> Callable[[RoutingConfig], Edit]:
    attribute = {Section.RULE: "rules", Section.LIMIT: "limits", Section.BIN_RULE: "bin_rules"}[section]

    def edit(config: RoutingConfig) -> Edit:
        entries = getattr(config, attribute)
        found = next((e for e in entries if getattr(e, "handle", e.name) == name), None)
        if found is None:
            raise NotFound(f"No {section.replace('_', ' ')} named {name!r}.", field="name")
        kept = tuple(e for e in entries if e is not found)
        if section == Section.RULE and not kept:
            raise _refuse("The last routing rule stays: no PSP would take any payment.", "name")
        label = section.replace("_", " ").replace("bin", "BIN")
        changed = replace(config, **{attribute: kept})  # type: ignore[arg-type]
        return Edit(changed, f"{label} {name} deleted", found.as_dict(), None)

    return edit


def restore(version: int, old: RoutingConfig) -> Callable[[RoutingConfig], Edit]:
    def edit(config: RoutingConfig) -> Edit:
        restored = replace(config, rules=old.rules, psps=old.psps, limits=old.limits, bin_rules=old.bin_rules)
        return Edit(restored, f"version {version} restored", {"version": config.version}, {"version": version})

    return edit


def imported(document: Mapping[str, Any]) -> Callable[[RoutingConfig], Edit]:
    """The edit making a whole routing document live (`RoutingConfig.document()`'s form, as `croupier payments
    routing export` writes it): every entry checked as staff's input is, refused naming the entry and its field."""
    if not isinstance(document, Mapping) or not isinstance(document.get("rules"), list):
        raise _refuse("A routing document: rules, psps, limits and bin_rules, as export writes them.", "document")

    def each(section: str, check: Callable[[Mapping[str, Any]], Any]) -> tuple[Any, ...]:
        entries = document.get(section) or []
        if not isinstance(entries, list):
            raise _refuse(f"{section} is a list.", section)
        found = []
        for i, raw in enumerate(entries):
            try:
                found.append(check(raw))
            except DomainError as refused:
                raise _refuse(f"{section}[{i}]: {refused.message}", f"{section}[{i}].{refused.field}") from None
            except (KeyError, TypeError, ValueError, AttributeError):
                raise _refuse(f"{section}[{i}] is not an entry of {section}.", f"{section}[{i}]") from None
        names = [getattr(e, "handle", getattr(e, "name", None)) for e in found]
        if len(set(names)) != len(names):
            raise _refuse(f"Two {section} of one name.", section)
        return tuple(found)

    rules, limits, bin_rules = (
        each("rules", checked_rule),
        each("limits", checked_limit),
        each("bin_rules", checked_bin_rule),
    )
    if not rules:
        raise _refuse("At least one routing rule: no PSP would take any payment.", "rules")
    psps: dict[str, PspTerms] = {}
    raw_psps = document.get("psps") or {}
    if not isinstance(raw_psps, Mapping):
        raise _refuse("psps maps each PSP to its terms.", "psps")
    for psp, terms in raw_psps.items():
        try:
            _choices([str(psp)], frozenset(ADAPTERS), "psps")
            limits_of = terms.get("limits") or {}
            fixed = terms.get("fee_fixed") or {}
            psps[str(psp)] = checked_terms(
                {
                    **terms,
                    "limits": [
                        {"currency": c, "min_amount": lo, "max_amount": hi, "fee_fixed": fixed.get(c)}
                        for c, (lo, hi) in limits_of.items()
                    ]
                    + [{"currency": c, "fee_fixed": v} for c, v in fixed.items() if c not in limits_of],
                }
            )
        except DomainError as refused:
            raise _refuse(f"psps.{psp}: {refused.message}", f"psps.{psp}") from None
        except (KeyError, TypeError, ValueError, AttributeError):
            raise _refuse(f"psps.{psp} is not a PSP's terms.", f"psps.{psp}") from None

    def edit(config: RoutingConfig) -> Edit:
        changed = replace(config, rules=rules, psps=psps, limits=limits, bin_rules=bin_rules)
        return Edit(changed, "routing imported", config.document(), changed.document())

    return edit


def _editor(viewer: Viewer) -> None:
    if not viewer.is_staff or viewer.brand_id is not None:
        raise DomainError(
            "Routing is shared by every brand: only staff of every brand change it.", code=ErrorCode.NOT_ALLOWED
        )


async def publish(
    rt: Runtime,
    viewer: Viewer,
    edit: Callable[[RoutingConfig], Edit],
    *,
    reason: str,
    base_version: int | None = None,
) -> RoutingConfig:
    """Apply one edit to the live version and store the result as the next version (see the guarantees)."""
    _editor(viewer)
    why = reason.strip()[:500]
    if not why:
        raise DomainError("Say why.", field="reason")
    try:
        async with rt.database.transaction() as db:
            current = await live(db)
            if base_version is not None and base_version != current.version:
                raise DomainError(
                    f"Routing changed since version {base_version} (now {current.version}): reload and edit again.",
                    field="baseVersion",
                    code=ErrorCode.INVALID_STATE,
                )
            done = edit(current)
            if done.config.document() == current.document():
                return current
            row = PaymentRoutingVersion(
                version=current.version + 1,
                document=done.config.document(),
                change=done.change[:200],
                reason=why,
                created_by=viewer.id,
                created_at=clock.now(),
            )
            db.add(row)
            await db.flush()
            data = {"version": row.version, "change": row.change, "staff_id": str(viewer.id) if viewer.id else None}
            await outbox.emit_events(
                db, [outbox.event("payment_routing.changed", f"payment_routing:{row.version}", data, at=row.created_at)]
            )
            await audit.append(
                db,
                actor=viewer,
                action="payment_routing.changed",
                target_type="payment_routing",
                target_id=str(row.version),
                before=done.before,
                after=done.after,
                reason=why,
            )
    except IntegrityError:
        raise DomainError(
            "Routing was changed by someone else meanwhile: reload and edit again.", code=ErrorCode.INVALID_STATE
        ) from None
    return RoutingConfig.stored(row)


async def restore_version(rt: Runtime, viewer: Viewer, version: int, *, reason: str) -> RoutingConfig:
    async with rt.database.session() as db:
        old = await at_version(db, version)
    if old is None:
        raise NotFound(f"No routing version {version}.", field="version")
    return await publish(rt, viewer, restore(version, old), reason=reason)


@dataclass(frozen=True)
class Preview:
    version: int
    explanation: RouteExplanation
    query: RouteQuery
    bin_blocked_by: BinRule | None
    fees: Mapping[str, Decimal]
    bin_unknown_by: BinRule | None = None  # a blocking rule that could not decide on the card (card deposits)
    bin_unknown_outcome: BinUnknown | None = None  # what it does then: refuse or review


async def preview(
    rt: Runtime,
    *,
    kind: str,
    method: str,
    country: str,
    currency: str,
    amount: int,
    card_bin: str | None = None,
    bin_country: str | None = None,
    risk_score: int | None = None,
    at: datetime | None = None,
    version: int | None = None,
) -> Preview:
    """Which route a payment with these facts would take under a version (the live one by default), and why:
    the same evaluation as the cashier's (`routing.explain`), with the PSPs' fees on the amount."""
    async with rt.database.session() as db:
        config = await live(db) if version is None else await at_version(db, version)
    if config is None:
        raise NotFound(f"No routing version {version}.", field="version")
    # The BIN rules judge card deposits (payment_limits.check): without a BIN, a rule that fails closed shows.
    by_card = method == "card" and kind == "deposit"
    verdict = card_verdict(config.bin_rules, card_bin) if by_card else CardVerdict(None, None)
    unknown_by = verdict.unknown_refused_by or verdict.review_by
    query = RouteQuery(
        kind=kind,
        method=method,
        country=country.upper(),
        currency=currency,
        amount=amount,
        bin_country=bin_country or verdict.country,
        risk_score=_score(risk_score, "riskScore"),
        at=utc(at) or clock.now(),
        seed="preview",
    )
    explanation = explain(config.rules, query, config.psps)
    cent = Decimal(1).scaleb(-currency_info(currency).exponent)  # fees shown to the currency's minor unit
    fees = {p: config.psps.get(p, PspTerms()).fee(amount, currency).quantize(cent) for p in explanation.psps}
    return Preview(
        config.version,
        explanation,
        query,
        verdict.blocked_by,
        fees,
        unknown_by,
        unknown_by.when_unknown if unknown_by else None,
    )
