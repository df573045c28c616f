"""Risk resolvers: thin maps onto services/risk (linked accounts, lists, the score and restrictions, rules,
the queue, staff's actions)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlmodel import col

from core.errors import DomainError
from core.pagination import paginate
from models.risk import RiskListEntry as EntryRow
from resolvers.common import payload_errors
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.risk import (
    AddRiskListEntryInput,
    CreateRiskRuleInput,
    ImposeRiskActionInput,
    LiftRiskActionInput,
    LinkedPlayer,
    RemoveRiskListEntryInput,
    ReviewRiskFlagInput,
    RiskFlag,
    RiskFlagPayload,
    RiskListEntry,
    RiskListEntryPayload,
    RiskQueueEntry,
    RiskRestriction,
    RiskRestrictionPayload,
    RiskRule,
    RiskRuleActionInput,
    RiskRulePayload,
    RiskScore,
    SharedSignal,
    UpdateRiskRuleInput,
)
from services.risk import clusters, lists, queue, review, rule_admin
from services.risk.lists import EntryKind, ListName
from services.risk.queue import FlagStatus

if TYPE_CHECKING:
    from schema.players import Player


async def cluster_size(info: Info, player_id: uuid.UUID) -> int:
    async with info.context.rt.database.session() as db:
        return await clusters.cluster_size(db, info.context.viewer, player_id)


async def linked_players(info: Info, player_id: uuid.UUID) -> list[LinkedPlayer]:
    async with info.context.rt.database.session() as db:
        found = await clusters.linked_players(db, info.context.viewer, player_id)
    return [
        LinkedPlayer(
            player_id=linked.player_id,
            shared_signals=[
                SharedSignal(kind=s.kind, value=s.masked_value, first_seen=s.first_seen) for s in linked.shared
            ],
        )
        for linked in found
    ]


async def player_flags(info: Info, player_id: uuid.UUID) -> list[RiskFlag]:
    return [RiskFlag.from_model(f) for f in await info.context.loaders.risk.flags.load(player_id)]


async def player_score(info: Info, player_id: uuid.UUID) -> RiskScore:
    return RiskScore.of(await info.context.loaders.risk.score.load(player_id))


async def player_restrictions(info: Info, player_id: uuid.UUID) -> list[RiskRestriction]:
    return [RiskRestriction.of(r) for r in await info.context.loaders.risk.restrictions.load(player_id)]


async def linked_player(info: Info, player_id: uuid.UUID) -> Player | None:
    from schema.players import Player

    found = await info.context.loaders.readable_player(info.context.viewer).load(player_id)
    return Player.from_model(found) if found is not None else None


async def risk_list_entries(
    info: Info,
    list: ListName | None = None,
    kind: EntryKind | None = None,
    include_inactive: bool = False,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[RiskListEntry]:
    stmt = lists.readable_entries(info.context.viewer, list_name=list, kind=kind, active_only=not include_inactive)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db, stmt, (col(EntryRow.added_at), col(EntryRow.id)), first=first, after=after, last=last, before=before
        )
    return Connection.of(page, RiskListEntry.from_model)


@payload_errors(RiskListEntryPayload)
async def add_risk_list_entry(info: Info, input: AddRiskListEntryInput) -> RiskListEntryPayload:
    entry = await lists.add_entry(
        info.context.rt,
        info.context.viewer,
        list_name=input.list,
        kind=input.kind,
        value=input.value,
        reason=input.reason,
        expires_at=input.expires_at,
    )
    return RiskListEntryPayload(entry=RiskListEntry.from_model(entry))


@payload_errors(RiskListEntryPayload)
async def remove_risk_list_entry(info: Info, input: RemoveRiskListEntryInput) -> RiskListEntryPayload:
    entry = await lists.remove_entry(
        info.context.rt,
        info.context.viewer,
        entry_id=node_uuid(input.entry_id, "RiskListEntry"),
        reason=input.reason,
    )
    return RiskListEntryPayload(entry=RiskListEntry.from_model(entry))


# ---- rules ----------------------------------------------------------------------------------------


async def risk_rules(info: Info) -> list[RiskRule]:
    return [RiskRule.from_model(r) for r in await rule_admin.list_rules(info.context.rt, info.context.viewer)]


def _actions(given: list[RiskRuleActionInput]) -> list[dict[str, object]]:
    return [
        {k: v for k, v in (("kind", a.kind.value), ("level", a.level), ("psps", a.psps)) if v is not None}
        for a in given
    ]


@payload_errors(RiskRulePayload)
async def create_risk_rule(info: Info, input: CreateRiskRuleInput) -> RiskRulePayload:
    rule = await rule_admin.create_rule(
        info.context.rt,
        info.context.viewer,
        code=input.code,
        name=input.name,
        kind=input.kind,
        params=rule_admin.parse_json_params(input.params),
        points=input.points,
        actions=_actions(input.actions),
        enabled=input.enabled,
        reason=input.reason,
    )
    return RiskRulePayload(rule=RiskRule.from_model(rule))


@payload_errors(RiskRulePayload)
async def update_risk_rule(info: Info, input: UpdateRiskRuleInput) -> RiskRulePayload:
    change = rule_admin.RuleChange(
        name=input.name,
        params=None if input.params is None else rule_admin.parse_json_params(input.params),
        points=input.points,
        actions=None if input.actions is None else _actions(input.actions),
        enabled=input.enabled,
        version=input.version,
    )
    rule = await rule_admin.update_rule(
        info.context.rt, info.context.viewer, code=input.code, change=change, reason=input.reason
    )
    return RiskRulePayload(rule=RiskRule.from_model(rule))


# ---- the queue and staff's actions ------------------------------------------------------------------


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise DomainError("Not an id.", field=field) from exc


async def risk_queue(
    info: Info, first: int | None = None, after: str | None = None, status: FlagStatus = FlagStatus.OPEN
) -> Connection[RiskQueueEntry]:
    page = await queue.page(info.context.rt, info.context.viewer, status=status, first=first, after=after)
    return Connection.of(page, lambda e: RiskQueueEntry(flag=RiskFlag.from_model(e.flag), score=e.score))


@payload_errors(RiskRestrictionPayload)
async def impose_risk_action(info: Info, input: ImposeRiskActionInput) -> RiskRestrictionPayload:
    action = review.staff_action(input.kind, level=input.level, psps=input.psps)
    imposed = await review.impose_action(
        info.context.rt,
        info.context.viewer,
        player_id=node_uuid(input.player_id, "Player"),
        action=action,
        reason=input.reason,
        expires_at=input.expires_at,
    )
    return RiskRestrictionPayload(restriction=RiskRestriction.of(imposed))


@payload_errors(RiskRestrictionPayload)
async def lift_risk_action(info: Info, input: LiftRiskActionInput) -> RiskRestrictionPayload:
    lifted = await review.lift_action(
        info.context.rt, info.context.viewer, action_id=_uuid(input.action_id, "actionId"), reason=input.reason
    )
    return RiskRestrictionPayload(
        restriction=RiskRestriction.of(lifted.restriction), released_withdrawals=len(lifted.released)
    )


@payload_errors(RiskFlagPayload)
async def review_risk_flag(info: Info, input: ReviewRiskFlagInput) -> RiskFlagPayload:
    flag = await review.review_flag(
        info.context.rt,
        info.context.viewer,
        flag_id=_uuid(input.flag_id, "flagId"),
        verdict=input.verdict,
        note=input.note,
    )
    return RiskFlagPayload(flag=RiskFlag.from_model(flag))
