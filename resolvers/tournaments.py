"""Tournament resolvers (thin: the rules live in services/tournaments). Lists read a page and then, in one
statement for the whole page, what its rows need (entry counts, the entries' tournaments)."""

from __future__ import annotations

import strawberry
from sqlmodel import col

from core.errors import NotFound
from core.pagination import paginate
from models.tournaments import Tournament as TournamentRow
from models.tournaments import TournamentEntry as EntryRow
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.tournaments import (
    CancelTournamentInput,
    CreateTournamentInput,
    JoinTournamentInput,
    JoinTournamentPayload,
    SettleTournamentInput,
    Tournament,
    TournamentEntry,
    TournamentPayload,
    TournamentState,
    UpdateTournamentInput,
)
from services.tournaments import definitions, entries, lifecycle, queries, settlement


async def tournaments_list(
    info: Info,
    states: list[TournamentState] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Tournament]:
    viewer = info.context.viewer
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            queries.listed(viewer, states or ()),
            (col(TournamentRow.starts_at), col(TournamentRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        counts = await queries.entry_counts(db, [t.id for t in page.items]) if viewer.is_staff else {}
    return Connection.of(
        page, lambda t: Tournament.from_model(t, entries=counts.get(t.id, 0) if viewer.is_staff else None)
    )


async def tournament(info: Info, id: strawberry.ID) -> Tournament | None:
    viewer = info.context.viewer
    async with info.context.rt.database.session() as db:
        try:
            found = await queries.get_readable(db, viewer, node_uuid(id, "Tournament"))
        except NotFound:
            return None
        counts = await queries.entry_counts(db, [found.id]) if viewer.is_staff else {}
        payouts = await queries.prizes(db, found.id)
    return Tournament.from_model(found, entries=counts.get(found.id, 0) if viewer.is_staff else None, payouts=payouts)


async def my_tournament_entries(
    info: Info, first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None
) -> Connection[TournamentEntry]:
    require_subject(info)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            queries.my_entries(info.context.viewer),
            (col(EntryRow.joined_at), col(EntryRow.tournament_id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        found = await queries.tournaments_by_id(db, [e.tournament_id for e in page.items])
    return Connection.of(page, lambda e: TournamentEntry.from_model(e, Tournament.from_model(found[e.tournament_id])))


def _draft(input: CreateTournamentInput) -> definitions.Draft:
    return definitions.Draft(
        name=input.name,
        currency=input.currency,
        starts_at=input.starts_at,
        ends_at=input.ends_at,
        scoring=input.scoring,
        points=input.points,
        per=input.per,
        games=list(input.games),
        categories=list(input.categories),
        providers=list(input.providers),
        min_bet=input.min_bet,
        rounds_cap=input.rounds_cap,
        entry_mode=input.entry_mode,
        buy_in=input.buy_in,
        max_rebuys=input.max_rebuys,
        jurisdictions=list(input.jurisdictions),
        prizes=[
            definitions.PrizeDraft(
                rank_from=p.rank_from,
                rank_to=p.rank_to,
                kind=p.kind,
                amount=p.amount,
                share_bps=p.share_bps,
                campaign_id=node_uuid(p.campaign_id, "BonusCampaign") if p.campaign_id else None,
            )
            for p in input.prizes
        ],
    )


@payload_errors(TournamentPayload)
async def create_tournament(info: Info, input: CreateTournamentInput) -> TournamentPayload:
    require_subject(info)
    brand_id = node_uuid(input.brand_id, "Brand") if input.brand_id else None
    created = await lifecycle.create(info.context.rt, info.context.viewer, _draft(input), brand_id=brand_id)
    return TournamentPayload(tournament=Tournament.from_model(created, entries=0))


@payload_errors(TournamentPayload)
async def update_tournament(info: Info, input: UpdateTournamentInput) -> TournamentPayload:
    require_subject(info)
    tournament_id = node_uuid(input.tournament_id, "Tournament")
    updated = await lifecycle.update(info.context.rt, info.context.viewer, tournament_id, _draft(input.definition))
    return TournamentPayload(tournament=Tournament.from_model(updated, entries=0))


@payload_errors(JoinTournamentPayload)
async def join_tournament(info: Info, input: JoinTournamentInput) -> JoinTournamentPayload:
    require_subject(info)
    tournament_id = node_uuid(input.tournament_id, "Tournament")
    entry = await entries.join(info.context.rt, info.context.viewer, tournament_id, rebuy_number=input.rebuy_number)
    async with info.context.rt.database.session() as db:
        found = await queries.get_readable(db, info.context.viewer, tournament_id)
    return JoinTournamentPayload(entry=TournamentEntry.from_model(entry, Tournament.from_model(found)))


@payload_errors(TournamentPayload)
async def cancel_tournament(info: Info, input: CancelTournamentInput) -> TournamentPayload:
    require_subject(info)
    tournament_id = node_uuid(input.tournament_id, "Tournament")
    cancelled = await lifecycle.cancel(info.context.rt, info.context.viewer, tournament_id, input.reason)
    return TournamentPayload(tournament=Tournament.from_model(cancelled))


@payload_errors(TournamentPayload)
async def settle_tournament(info: Info, input: SettleTournamentInput) -> TournamentPayload:
    require_subject(info)
    tournament_id = node_uuid(input.tournament_id, "Tournament")
    settled = await settlement.settle(info.context.rt, info.context.viewer, tournament_id)
    async with info.context.rt.database.session() as db:
        payouts = await queries.prizes(db, settled.id)
    return TournamentPayload(tournament=Tournament.from_model(settled, payouts=payouts))
