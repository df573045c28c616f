"""Content (docs/crm-content.md): banners, promotion pages and content blocks. Public fields resolve what the
viewer's brand, language, segments and jurisdiction get now (`ContentEntry`); staff edit items whose every
save is a version, publish one with a schedule, and preview what a given player would see."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from models.crm_content import ContentKind as ContentKindModel
from models.crm_content import ContentStatus as ContentStatusModel
from models.crm_content import ContentVersion as VersionRow
from schema.base import UserError, to_global_id
from schema.input_limits import TITLE, text
from services.crm.content.items import ItemView
from services.crm.content.serving import Shown

strawberry.enum(
    ContentKindModel,
    name="ContentKind",
    description="banner (per placement), promotion (page per slug), block (per key).",
)
strawberry.enum(
    ContentStatusModel, name="ContentStatus", description="draft (never published), published, unpublished."
)
ContentKind = ContentKindModel
ContentStatus = ContentStatusModel

BODY = 20_000
URL = 500


@strawberry.type(description="A piece of content as the viewer gets it, in the language chosen for them.")
class ContentEntry:
    id: strawberry.ID = strawberry.field(description="The content item's global id.")
    version: int
    kind: ContentKind
    key: str = strawberry.field(description="The banner placement, promotion page slug or block key.")
    language: str = strawberry.field(description="The language of the texts (the viewer's, else a fallback).")
    title: str
    body: str = strawberry.field(description="Plain text: frontends escape it.")
    image_url: str | None
    link_url: str | None
    cta_label: str | None
    starts_at: datetime | None = strawberry.field(description="Shown from (null in a draft's preview).")
    ends_at: datetime | None = strawberry.field(description="Shown until (null: open).")

    @classmethod
    def of(cls, shown: Shown) -> ContentEntry:
        return cls(
            id=strawberry.ID(str(to_global_id("ContentItem", shown.item_id))),
            version=shown.version,
            kind=ContentKind(shown.kind),
            key=shown.key,
            language=shown.language,
            title=shown.title,
            body=shown.body,
            image_url=shown.image_url,
            link_url=shown.link_url,
            cta_label=shown.cta_label,
            starts_at=shown.starts_at,
            ends_at=shown.ends_at,
        )


@strawberry.type(description="The texts of a version in one language.")
class ContentTranslation:
    language: str
    title: str
    body: str
    image_url: str | None
    link_url: str | None
    cta_label: str | None


@strawberry.type(description="One saved version of an item: whom it targets and its texts. Never changed.")
class ContentVersion:
    version: int
    segment_id: strawberry.ID | None = strawberry.field(description="The targeted CRM segment (null: everyone).")
    jurisdictions: list[str] = strawberry.field(description="Jurisdiction profiles served (empty: all).")
    priority: int
    default_language: str
    translations: list[ContentTranslation]
    created_at: datetime

    @classmethod
    def of(cls, row: VersionRow) -> ContentVersion:
        return cls(
            version=row.version,
            segment_id=strawberry.ID(str(row.segment_id)) if row.segment_id else None,
            jurisdictions=list(row.jurisdictions),
            priority=row.priority,
            default_language=row.default_language,
            translations=[
                ContentTranslation(
                    language=language,
                    title=words.get("title", ""),
                    body=words.get("body", ""),
                    image_url=words.get("image_url"),
                    link_url=words.get("link_url"),
                    cta_label=words.get("cta_label"),
                )
                for language, words in sorted(row.translations.items())
            ],
            created_at=row.created_at,
        )


@strawberry.type(description="A banner, promotion page or content block of a brand, with its newest and live versions.")
class ContentItem(relay.Node):
    id: relay.NodeID[str]
    brand_id: strawberry.ID
    kind: ContentKind
    key: str
    name: str
    status: ContentStatus
    latest: ContentVersion = strawberry.field(description="The newest version (what the next publish serves).")
    live: ContentVersion | None = strawberry.field(description="The version published (null: never published).")
    publish_at: datetime | None
    unpublish_at: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, view: ItemView) -> ContentItem:
        item = view.item
        return cls(
            id=str(item.id),
            brand_id=strawberry.ID(str(item.brand_id)),
            kind=ContentKind(item.kind),
            key=item.key,
            name=item.name,
            status=ContentStatus(item.status),
            latest=ContentVersion.of(view.latest),
            live=ContentVersion.of(view.live) if view.live else None,
            publish_at=item.publish_at,
            unpublish_at=item.unpublish_at,
            updated_at=item.updated_at,
        )


@strawberry.input(description="The texts in one language. URLs: http(s) or a site path starting with /.")
class ContentTranslationInput:
    language: str = text(16, description="A language code, e.g. en, de, pt-BR")
    title: str = text(200)
    body: str = text(BODY, default="")
    image_url: str | None = text(URL, default=None)
    link_url: str | None = text(URL, default=None)
    cta_label: str | None = text(80, default=None)


@strawberry.input(description="A version: whom it targets and its texts (one per language, the default among them).")
class ContentVersionInput:
    segment_id: strawberry.ID | None = text(
        80, description="A CRM segment of the item's brand (null: everyone)", default=None
    )
    jurisdictions: list[str] = strawberry.field(default_factory=list, description="Profiles served (empty: all).")
    priority: int = 0
    default_language: str = text(16, default="en")
    translations: list[ContentTranslationInput] = strawberry.field(default_factory=list)


@strawberry.input
class CreateContentItemInput:
    brand: str = text(40, description="The brand's code")
    kind: ContentKind
    key: str = text(80, description="Banner placement, promotion slug or block key")
    name: str = text(TITLE, description="An internal name")
    content: ContentVersionInput


@strawberry.input(description="Save a new version (and optionally rename or re-key the item).")
class UpdateContentItemInput:
    id: strawberry.ID = text(200)
    content: ContentVersionInput
    name: str | None = text(TITLE, default=None)
    key: str | None = text(80, default=None)


@strawberry.input(
    description="Serve a version (the newest when null) from `publishAt` (now) until `unpublishAt` (open)."
)
class PublishContentItemInput:
    id: strawberry.ID = text(200)
    version: int | None = None
    publish_at: datetime | None = None
    unpublish_at: datetime | None = None


@strawberry.input(description="Stop serving now, or at `at` (a scheduled end).")
class UnpublishContentItemInput:
    id: strawberry.ID = text(200)
    at: datetime | None = None


@strawberry.input(description="Whom to preview as: a player, else an anonymous visitor of `brand` from `country`.")
class ContentPreviewInput:
    kind: ContentKind | None = None
    key: str | None = text(80, default=None)
    brand: str | None = text(40, default=None)
    player_id: strawberry.ID | None = text(200, default=None)
    language: str | None = text(16, default=None)
    country: str | None = text(2, default=None)
    at: datetime | None = None
    draft_item_id: strawberry.ID | None = text(
        200, description="Serve this item's newest version as if published", default=None
    )


@strawberry.input
class ContentItemFilter:
    brand: str | None = text(40, default=None)
    kind: ContentKind | None = None
    key: str | None = text(80, default=None)
    status: ContentStatus | None = None


@strawberry.type
class ContentItemPayload:
    item: ContentItem | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="What the audience previewed gets: its language, jurisdiction and segment count.")
class ContentPreview:
    language: str
    jurisdiction: str | None
    segment_count: int
    entries: list[ContentEntry]
