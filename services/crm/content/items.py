"""The staff commands and reads of content items: create (version 1, a draft), edit (a new version; the
live one keeps serving until the new one is published), publish a version with a schedule, unpublish now
or at an instant. Staff scoped to a brand act on that brand's items only; every command is audited and,
after its commit, drops the served content everywhere (`serving.content_changed`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from authz.subjects import Viewer
from core.clock import clock, utc
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.crm import CrmSegment
from models.crm_content import ContentItem, ContentKind, ContentStatus, ContentVersion
from services import audit, brands
from services.crm.content import rules, serving


@dataclass(frozen=True)
class ItemView:
    """An item with its newest version and the live one (the same row when the newest is live)."""

    item: ContentItem
    latest: ContentVersion
    live: ContentVersion | None


def _in_scope(viewer: Viewer, brand_id: uuid.UUID) -> None:
    if viewer.brand_id is not None and viewer.brand_id != brand_id:
        raise NotFound("No such content item.", field="id")


async def _item_for_update(db: AsyncSession, viewer: Viewer, item_id: uuid.UUID) -> ContentItem:
    item = await db.scalar(select(ContentItem).where(col(ContentItem.id) == item_id).with_for_update())
    if item is None:
        raise NotFound("No such content item.", field="id")
    _in_scope(viewer, item.brand_id)
    return item


async def _check_segment(db: AsyncSession, brand_id: uuid.UUID, version: rules.VersionRules) -> None:
    if version.segment_id is None:
        return
    owner = await db.scalar(select(col(CrmSegment.brand_id)).where(col(CrmSegment.id) == version.segment_id))
    if owner != brand_id:
        raise DomainError("No such segment in this brand.", field="content.segmentId", code=ErrorCode.NOT_FOUND)


def _version_row(item_id: uuid.UUID, number: int, version: rules.VersionRules, actor: Viewer) -> ContentVersion:
    return ContentVersion(
        item_id=item_id,
        version=number,
        segment_id=version.segment_id,
        jurisdictions=list(version.jurisdictions),
        priority=version.priority,
        default_language=version.default_language,
        translations=version.stored_translations(),
        created_by=actor.id if actor.is_staff else None,
    )


def _summary(item: ContentItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "key": item.key,
        "name": item.name,
        "status": item.status,
        "latest_version": item.latest_version,
        "live_version": item.live_version,
        "publish_at": item.publish_at,
        "unpublish_at": item.unpublish_at,
    }


async def _audit(
    db: AsyncSession, actor: Viewer, action: str, item: ContentItem, before: dict[str, Any] | None
) -> None:
    await audit.append(
        db,
        actor=actor,
        action=action,
        target_type="content_item",
        target_id=item.id,
        brand_id=item.brand_id,
        before=before,
        after=_summary(item),
    )


async def create_item(
    rt: Runtime, actor: Viewer, *, brand_code: str, kind: ContentKind, key: str, name: str, content: dict[str, Any]
) -> ItemView:
    """A new item with its first version, a draft (nothing is served until it is published)."""
    key = rules.valid_key(key)
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise DomainError("A name is 1 to 120 characters.", field="name")
    version = rules.parse(content)
    async with rt.database.transaction() as db:
        brand = await brands.get_by_code(db, brand_code)
        if actor.brand_id is not None and actor.brand_id != brand.id:
            raise DomainError("That brand is outside your scope.", field="brand", code=ErrorCode.NOT_ALLOWED)
        await _check_segment(db, brand.id, version)
        item = ContentItem(
            brand_id=brand.id, kind=kind.value, key=key, name=name, created_by=actor.id if actor.is_staff else None
        )
        db.add(item)
        await db.flush()
        row = _version_row(item.id, 1, version, actor)
        db.add(row)
        await db.flush()
        await _audit(db, actor, "content.create", item, None)
    return ItemView(item, row, None)


async def edit_item(
    rt: Runtime,
    actor: Viewer,
    *,
    item_id: uuid.UUID,
    content: dict[str, Any],
    name: str | None = None,
    key: str | None = None,
) -> ItemView:
    """A new version of the item (and its name or key, when given). A published item keeps serving its
    live version; the new one is served once published. A changed key moves the item at once."""
    version = rules.parse(content)
    new_key = rules.valid_key(key) if key is not None else None
    async with rt.database.transaction() as db:
        item = await _item_for_update(db, actor, item_id)
        before = _summary(item)
        await _check_segment(db, item.brand_id, version)
        number = item.latest_version + 1
        row = _version_row(item.id, number, version, actor)
        db.add(row)
        item.latest_version = number
        if name is not None:
            if not 1 <= len(name.strip()) <= 120:
                raise DomainError("A name is 1 to 120 characters.", field="name")
            item.name = name.strip()
        if new_key is not None:
            item.key = new_key
        item.updated_at = clock.now()
        await db.flush()
        await _audit(db, actor, "content.edit", item, before)
        live = await _version(db, item.id, item.live_version) if item.live_version else None
    if new_key is not None and item.status == ContentStatus.PUBLISHED.value:
        await serving.content_changed(rt)
    return ItemView(item, row, live)


async def publish_item(
    rt: Runtime,
    actor: Viewer,
    *,
    item_id: uuid.UUID,
    version: int | None = None,
    publish_at: datetime | None = None,
    unpublish_at: datetime | None = None,
) -> ItemView:
    """Serve `version` (the newest when None) from `publish_at` (now when None) until `unpublish_at`
    (open when None). Publishing again replaces the live version and the window."""
    now = clock.now()
    publish_at, unpublish_at = utc(publish_at), utc(unpublish_at)
    start = publish_at or now
    if unpublish_at is not None and unpublish_at <= start:
        raise DomainError("The end of the window must come after its start.", field="unpublishAt")
    if unpublish_at is not None and unpublish_at <= now:
        raise DomainError("The end of the window has passed already.", field="unpublishAt")
    async with rt.database.transaction() as db:
        item = await _item_for_update(db, actor, item_id)
        before = _summary(item)
        number = version if version is not None else item.latest_version
        chosen = await _version(db, item.id, number)
        if chosen is None:
            raise DomainError(f"The item has no version {number}.", field="version", code=ErrorCode.NOT_FOUND)
        item.status = ContentStatus.PUBLISHED.value
        item.live_version = number
        item.publish_at = start
        item.unpublish_at = unpublish_at
        item.updated_at = now
        await db.flush()
        await _audit(db, actor, "content.publish", item, before)
        latest = chosen if number == item.latest_version else await _version(db, item.id, item.latest_version)
    await serving.content_changed(rt)
    assert latest is not None
    return ItemView(item, latest, chosen)


async def unpublish_item(rt: Runtime, actor: Viewer, *, item_id: uuid.UUID, at: datetime | None = None) -> ItemView:
    """Stop serving the item now (`at` None or past), or schedule the end of its window at `at`."""
    now = clock.now()
    at = utc(at)
    async with rt.database.transaction() as db:
        item = await _item_for_update(db, actor, item_id)
        if item.status != ContentStatus.PUBLISHED.value:
            raise DomainError("The item is not published.", field="id", code=ErrorCode.NOT_ALLOWED)
        before = _summary(item)
        if at is not None and at > now:
            if item.publish_at is not None and at <= item.publish_at:
                raise DomainError("The end of the window must come after its start.", field="at")
            item.unpublish_at = at
        else:
            item.status = ContentStatus.UNPUBLISHED.value
            item.unpublish_at = now if item.publish_at is not None and item.publish_at < now else None
        item.updated_at = now
        await db.flush()
        await _audit(db, actor, "content.unpublish", item, before)
        latest = await _version(db, item.id, item.latest_version)
        live = await _version(db, item.id, item.live_version) if item.live_version else None
    await serving.content_changed(rt)
    assert latest is not None
    return ItemView(item, latest, live)


async def _version(db: AsyncSession, item_id: uuid.UUID, number: int) -> ContentVersion | None:
    found: ContentVersion | None = await db.scalar(
        select(ContentVersion).where(col(ContentVersion.item_id) == item_id, col(ContentVersion.version) == number)
    )
    return found


# ---- staff reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFilter:
    brand_code: str | None = None
    kind: str | None = None
    key: str | None = None
    status: str | None = None


def items_query(viewer: Viewer, where: ItemFilter) -> Select[Any]:
    """The items a staff member may list (their brand's, or all for global roles), filtered."""
    stmt: Any = select(ContentItem)
    if viewer.brand_id is not None:
        stmt = stmt.where(col(ContentItem.brand_id) == viewer.brand_id)
    if where.brand_code:
        from models.brands import Brand

        stmt = stmt.where(
            col(ContentItem.brand_id)
            == select(col(Brand.id)).where(col(Brand.code) == brands.normalise_code(where.brand_code)).scalar_subquery()
        )
    if where.kind:
        stmt = stmt.where(col(ContentItem.kind) == where.kind)
    if where.key:
        stmt = stmt.where(col(ContentItem.key) == where.key.strip().lower())
    if where.status:
        stmt = stmt.where(col(ContentItem.status) == where.status)
    return stmt  # type: ignore[no-any-return]


async def views_of(db: AsyncSession, items: list[ContentItem]) -> list[ItemView]:
    """The items with their newest and live versions: one statement for the whole page."""
    if not items:
        return []
    wanted = and_(
        col(ContentVersion.item_id) == col(ContentItem.id),
        (col(ContentVersion.version) == col(ContentItem.latest_version))
        | (col(ContentVersion.version) == col(ContentItem.live_version)),
    )
    rows = (
        await db.scalars(
            select(ContentVersion).join(ContentItem, wanted).where(col(ContentItem.id).in_([i.id for i in items]))
        )
    ).all()
    versions = {(row.item_id, row.version): row for row in rows}
    return [
        ItemView(
            item,
            versions[(item.id, item.latest_version)],
            versions.get((item.id, item.live_version)) if item.live_version else None,
        )
        for item in items
    ]


async def get_item(db: AsyncSession, viewer: Viewer, item_id: uuid.UUID) -> ItemView:
    item = await db.scalar(select(ContentItem).where(col(ContentItem.id) == item_id))
    if item is None:
        raise NotFound("No such content item.", field="id")
    _in_scope(viewer, item.brand_id)
    return (await views_of(db, [item]))[0]


async def versions_of(db: AsyncSession, viewer: Viewer, item_id: uuid.UUID) -> list[ContentVersion]:
    """Every version of an item, newest first (one statement; scoped by the item's brand in SQL)."""
    stmt = (
        select(ContentVersion)
        .join(ContentItem, col(ContentItem.id) == col(ContentVersion.item_id))
        .where(col(ContentVersion.item_id) == item_id)
        .order_by(col(ContentVersion.version).desc())
    )
    if viewer.brand_id is not None:
        stmt = stmt.where(col(ContentItem.brand_id) == viewer.brand_id)
    return list((await db.scalars(stmt)).all())
