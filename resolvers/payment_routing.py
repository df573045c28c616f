"""Routing resolvers: thin maps onto services/cashier/routing_admin.py (versions, edits, preview)."""

from __future__ import annotations

from typing import Any

from core.errors import DomainError, bad_input
from core.money import currency as currency_info
from core.money import parse_amount
from resolvers.common import payload_errors
from schema.context import Info
from schema.payment_routing import (
    DeleteRoutingEntryInput,
    RestoreRoutingVersionInput,
    RoutingPreview,
    RoutingPreviewInput,
    RoutingVersion,
    RoutingVersionPayload,
    SaveRoutingBinRuleInput,
    SaveRoutingLimitInput,
    SaveRoutingPspTermsInput,
    SaveRoutingRuleInput,
)
from services.cashier import routing_admin, routing_config

HISTORY_LIMIT = 100


async def routing_version(info: Info, version: int | None = None) -> RoutingVersion | None:
    async with info.context.rt.database.session() as db:
        found = await routing_config.live(db) if version is None else await routing_config.at_version(db, version)
    return RoutingVersion.of(found) if found is not None else None


async def routing_versions(info: Info, first: int = 20) -> list[RoutingVersion]:
    async with info.context.rt.database.session() as db:
        found = await routing_config.history(db, limit=max(1, min(first, HISTORY_LIMIT)))
    return [RoutingVersion.of(v) for v in found]


async def routing_preview(info: Info, input: RoutingPreviewInput) -> RoutingPreview:
    try:
        code = currency_info(input.currency).code
        preview = await routing_admin.preview(
            info.context.rt,
            kind=input.kind.value,
            method=input.method.value,
            country=input.country,
            currency=code,
            amount=parse_amount(input.amount, code),
            card_bin=input.card_bin,
            bin_country=input.bin_country.upper() if input.bin_country else None,
            risk_score=input.risk_score,
            at=input.at,
            version=input.version,
        )
    except DomainError as refusal:  # a query has no payload: bad facts (or an unknown version) are a request error
        raise bad_input(refusal.message, field=refusal.field) from refusal
    return RoutingPreview.of(preview)


def _values(items: list[Any] | None) -> list[str] | None:
    return [getattr(i, "value", i) for i in items] if items is not None else None


async def _publish(info: Info, edit: Any, reason: str, base_version: int | None) -> RoutingVersionPayload:
    config = await routing_admin.publish(
        info.context.rt, info.context.viewer, edit, reason=reason, base_version=base_version
    )
    return RoutingVersionPayload(version=RoutingVersion.of(config))


@payload_errors(RoutingVersionPayload)
async def save_routing_rule(info: Info, input: SaveRoutingRuleInput) -> RoutingVersionPayload:
    hours = None
    if input.from_hour is not None or input.to_hour is not None:
        hours = [
            input.from_hour if input.from_hour is not None else 0,
            input.to_hour if input.to_hour is not None else 24,
        ]
    raw = {
        "name": input.name,
        "psps": input.psps,
        "weights": input.weights or [],
        "priority": input.priority,
        "kinds": _values(input.kinds),
        "methods": _values(input.methods),
        "countries": input.countries,
        "currencies": [c.upper() for c in input.currencies] if input.currencies else None,
        "bin_countries": input.bin_countries,
        "min_amount": input.min_amount,
        "max_amount": input.max_amount,
        "min_risk_score": input.min_risk_score,
        "max_risk_score": input.max_risk_score,
        "hours": hours,
        "enabled": input.enabled,
    }
    return await _publish(info, routing_admin.save_rule(raw), input.reason, input.base_version)


@payload_errors(RoutingVersionPayload)
async def save_routing_psp_terms(info: Info, input: SaveRoutingPspTermsInput) -> RoutingVersionPayload:
    raw = {
        "enabled": input.enabled,
        "fee_percent": input.fee_percent,
        "limits": [
            {
                "currency": x.currency,
                "min_amount": x.min_amount,
                "max_amount": x.max_amount,
                "fee_fixed": x.fee_fixed,
            }
            for x in input.limits or []
        ],
    }
    return await _publish(info, routing_admin.save_terms(input.psp, raw), input.reason, input.base_version)


@payload_errors(RoutingVersionPayload)
async def save_routing_limit(info: Info, input: SaveRoutingLimitInput) -> RoutingVersionPayload:
    raw = {
        "name": input.name,
        "kind": input.kind.value,
        "currency": input.currency,
        "methods": _values(input.methods),
        "max_amount": input.max_amount,
        "window_hours": input.window_hours,
        "max_count": input.max_count,
        "max_total": input.max_total,
        "min_risk_score": input.min_risk_score,
        "enabled": input.enabled,
    }
    return await _publish(info, routing_admin.save_limit(raw), input.reason, input.base_version)


@payload_errors(RoutingVersionPayload)
async def save_routing_bin_rule(info: Info, input: SaveRoutingBinRuleInput) -> RoutingVersionPayload:
    raw = {
        "name": input.name,
        "bin_from": input.bin_from,
        "bin_to": input.bin_to,
        "country": input.country,
        "block": input.block,
        "reason": input.rule_reason,
    }
    return await _publish(info, routing_admin.save_bin_rule(raw), input.reason, input.base_version)


@payload_errors(RoutingVersionPayload)
async def delete_routing_entry(info: Info, input: DeleteRoutingEntryInput) -> RoutingVersionPayload:
    edit = routing_admin.delete(input.section.value, input.name)
    return await _publish(info, edit, input.reason, input.base_version)


@payload_errors(RoutingVersionPayload)
async def restore_routing_version(info: Info, input: RestoreRoutingVersionInput) -> RoutingVersionPayload:
    config = await routing_admin.restore_version(
        info.context.rt, info.context.viewer, input.version, reason=input.reason
    )
    return RoutingVersionPayload(version=RoutingVersion.of(config))
