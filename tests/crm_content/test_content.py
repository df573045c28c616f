"""Content through the public API: what a viewer gets for their brand, language, segments and jurisdiction;
versions, scheduled publish and unpublish; the per-audience cache and its drop on publish; the staff preview
as a given player; refusals of bad input with nothing written; brand scope; bounded statements."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text

from core.clock import clock
from models.audit import AuditRecord
from models.crm_content import ContentItem, ContentVersion
from tests.conftest import error_codes, recorded_statements
from tests.crm_content.conftest import BANNERS, BLOCK, PAGE, PREVIEW, PUBLISH, UNPUBLISH, UPDATE, texts

ITEMS = """query($filter: ContentItemFilter, $first: Int) {
  contentItems(filter: $filter, first: $first) { edges { node { id key status latest { version } live { version } } } }
}"""
VERSIONS = "query($id: ID!) { contentVersions(itemId: $id) { version translations { language title } } }"


async def banner_titles(gql: Any, placement: str = "home-top", **kwargs: Any) -> list[str]:
    token = kwargs.pop("token", None)
    headers = kwargs.pop("headers", None)
    body = await gql(BANNERS, {"placement": placement, **kwargs}, token=token, headers=headers)
    assert "errors" not in body, body
    return [entry["title"] for entry in body["data"]["banners"]]


async def test_a_draft_is_served_once_published_and_its_edits_once_republished(
    gql: Any, content: Any, editor: Any, rt: Any
) -> None:
    item = await content(publish=False, title="Draft banner")
    assert item["status"] == "DRAFT"
    assert item["live"] is None
    assert await banner_titles(gql, brand="royal") == []

    published = (await gql(PUBLISH, {"input": {"id": item["id"]}}, token=editor.token))["data"]["publishContentItem"]
    assert published["item"]["status"] == "PUBLISHED"
    assert published["item"]["live"] == {"version": 1}
    assert await banner_titles(gql, brand="royal") == ["Draft banner"]

    edited = await gql(
        UPDATE,
        {"input": {"id": item["id"], "content": {"defaultLanguage": "en", "translations": texts(en="Edited")}}},
        token=editor.token,
    )
    edited_item = edited["data"]["updateContentItem"]["item"]
    assert edited_item["latest"]["version"] == 2
    assert edited_item["live"] == {"version": 1}
    assert await banner_titles(gql, brand="royal") == ["Draft banner"]  # the live version serves on

    await gql(PUBLISH, {"input": {"id": item["id"]}}, token=editor.token)
    assert await banner_titles(gql, brand="royal") == ["Edited"]  # the cache was dropped by the publish
    # Back to version 1, and every version kept.
    await gql(PUBLISH, {"input": {"id": item["id"], "version": 1}}, token=editor.token)
    assert await banner_titles(gql, brand="royal") == ["Draft banner"]
    versions = (await gql(VERSIONS, {"id": item["id"]}, token=editor.token))["data"]["contentVersions"]
    assert [v["version"] for v in versions] == [2, 1]

    gone = await gql(UNPUBLISH, {"input": {"id": item["id"]}}, token=editor.token)
    assert gone["data"]["unpublishContentItem"]["item"]["status"] == "UNPUBLISHED"
    assert await banner_titles(gql, brand="royal") == []
    async with rt.database.session() as db:
        actions = (await db.scalars(select(AuditRecord.action).where(AuditRecord.action.like("content.%")))).all()
    assert sorted(actions) == sorted(
        ["content.create", "content.publish", "content.edit", "content.publish", "content.publish", "content.unpublish"]
    )


async def test_texts_come_in_the_viewers_language_else_the_default(
    gql: Any, content: Any, editor: Any, make_player: Any, rt: Any
) -> None:
    await content(
        "lobby",
        kind="BLOCK",
        title="Hello",
        translations=[
            {"language": "en", "title": "Hello", "body": "Play now"},
            {"language": "de", "title": "Hallo", "body": "Jetzt spielen"},
            {"language": "pt-BR", "title": "Olá", "body": "Jogue agora"},
        ],
    )

    async def block(**kwargs: Any) -> dict[str, Any]:
        token, headers = kwargs.pop("token", None), kwargs.pop("headers", None)
        body = await gql(BLOCK, {"key": "lobby", **kwargs}, token=token, headers=headers)
        assert "errors" not in body, body
        entry: dict[str, Any] = body["data"]["contentBlock"]
        return entry

    assert (await block(brand="royal"))["title"] == "Hello"
    found = await block(brand="royal", headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"})
    assert (found["title"], found["language"]) == ("Hallo", "de")
    assert (await block(brand="royal", headers={"Accept-Language": "pt"}))["title"] == "Olá"
    assert (await block(brand="royal", headers={"Accept-Language": "fr"}))["title"] == "Hello"
    # A player's stored language wins over the browser's.
    player = await make_player()
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE players SET language = 'de' WHERE id = :id"), {"id": player.uuid})
    assert (await block(token=player.token, headers={"Accept-Language": "en"}))["title"] == "Hallo"
    # An unknown language argument is bad input, not an internal error; a missing brand too.
    body = await gql(BANNERS, {"placement": "x", "brand": "royal", "language": "xx-notalanguage"})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert error_codes(await gql(BANNERS, {"placement": "x"})) == ["BAD_USER_INPUT"]
    assert error_codes(await gql(BANNERS, {"placement": "x", "brand": "nope"})) == ["BAD_USER_INPUT"]


async def test_segment_and_jurisdiction_content_reaches_only_its_audience(
    gql: Any, content: Any, make_player: Any, segment: Any, rt: Any, brand: Any
) -> None:
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE brands SET jurisdictions = '{MT,DEFAULT}' WHERE id = :id"), {"id": brand.id})
    vip = await make_player(country="MT")
    other = await make_player(country="SE")
    vips = await segment(vip.uuid)
    await segment(other.uuid, status="archived")  # a member of an archived segment gets nothing from it
    await content(title="For everyone")
    await content(title="For VIPs", segmentId=str(vips), priority=10)
    await content(title="Malta only", jurisdictions=["MT"], priority=5)

    assert await banner_titles(gql, token=vip.token) == ["For VIPs", "Malta only", "For everyone"]
    assert await banner_titles(gql, token=other.token) == ["For everyone"]
    assert await banner_titles(gql, brand="royal") == ["For everyone"]  # anonymous: no segment content
    # An anonymous visitor from Malta (as the trusted proxy reports it) gets Malta's content.
    malta = {"CF-IPCountry": "MT", "X-Country": "MT"}
    titles = await banner_titles(gql, brand="royal", headers=malta)
    assert "For VIPs" not in titles


async def test_a_schedule_needs_no_worker_and_the_cache_follows_it(
    gql: Any, content: Any, editor: Any, make_staff: Any
) -> None:
    item = await content("summer", kind="PROMOTION", title="Summer", publish=False)
    now = clock.now()
    body = await gql(
        PUBLISH,
        {
            "input": {
                "id": item["id"],
                "publishAt": (now + timedelta(hours=1)).isoformat(),
                "unpublishAt": (now + timedelta(hours=3)).isoformat(),
            }
        },
        token=editor.token,
    )
    assert body["data"]["publishContentItem"]["errors"] == []

    async def page() -> str | None:
        answer = await gql(PAGE, {"slug": "summer", "brand": "royal"})  # (a token would expire as time moves)
        assert "errors" not in answer, answer
        return answer["data"]["promotionPage"]["title"] if answer["data"]["promotionPage"] else None

    assert await page() is None
    assert await page() is None  # kept, but only until the window opens
    clock.advance(timedelta(hours=1, seconds=1))
    assert await page() == "Summer"
    clock.advance(timedelta(hours=1))
    assert await page() == "Summer"
    # A scheduled end moved earlier through unpublish-at (by a staff member signed in now).
    editor = await make_staff(("content_manager", None))
    body = await gql(
        UNPUBLISH,
        {"input": {"id": item["id"], "at": (clock.now() + timedelta(minutes=5)).isoformat()}},
        token=editor.token,
    )
    assert body["data"]["unpublishContentItem"]["item"]["status"] == "PUBLISHED"
    assert await page() == "Summer"
    clock.advance(timedelta(minutes=6))
    assert await page() is None


async def test_a_repeated_read_costs_one_statement_and_publish_drops_it(
    gql: Any, content: Any, make_player: Any, rt: Any
) -> None:
    player = await make_player()
    for n in range(5):
        await content(title=f"Banner {n}")
    with recorded_statements(rt) as first:
        assert len(await banner_titles(gql, token=player.token)) == 5
    with recorded_statements(rt) as again:
        assert len(await banner_titles(gql, token=player.token)) == 5
    assert sum("content_items" in s for s in first) == 1
    assert [s for s in again if "content_items" in s] == []
    assert len(again) == 1  # the player's audience (brand, language, jurisdiction, segments)
    # An anonymous visitor is another audience: a miss, yet the brand's live versions are kept already.
    with recorded_statements(rt) as anonymous:
        assert len(await banner_titles(gql, brand="royal")) == 5
    assert len(anonymous) == 1  # the brand; its live versions were read once for every audience of it
    await content(title="Banner 5")
    assert len(await banner_titles(gql, token=player.token)) == 6


async def test_staff_preview_as_a_player_with_a_draft(
    gql: Any, content: Any, editor: Any, make_player: Any, make_staff: Any, segment: Any, other_brand: Any
) -> None:
    player = await make_player()
    vips = await segment(player.uuid)
    await content(title="Live banner")
    draft = await content(title="Draft for VIPs", publish=False, segmentId=str(vips), priority=3)
    # A given player's preview tells their language, jurisdiction and segments: content managers, who may not
    # look players up, are refused it; a brand admin (who may) previews.
    as_player = {"input": {"playerId": player.id, "draftItemId": draft["id"]}}
    assert error_codes(await gql(PREVIEW, as_player, token=editor.token)) == ["FORBIDDEN"]
    admin = (await make_staff(("brand_admin", "royal"))).token
    body = await gql(PREVIEW, as_player, token=admin)
    preview = body["data"]["contentPreview"]
    assert preview["segmentCount"] == 1
    assert preview["language"] == "en"
    assert [e["title"] for e in preview["entries"]] == ["Draft for VIPs", "Live banner"]
    # As an anonymous visitor of the brand the VIP draft is not there; the public never saw the draft.
    body = await gql(PREVIEW, {"input": {"brand": "royal", "kind": "BANNER", "key": "home-top"}}, token=editor.token)
    assert [e["title"] for e in body["data"]["contentPreview"]["entries"]] == ["Live banner"]
    assert await banner_titles(gql, token=player.token) == ["Live banner"]
    # At a later instant, and staff of another brand see neither the player nor the draft.
    later = (clock.now() + timedelta(days=1)).isoformat()
    body = await gql(
        PREVIEW,
        {"input": {"playerId": player.id, "kind": "BANNER", "key": "home-top", "at": later}},
        token=admin,
    )
    assert len(body["data"]["contentPreview"]["entries"]) == 1
    outsider = await make_staff(("brand_admin", "northstar"))
    body = await gql(
        PREVIEW, {"input": {"playerId": player.id, "kind": "BANNER", "key": "home-top"}}, token=outsider.token
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await gql(PREVIEW, {"input": {"draftItemId": draft["id"]}}, token=outsider.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    # Players may not preview.
    body = await gql(PREVIEW, {"input": {"brand": "royal", "kind": "BANNER", "key": "home-top"}}, token=player.token)
    assert error_codes(body) == ["FORBIDDEN"]


async def test_bad_input_is_refused_in_the_payload_and_nothing_is_written(
    gql: Any, editor: Any, rt: Any, segment: Any, other_brand: Any, make_staff: Any
) -> None:
    foreign_segment = await segment(brand_id=other_brand.id)

    async def refused(content: dict[str, Any], **input: Any) -> tuple[str, str | None]:
        body = await gql(
            """mutation($input: CreateContentItemInput!) {
              createContentItem(input: $input) { item { id } errors { code field message } } }""",
            {"input": {"brand": "royal", "kind": "BANNER", "key": "top", "name": "x", "content": content, **input}},
            token=editor.token,
        )
        payload = body["data"]["createContentItem"]
        assert payload["item"] is None, body
        assert len(payload["errors"]) == 1, body
        return payload["errors"][0]["code"], payload["errors"][0]["field"]

    good = {"defaultLanguage": "en", "translations": texts(en="Hi")}
    assert await refused({**good, "defaultLanguage": "de"}) == ("INVALID_INPUT", "content.defaultLanguage")
    assert (await refused({"defaultLanguage": "en", "translations": texts(en="Hi", zz="?")}))[
        1
    ] == "content.translations"
    link = [{"language": "en", "title": "Hi", "linkUrl": "javascript:alert(1)"}]
    assert await refused({"defaultLanguage": "en", "translations": link}) == (
        "INVALID_INPUT",
        "content.translations.en.linkUrl",
    )
    assert await refused({**good, "jurisdictions": ["XX"]}) == ("INVALID_INPUT", "content.jurisdictions")
    assert await refused({**good, "segmentId": str(foreign_segment)}) == ("NOT_FOUND", "content.segmentId")
    assert await refused({**good, "segmentId": "not-an-id"}) == ("INVALID_INPUT", "content.segmentId")
    assert await refused(good, key="Has Spaces") == ("INVALID_INPUT", "key")
    await content_block_of_northstar(gql, editor, good)
    scoped = await make_staff(("brand_admin", "northstar"))
    body = await gql(
        """mutation($input: CreateContentItemInput!) { createContentItem(input: $input) { errors { code field } } }""",
        {"input": {"brand": "royal", "kind": "BANNER", "key": "top", "name": "x", "content": good}},
        token=scoped.token,
    )
    assert body["data"]["createContentItem"]["errors"] == [{"code": "NOT_ALLOWED", "field": "brand"}]
    async with rt.database.session() as db:
        assert await db.scalar(select(func.count()).select_from(ContentItem)) == 1  # the northstar block
        assert await db.scalar(select(func.count()).select_from(ContentVersion)) == 1


async def test_windows_and_versions_are_checked(gql: Any, content: Any, editor: Any) -> None:
    item = await content(publish=False)
    now = clock.now()

    async def publish(**input: Any) -> list[dict[str, Any]]:
        body = await gql(PUBLISH, {"input": {"id": item["id"], **input}}, token=editor.token)
        errors: list[dict[str, Any]] = body["data"]["publishContentItem"]["errors"]
        return errors

    assert (await publish(version=7))[0]["code"] == "NOT_FOUND"
    ends_before = {
        "publishAt": (now + timedelta(hours=2)).isoformat(),
        "unpublishAt": (now + timedelta(hours=1)).isoformat(),
    }
    assert (await publish(**ends_before))[0]["field"] == "unpublishAt"
    assert (await publish(unpublishAt=(now - timedelta(hours=1)).isoformat()))[0]["field"] == "unpublishAt"
    body = await gql(UNPUBLISH, {"input": {"id": item["id"]}}, token=editor.token)
    assert body["data"]["unpublishContentItem"]["errors"][0]["code"] == "NOT_ALLOWED"
    body = await gql(PUBLISH, {"input": {"id": "Q29udGVudEl0ZW06MQ=="}}, token=editor.token)
    assert error_codes(body) == ["BAD_USER_INPUT"] or body["data"]["publishContentItem"]["errors"]


async def test_the_staff_list_is_brand_scoped_and_costs_constant_statements(
    gql: Any, content: Any, editor: Any, make_staff: Any, rt: Any, other_brand: Any
) -> None:
    await content("a", publish=False)
    await content("b")
    await content("c", brand="northstar")

    async def listed(token: str, **filter: Any) -> list[str]:
        body = await gql(ITEMS, {"filter": filter or None, "first": 50}, token=token)
        assert "errors" not in body, body
        return sorted(edge["node"]["key"] for edge in body["data"]["contentItems"]["edges"])

    assert await listed(editor.token) == ["a", "b", "c"]
    assert await listed(editor.token, brand="royal", status="PUBLISHED") == ["b"]
    royal_admin = await make_staff("brand_admin")
    assert await listed(royal_admin.token) == ["a", "b"]
    with recorded_statements(rt) as few:
        await listed(editor.token)
    for n in range(8):
        await content(f"more-{n}")
    with recorded_statements(rt) as many:
        assert len(await listed(editor.token)) == 11
    assert len(many) == len(few)
    # Roles that do not edit content see none of it.
    support = await make_staff("support")
    assert error_codes(await gql(ITEMS, {}, token=support.token)) == ["FORBIDDEN"]


async def content_block_of_northstar(gql: Any, editor: Any, good: dict[str, Any]) -> None:
    """A global content manager edits any brand's content."""
    body = await gql(
        """mutation($input: CreateContentItemInput!) { createContentItem(input: $input) { errors { code } } }""",
        {"input": {"brand": "northstar", "kind": "BLOCK", "key": "top", "name": "x", "content": good}},
        token=editor.token,
    )
    assert body["data"]["createContentItem"]["errors"] == []


