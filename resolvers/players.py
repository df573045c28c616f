"""Player resolvers."""

from __future__ import annotations

import uuid

import strawberry
from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

from core.errors import DomainError, bad_input, forbidden
from core.pagination import paginate
from models import players as m
from models.audit import AuditRecord as AuditRow
from models.auth import AuthSession
from resolvers.audit import readable_topics
from resolvers.common import payload_errors, require_subject, set_auth_cookies
from schema.auth import AuthTokens
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.players import (
    AddPlayerNoteInput,
    AddPlayerNotePayload,
    LoginInput,
    LoginPayload,
    Player,
    PlayerFilter,
    PlayerNote,
    RegisterPlayerInput,
    RegisterPlayerPayload,
    Session,
    SetPlayerStatusInput,
    SetPlayerStatusPayload,
    UpdateProfileInput,
    UpdateProfilePayload,
)
from schema.staff import AuditRecord
from services import audit, player_search, players
from services import player_notes as player_notes_service


async def me(info: Info) -> Player | None:
    viewer = info.context.viewer
    if not viewer.is_player or viewer.id is None:
        return None
    player = await info.context.loaders.readable_player(viewer).load(viewer.id)  # shared with the lobby's audience
    return Player.from_model(player) if player else None


async def player(info: Info, id: strawberry.ID) -> Player | None:
    player_id = node_uuid(id, "Player")
    async with info.context.rt.database.session() as db:
        found = await db.scalar(players.readable_players(info.context.viewer).where(col(m.Player.id) == player_id))
    return Player.from_model(found) if found else None


# What a search may match on, and the fields a viewer must be allowed to read for it.
SEARCH_NEEDS = {
    player_search.SearchField.ID: ("Player.id",),
    player_search.SearchField.EMAIL: ("Player.email",),
    player_search.SearchField.NAME: ("Player.firstName", "Player.lastName"),
    player_search.SearchField.PHONE: ("Player.phone",),
}


def _search(info: Info, text: str) -> SelectOfScalar[m.Player]:
    allowed = info.context.allowed
    readable = [field for field, needs in SEARCH_NEEDS.items() if all(c in allowed for c in needs)]
    try:
        return player_search.search(info.context.viewer, text, readable)
    except player_search.SearchForbidden as exc:
        raise forbidden(exc.message) from exc
    except DomainError as exc:
        raise bad_input(exc.message, field=exc.field) from exc


async def player_by_id(info: Info, id: strawberry.ID) -> Player | None:
    """The player behind a row the viewer already reads (a payment, an adjustment), batched."""
    found = await info.context.loaders.readable_player(info.context.viewer).load(node_uuid(id, "Player"))
    return Player.from_model(found) if found else None


async def list_players(
    info: Info,
    filter: PlayerFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Player]:
    if filter is not None and filter.search and filter.search.strip():
        stmt = _search(info, filter.search)
    else:
        stmt = players.readable_players(info.context.viewer)
    if filter is not None:
        if filter.email and "Player.email" not in info.context.allowed:
            # A filter on a field the role may not read would leak it one character at a time.
            raise forbidden("Filtering by email needs permission to read Player.email.")
        if filter.email:
            email = filter.email.strip().lower()
            if email.endswith("*"):
                prefix = email[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                if len(prefix) < 2:
                    raise bad_input("An email prefix needs at least two characters.", field="filter.email")
                stmt = stmt.where(col(m.Player.email).like(prefix + "%"))
            else:
                stmt = stmt.where(col(m.Player.email) == email)
        if filter.status is not None:
            stmt = stmt.where(col(m.Player.status) == filter.status.value)
        if filter.country:
            stmt = stmt.where(col(m.Player.country) == filter.country.upper())
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db, stmt, (col(m.Player.created_at), col(m.Player.id)), first=first, after=after, last=last, before=before
        )
    return Connection.of(page, Player.from_model)


