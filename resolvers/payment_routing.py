"""Routing resolvers: thin maps onto services/cashier/routing_admin.py (versions, edits, preview)."""

from __future__ import annotations

import dataclasses
from enum import Enum
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


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _fields(input: Any, *, drop: tuple[str, ...] = (), **given: Any) -> dict[str, Any]:
    """The input's fields as the service reads them (enums as their values), without the edit's own (reason, base
    version) nor `drop`, with `given` in place."""
    skipped = {"reason", "base_version", *drop, *given}
    found = {k: _plain(v) for k, v in dataclasses.asdict(input).items() if k not in skipped}
    return {**found, **given}


async def _publish(info: Info, edit: Any, reason: str, base_version: int | None) -> RoutingVersionPayload:
    config = await routing_admin.publish(
        info.context.rt, info.context.viewer, edit, reason=reason, base_version=base_version
    )
    return RoutingVersionPayload(version=RoutingVersion.of(config))


@payload_errors(RoutingVersionPayload)
async def save_routing_rule(info: Info, input: SaveRoutingRuleInput) -> RoutingVersionPayload:
    hours = None
    if input.from_hour is not None or input.to_hour is not None:
        hours = [input.from_hour or 0, 24 if input.to_hour is None else input.to_hour]
    raw = _fields(
        input,
        drop=("from_hour", "to_hour"),
        hours=hours,
        weights=input.weights or [],
        currencies=[c.upper() for c in input.currencies] if input.currencies else None,
    )
    return await _publish(info, routing_admin.save_rule(raw), input.reason, input.base_version)


@payload_errors(RoutingVersionPayload)
async def save_routing_psp_terms(info: Info, input: SaveRoutingPspTermsInput) -> RoutingVersionPayload:
    edit = routing_admin.save_terms(input.psp, _fields(input, drop=("psp",)))
    return await _publish(info, edit, input.reason, input.base_version)


@payload_errors(RoutingVersionPayload)
async def save_routing_limit(info: Info, input: SaveRoutingLimitInput) -> RoutingVersionPayload:
    return await _publish(info, routing_admin.save_limit(_fields(input)), input.reason, input.base_version)


@payload_errors(RoutingVersionPayload)
async def save_routing_bin_rule(info: Info, input: SaveRoutingBinRuleInput) -> RoutingVersionPayload:
    raw = _fields(input, drop=("rule_reason",), reason=input.rule_reason)
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
