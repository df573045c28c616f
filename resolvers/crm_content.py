"""Content resolvers (thin: the rules live in services/crm/content). Public reads resolve the viewer's
audience and serve from the per-audience cache; staff reads list items a page at a time (one statement for
the page's versions); mutations map domain errors into payloads."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from sqlmodel import col
from strawberry import relay

from core.errors import DomainError, NotFound, bad_input, forbidden
from core.pagination import paginate
from models.crm_content import ContentItem as ItemRow
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.crm_content import (
    ContentEntry,
    ContentItem,
    ContentItemFilter,
    ContentItemPayload,
    ContentKind,
    ContentPreview,
    ContentPreviewInput,
    ContentVersion,
    ContentVersionInput,
    CreateContentItemInput,
    PublishContentItemInput,
    UnpublishContentItemInput,
    UpdateContentItemInput,
)
from services.crm.content import items, serving


def _accept_language(info: Info) -> str | None:
    request: Any = info.context.request
    return request.headers.get("accept-language") if request is not None else None


async def _served(
    info: Info, kind: ContentKind, key: str, brand: str | None, language: str | None
) -> list[ContentEntry]:
    rt = info.context.rt
    try:
        audience = await serving.audience_of(
            rt, info.context.viewer, brand_code=brand, language=language, accept_language=_accept_language(info)
        )
        shown = await serving.served(rt, audience, kind.value, key.strip().lower())
    except ValueError as exc:  # an unknown language argument
        raise bad_input(str(exc), field="language") from exc
    except DomainError as exc:  # queries have no payload: a bad brand or language is bad input
        raise bad_input(exc.message, field=exc.field or "brand") from exc
    return [ContentEntry.of(s) for s in shown]


async def banners(
    info: Info, placement: str, brand: str | None = None, language: str | None = None
) -> list[ContentEntry]:
    """The banners of a placement the viewer gets now, highest priority first."""
    return await _served(info, ContentKind.BANNER, placement, brand, language)


async def promotion_page(
    info: Info, slug: str, brand: str | None = None, language: str | None = None
) -> ContentEntry | None:
    found = await _served(info, ContentKind.PROMOTION, slug, brand, language)
    return found[0] if found else None


async def content_block(
    info: Info, key: str, brand: str | None = None, language: str | None = None
) -> ContentEntry | None:
    found = await _served(info, ContentKind.BLOCK, key, brand, language)
    return found[0] if found else None


# ---- staff --------------------------------------------------------------------------------------


async def content_items(
    info: Info,
    filter: ContentItemFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[ContentItem]:
    require_subject(info)
    where = items.ItemFilter(
        brand_code=filter.brand if filter else None,
        kind=filter.kind.value if filter and filter.kind else None,
        key=filter.key if filter else None,
        status=filter.status.value if filter and filter.status else None,
    )
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            items.items_query(info.context.viewer, where),
            (col(ItemRow.updated_at), col(ItemRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        views = {view.item.id: view for view in await items.views_of(db, list(page.items))}
    return Connection.of(page, lambda row: ContentItem.of(views[row.id]))


async def content_item(info: Info, id: strawberry.ID) -> ContentItem | None:
    require_subject(info)
    async with info.context.rt.database.session() as db:
        try:
            return ContentItem.of(await items.get_item(db, info.context.viewer, node_uuid(id, "ContentItem")))
        except NotFound:
            return None


async def content_versions(info: Info, item_id: strawberry.ID) -> list[ContentVersion]:
    """Every version of an item, newest first."""
    require_subject(info)
    async with info.context.rt.database.session() as db:
        rows = await items.versions_of(db, info.context.viewer, node_uuid(item_id, "ContentItem"))
    return [ContentVersion.of(row) for row in rows]


async def content_preview(info: Info, input: ContentPreviewInput) -> ContentPreview:
    """What a player (or an anonymous visitor) would see, drafts included when named; nothing cached."""
    require_subject(info)
    if input.player_id and "Query.player" not in info.context.allowed:
        # A player's preview tells their language, jurisdiction and segments: for staff who may look players up.
        raise forbidden("Previewing as a given player needs the right to look players up.")
    request = serving.PreviewRequest(
        kind=input.kind.value if input.kind else None,
        key=input.key.strip().lower() if input.key else None,
        brand_code=input.brand,
        player_id=node_uuid(input.player_id, "Player") if input.player_id else None,
        language=input.language,
        country=input.country,
        at=input.at,
        draft_item_id=node_uuid(input.draft_item_id, "ContentItem") if input.draft_item_id else None,
    )
    try:
        audience, shown = await serving.preview(info.context.rt, info.context.viewer, request)
    except DomainError as exc:
        raise bad_input(exc.message, field=exc.field or "input") from exc
    return ContentPreview(
        language=audience.language,
        jurisdiction=audience.jurisdiction,
        segment_count=len(audience.segments),
        entries=[ContentEntry.of(s) for s in shown],
    )


def _segment_id(value: strawberry.ID | None) -> uuid.UUID | None:
    """A segment's global id (whatever its type's name) or its plain uuid."""
    if not value:
        return None
    try:
        return uuid.UUID(relay.GlobalID.from_id(value).node_id)
    except (ValueError, TypeError):
        pass
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise DomainError("Expected the id of a segment.", field="content.segmentId") from exc


def _content(input: ContentVersionInput) -> dict[str, Any]:
    languages = [t.language for t in input.translations]
    if len(set(languages)) != len(languages):
        raise DomainError("One translation per language.", field="content.translations")
    return {
        "segment_id": _segment_id(input.segment_id),
        "jurisdictions": tuple(input.jurisdictions),
        "priority": input.priority,
        "default_language": input.default_language,
        "translations": {
            t.language: {
                "title": t.title,
                "body": t.body,
                "image_url": t.image_url or None,
                "link_url": t.link_url or None,
                "cta_label": t.cta_label or None,
            }
            for t in input.translations
        },
    }


def _prefixed(exc: DomainError) -> DomainError:
    """A version's field as the input names it (`content.translations.en.title`)."""
    if exc.field and not exc.field.startswith("content") and exc.field.split(".")[0] in (
        "segmentId", "jurisdictions", "priority", "defaultLanguage", "translations",
    ):  # fmt: skip
        exc.field = f"content.{exc.field}"
    return exc


