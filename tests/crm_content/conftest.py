"""Content fixtures: a content manager, GraphQL helpers to create and publish items, and segments with members
(rows inserted directly: segment rules are the crmseg part's; content only reads membership)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from models.crm import CrmSegment, CrmSegmentMember

ITEM_FIELDS = """id kind key name status publishAt unpublishAt
  latest { version segmentId jurisdictions priority defaultLanguage translations { language title body linkUrl } }
  live { version }"""
CREATE = f"""
mutation($input: CreateContentItemInput!) {{
  createContentItem(input: $input) {{ item {{ {ITEM_FIELDS} }} errors {{ code field message }} }}
}}"""
UPDATE = f"""
mutation($input: UpdateContentItemInput!) {{
  updateContentItem(input: $input) {{ item {{ {ITEM_FIELDS} }} errors {{ code field message }} }}
}}"""
PUBLISH = f"""
mutation($input: PublishContentItemInput!) {{
  publishContentItem(input: $input) {{ item {{ {ITEM_FIELDS} }} errors {{ code field message }} }}
}}"""
UNPUBLISH = f"""
mutation($input: UnpublishContentItemInput!) {{
  unpublishContentItem(input: $input) {{ item {{ {ITEM_FIELDS} }} errors {{ code field message }} }}
}}"""
ENTRY = "id version kind key language title body imageUrl linkUrl ctaLabel startsAt endsAt"
BANNERS = f"""query($placement: String!, $brand: String, $language: String) {{
  banners(placement: $placement, brand: $brand, language: $language) {{ {ENTRY} }}
}}"""
PAGE = f"""query($slug: String!, $brand: String) {{ promotionPage(slug: $slug, brand: $brand) {{ {ENTRY} }} }}"""
BLOCK = f"""query($key: String!, $brand: String) {{ contentBlock(key: $key, brand: $brand) {{ {ENTRY} }} }}"""
PREVIEW = f"""query($input: ContentPreviewInput!) {{
  contentPreview(input: $input) {{ language jurisdiction segmentCount entries {{ {ENTRY} }} }}
}}"""


def texts(**languages: str) -> list[dict[str, Any]]:
    return [{"language": language, "title": title, "body": f"{title} body"} for language, title in languages.items()]


@pytest.fixture
async def editor(make_staff: Any) -> Any:
    return await make_staff(("content_manager", None))


@pytest.fixture
def content(gql: Any, editor: Any) -> Any:
    """Create an item (and publish it unless `publish=False`); returns the item as the API answered."""

    async def make(
        key: str = "home-top",
        *,
        kind: str = "BANNER",
        brand: str = "royal",
        title: str = "Welcome",
        publish: bool = True,
        token: str | None = None,
        **version: Any,
    ) -> dict[str, Any]:
        body = await gql(
            CREATE,
            {
                "input": {
                    "brand": brand,
                    "kind": kind,
                    "key": key,
                    "name": f"{key} {title}",
                    "content": {"defaultLanguage": "en", "translations": texts(en=title), **version},
                }
            },
            token=token or editor.token,
        )
        payload = body["data"]["createContentItem"]
        assert payload["errors"] == [], payload
        item: dict[str, Any] = payload["item"]
        if publish:
            body = await gql(PUBLISH, {"input": {"id": item["id"]}}, token=token or editor.token)
            assert body["data"]["publishContentItem"]["errors"] == [], body
            item = body["data"]["publishContentItem"]["item"]
        return item

    return make


@pytest.fixture
def segment(rt: Any, brand: Any) -> Any:
    """A segment of the royal brand (or `brand_id`) with the given players as members."""

    async def make(*player_ids: uuid.UUID, brand_id: uuid.UUID | None = None, status: str = "active") -> uuid.UUID:
        async with rt.database.transaction() as db:
            row = CrmSegment(
                brand_id=brand_id or brand.id, name=f"VIPs {uuid.uuid4().hex[:8]}", kind="static", status=status
            )
            db.add(row)
            await db.flush()
            for player_id in player_ids:
                db.add(CrmSegmentMember(segment_id=row.id, player_id=player_id))
        return row.id

    return make