async def test_the_demo_content_is_seeded_once_and_served(
    gql: Any, rt: Any, brand: Any, make_player: Any, segment: Any
) -> None:
    from integrations.demo.content_seed import seed_content

    player = await make_player()
    await segment(player.uuid)
    lines = await seed_content(rt)
    assert len(lines) == 4
    assert await seed_content(rt) == ["demo content already there"]
    assert await banner_titles(gql, brand="royal") == ["Welcome to Royal"]
    assert await banner_titles(gql, token=player.token) == ["Just for you", "Welcome to Royal"]
    body = await gql(BANNERS, {"placement": "home-top", "brand": "royal", "language": "de"})
    assert [e["title"] for e in body["data"]["banners"]] == ["Willkommen bei Royal"]


async def test_languages_keep_their_script_and_accept_language_its_weights(gql: Any, content: Any, editor: Any) -> None:
    """Review (contrev): zh-Hans and zh-Hant are two translations, not one overwriting the other; two spellings
    of one language are refused, not silently merged; Accept-Language is read by its q weights (q=0: not
    acceptable), not by position; `und`/`root`/`C` are no languages."""
    item = await content(
        "greeting",
        kind="BLOCK",
        translations=[
            {"language": "en", "title": "Hello"},
            {"language": "de", "title": "Hallo"},
            {"language": "zh-Hans", "title": "简体"},
            {"language": "zh-Hant", "title": "繁體"},
        ],
    )
    assert sorted(t["language"] for t in item["latest"]["translations"]) == ["de", "en", "zh-Hans", "zh-Hant"]

    async def title(header: str) -> str:
        body = await gql(BLOCK, {"key": "greeting", "brand": "royal"}, headers={"Accept-Language": header})
        assert "errors" not in body, body
        found: str = body["data"]["contentBlock"]["title"]
        return found

    assert await title("zh-Hant-TW,zh;q=0.9") == "繁體"
    assert await title("zh-Hans-CN") == "简体"
    assert await title("fr;q=0, de") == "Hallo"  # fr is refused by q=0; de is the one acceptable
    assert await title("en;q=0.1, de;q=0.9") == "Hallo"  # the weight decides, not the position
    assert await title("de;q=0, en;q=0") == "Hello"  # nothing acceptable: the default

    body = await gql(
        """mutation($input: CreateContentItemInput!) {
          createContentItem(input: $input) { item { id } errors { code field } } }""",
        {
            "input": {
                "brand": "royal", "kind": "BLOCK", "key": "twice", "name": "twice",
                "content": {"defaultLanguage": "en-US", "translations": [
                    {"language": "en-us", "title": "One"}, {"language": "en-US", "title": "Two"}]},
            }
        },
        token=editor.token,
    )  # fmt: skip
    assert body["data"]["createContentItem"] == {
        "item": None,
        "errors": [{"code": "INVALID_INPUT", "field": "content.translations"}],
    }
    for bad in ("und", "root", "C"):
        found = await gql(BANNERS, {"placement": "x", "brand": "royal", "language": bad})
        assert error_codes(found) == ["BAD_USER_INPUT"], (bad, found)