@payload_errors(ContentItemPayload)
async def create_content_item(info: Info, input: CreateContentItemInput) -> ContentItemPayload:
    require_subject(info)
    try:
        view = await items.create_item(
            info.context.rt, info.context.viewer, brand_code=input.brand, kind=input.kind, key=input.key,
            name=input.name, content=_content(input.content),
        )  # fmt: skip
    except DomainError as exc:
        raise _prefixed(exc) from exc
    return ContentItemPayload(item=ContentItem.of(view))


@payload_errors(ContentItemPayload)
async def update_content_item(info: Info, input: UpdateContentItemInput) -> ContentItemPayload:
    require_subject(info)
    try:
        view = await items.edit_item(
            info.context.rt, info.context.viewer, item_id=node_uuid(input.id, "ContentItem"),
            content=_content(input.content), name=input.name, key=input.key,
        )  # fmt: skip
    except DomainError as exc:
        raise _prefixed(exc) from exc
    return ContentItemPayload(item=ContentItem.of(view))


@payload_errors(ContentItemPayload)
async def publish_content_item(info: Info, input: PublishContentItemInput) -> ContentItemPayload:
    require_subject(info)
    view = await items.publish_item(
        info.context.rt, info.context.viewer, item_id=node_uuid(input.id, "ContentItem"), version=input.version,
        publish_at=input.publish_at, unpublish_at=input.unpublish_at,
    )  # fmt: skip
    return ContentItemPayload(item=ContentItem.of(view))


@payload_errors(ContentItemPayload)
async def unpublish_content_item(info: Info, input: UnpublishContentItemInput) -> ContentItemPayload:
    require_subject(info)
    view = await items.unpublish_item(
        info.context.rt, info.context.viewer, item_id=node_uuid(input.id, "ContentItem"), at=input.at
    )
    return ContentItemPayload(item=ContentItem.of(view))