async def player_sessions(
    info: Info, player_id: uuid.UUID, *, first: int | None, after: str | None, last: int | None, before: str | None
) -> Connection[Session]:
    viewer = info.context.viewer
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            players.readable_sessions(viewer, player_id),
            (col(AuthSession.created_at), col(AuthSession.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, lambda s: Session.from_model(s, viewer.session_id))


async def player_notes(
    info: Info, player_id: uuid.UUID, *, first: int | None, after: str | None, last: int | None, before: str | None
) -> Connection[PlayerNote]:
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            player_notes_service.readable_notes(info.context.viewer, player_id),
            (col(m.PlayerNote.created_at), col(m.PlayerNote.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, PlayerNote.from_model)


async def player_audit_trail(
    info: Info, player_id: uuid.UUID, *, first: int | None, after: str | None, last: int | None, before: str | None
) -> Connection[AuditRecord]:
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            audit.player_trail(info.context.viewer, player_id, topics=readable_topics(info)),
            (col(AuditRow.seq),),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, AuditRecord.from_model)


@payload_errors(AddPlayerNotePayload)
async def add_player_note(info: Info, input: AddPlayerNoteInput) -> AddPlayerNotePayload:
    require_subject(info)
    note = await player_notes_service.add_note(
        info.context.rt, info.context.viewer, node_uuid(input.player_id, "Player"), input.body
    )
    return AddPlayerNotePayload(note=PlayerNote.from_model(note))


@payload_errors(RegisterPlayerPayload)
async def register_player(info: Info, input: RegisterPlayerInput) -> RegisterPlayerPayload:
    form = players.Registration(
        brand=input.brand,
        email=input.email,
        password=input.password,
        date_of_birth=input.date_of_birth,
        country=input.country,
        currency=input.currency,
        marketing_consent=input.marketing_consent,
        first_name=input.first_name,
        last_name=input.last_name,
        phone=input.phone,
        address_line1=input.address_line1,
        address_line2=input.address_line2,
        city=input.city,
        postal_code=input.postal_code,
        affiliate_click=input.affiliate_click,
        language=input.language,
        time_zone=input.time_zone,
    )
    created, tokens = await players.register(info.context.rt, form, info.context.viewer.meta)
    set_auth_cookies(info, tokens)
    return RegisterPlayerPayload(player=Player.from_model(created), tokens=AuthTokens.from_issued(tokens))


@payload_errors(LoginPayload)
async def login(info: Info, input: LoginInput) -> LoginPayload:
    found, tokens = await players.login(
        info.context.rt,
        brand_code=input.brand,
        email=input.email,
        password=input.password,
        meta=info.context.viewer.meta,
        purpose=input.purpose,
    )
    set_auth_cookies(info, tokens)
    return LoginPayload(player=Player.from_model(found), tokens=AuthTokens.from_issued(tokens))


@payload_errors(UpdateProfilePayload)
async def update_profile(info: Info, input: UpdateProfileInput) -> UpdateProfilePayload:
    viewer = info.context.viewer
    if not viewer.is_player:
        raise forbidden("Only players have a profile.")
    change = players.ProfileChange(
        first_name=input.first_name,
        last_name=input.last_name,
        phone=input.phone,
        address_line1=input.address_line1,
        address_line2=input.address_line2,
        city=input.city,
        postal_code=input.postal_code,
        marketing_consent=input.marketing_consent,
        language=input.language,
        time_zone=input.time_zone,
    )
    updated = await players.update_profile(info.context.rt, viewer, change)
    return UpdateProfilePayload(player=Player.from_model(updated))


@payload_errors(SetPlayerStatusPayload)
async def set_player_status(info: Info, input: SetPlayerStatusInput) -> SetPlayerStatusPayload:
    require_subject(info)
    player_id = node_uuid(input.player_id, "Player")
    updated = await players.set_status(
        info.context.rt, info.context.viewer, player_id, m.PlayerStatus(input.status.value), input.reason
    )
    return SetPlayerStatusPayload(player=Player.from_model(updated))
