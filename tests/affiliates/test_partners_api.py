"""Staff GraphQL of partners, portal users and links: who may do what, the refusals with their codes and
fields, brand scoping, the audit trail, and a list that costs the same few statements for 1 partner or 6."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from strawberry import relay

from tests.affiliates.conftest import MakePartner
from tests.conftest import PASSWORD, recorded_statements

CREATE = """
mutation($input: CreateAffiliateInput!) {
  createAffiliate(input: $input) {
    affiliate { id code company status contactEmail payoutCurrency payoutMethod payoutDetails { name value }
      brands { code } parent { code } links { code } portalUsers { email } }
    errors { code field message }
  }
}"""
UPDATE = """
mutation($input: UpdateAffiliateInput!) {
  updateAffiliate(input: $input) {
    affiliate { id company version parent { code } brands { code } } errors { code field message }
  }
}"""
STATUS = """
mutation($input: SetAffiliateStatusInput!) {
  setAffiliateStatus(input: $input) { affiliate { id status } errors { code field message } }
}"""
USER = """
mutation($input: CreateAffiliatePortalUserInput!) {
  createAffiliatePortalUser(input: $input) { portalUser { id email displayName disabledAt } errors { code field } }
}"""
DISABLE = """
mutation($input: DisableAffiliatePortalUserInput!) {
  disableAffiliatePortalUser(input: $input) { portalUser { id disabledAt } errors { code field } }
}"""
ADD_LINK = """
mutation($input: AddAffiliateLinkInput!) {
  addAffiliateLink(input: $input) {
    link { id code path tag landingPath archivedAt brand { code } } errors { code field message }
  }
}"""
ARCHIVE = """
mutation($input: ArchiveAffiliateLinkInput!) {
  archiveAffiliateLink(input: $input) { link { id archivedAt } errors { code field } }
}"""
LIST = """
query($first: Int, $search: String, $status: [AffiliateStatus!]) {
  affiliates(first: $first, search: $search, status: $status) {
    edges { node { id code company status brands { code } links { code tag brand { code } }
      portalUsers { email } parent { code } } }
  }
}"""


def gid(type_name: str, value: Any) -> str:
    return str(relay.GlobalID(type_name, str(value)))


def partner_input(brand: Any, **extra: Any) -> dict[str, Any]:
    return {
        "company": "Acme Media Ltd",
        "contactEmail": "Ops@Acme.example.com",
        "payoutCurrency": "eur",
        "payoutMethod": "bank_transfer",
        "payoutDetails": [{"name": "iban", "value": "MT84MALT011000012345MTLCAST001S"}],
        "brandIds": [gid("Brand", brand.id)],
        **extra,
    }


async def test_an_affiliate_manager_creates_a_partner_with_users_and_links_audited(
    rt: Any, gql: Any, make_staff: Any, brand: Any
) -> None:
    manager = await make_staff("affiliate_manager")
    body = await gql(CREATE, {"input": {"code": "Acme", "partner": partner_input(brand)}}, token=manager.token)
    payload = body["data"]["createAffiliate"]
    assert payload["errors"] == [], body
    partner = payload["affiliate"]
    assert partner["code"] == "acme"
    assert partner["contactEmail"] == "ops@acme.example.com"
    assert partner["payoutCurrency"] == "EUR"
    assert partner["payoutDetails"] == [{"name": "iban", "value": "MT84MALT011000012345MTLCAST001S"}]
    assert partner["brands"] == [{"code": "royal"}]
    assert partner["status"] == "ACTIVE"

    user = await gql(
        USER,
        {"input": {"affiliateId": partner["id"], "email": "Jo@Acme.example.com", "password": PASSWORD}},
        token=manager.token,
    )
    assert user["data"]["createAffiliatePortalUser"]["portalUser"]["email"] == "jo@acme.example.com"
    link_input = {"affiliateId": partner["id"], "brandId": gid("Brand", brand.id), "tag": "spring", "landingPath": "/w"}
    link = (await gql(ADD_LINK, {"input": link_input}, token=manager.token))["data"]["addAffiliateLink"]
    assert link["errors"] == []
    assert link["link"]["path"] == f"/a/{link['link']['code']}"
    assert len(link["link"]["code"]) == 12
    assert link["link"]["brand"] == {"code": "royal"}
    archived = await gql(ARCHIVE, {"input": {"linkId": link["link"]["id"]}}, token=manager.token)
    assert archived["data"]["archiveAffiliateLink"]["link"]["archivedAt"] is not None

    async with rt.database.session() as db:
        actions = list(
            (
                await db.execute(text("SELECT action FROM audit_log WHERE action LIKE 'affiliate.%' ORDER BY seq"))
            ).scalars()
        )
        stored = await db.scalar(text("SELECT password_hash FROM affiliate_users"))
    assert actions == ["affiliate.create", "affiliate.user_create", "affiliate.link_create", "affiliate.link_archive"]
    assert stored is not None
    assert PASSWORD not in stored


async def test_refusals_come_with_their_code_and_field(
    gql: Any, make_staff: Any, brand: Any, other_brand: Any, make_partner: MakePartner
) -> None:
    manager = await make_staff(("affiliate_manager", None))
    existing = await make_partner(code="taken")

    async def create(code: str, **extra: Any) -> list[tuple[str, str | None]]:
        body = await gql(
            CREATE, {"input": {"code": code, "partner": partner_input(brand, **extra)}}, token=manager.token
        )
        return [(e["code"], e["field"]) for e in body["data"]["createAffiliate"]["errors"]]

    assert await create("-bad") == [("INVALID_INPUT", "code")]
    assert await create("no spaces") == [("INVALID_INPUT", "code")]
    assert await create("taken") == [("ALREADY_EXISTS", "code")]
    assert await create("ok1", contactEmail="nope") == [("INVALID_INPUT", "contactEmail")]
    assert await create("ok2", payoutCurrency="XXX") == [("UNKNOWN_CURRENCY", "payoutCurrency")]
    assert await create("ok3", brandIds=[]) == [("INVALID_INPUT", "brandIds")]
    assert await create("ok4", company=" ") == [("INVALID_INPUT", "company")]
    assert await create("ok5", payoutDetails=[{"name": " ", "value": "x"}]) == [("INVALID_INPUT", "payoutDetails")]
    # A parent loop, even through another partner, is refused.
    child = await gql(
        CREATE,
        {"input": {"code": "child", "partner": partner_input(brand, parentId=gid("Affiliate", existing.id))}},
        token=manager.token,
    )
    child_id = child["data"]["createAffiliate"]["affiliate"]["id"]
    assert child["data"]["createAffiliate"]["affiliate"]["parent"] == {"code": "taken"}
    loop = await gql(
        UPDATE,
        {"input": {"affiliateId": gid("Affiliate", existing.id), "partner": {"parentId": child_id}}},
        token=manager.token,
    )
    assert [(e["code"], e["field"]) for e in loop["data"]["updateAffiliate"]["errors"]] == [
        ("INVALID_INPUT", "parentId")
    ]
    # A link on a brand the partner does not work with; a bad landing path (another host: no open redirect).
    for brand_id, landing, expected in (
        (other_brand.id, "/", ("NOT_FOUND", "brandId")),
        (brand.id, "//evil.example.com/", ("INVALID_INPUT", "landingPath")),
        (brand.id, "https://evil.example.com/", ("INVALID_INPUT", "landingPath")),
    ):
        body = await gql(
            ADD_LINK,
            {"input": {"affiliateId": child_id, "brandId": gid("Brand", brand_id), "tag": "t", "landingPath": landing}},
            token=manager.token,
        )
        assert [(e["code"], e["field"]) for e in body["data"]["addAffiliateLink"]["errors"]] == [expected]
    weak = await gql(
        USER, {"input": {"affiliateId": child_id, "email": "a@b.example.com", "password": "short"}}, token=manager.token
    )
    assert weak["data"]["createAffiliatePortalUser"]["errors"] == [{"code": "WEAK_PASSWORD", "field": "password"}]


async def test_status_moves_active_suspended_closed_and_closed_is_final(
    gql: Any, make_staff: Any, make_partner: MakePartner
) -> None:
    manager = await make_staff("affiliate_manager")
    partner = await make_partner()
    pid = gid("Affiliate", partner.id)

    async def move(status: str) -> dict[str, Any]:
        body = await gql(STATUS, {"input": {"affiliateId": pid, "status": status, "reason": "r"}}, token=manager.token)
        return dict(body["data"]["setAffiliateStatus"])

    assert (await move("SUSPENDED"))["affiliate"]["status"] == "SUSPENDED"
    assert (await move("ACTIVE"))["affiliate"]["status"] == "ACTIVE"
    assert (await move("CLOSED"))["affiliate"]["status"] == "CLOSED"
    assert [e["code"] for e in (await move("ACTIVE"))["errors"]] == ["INVALID_STATE"]
    change = await gql(UPDATE, {"input": {"affiliateId": pid, "partner": {"company": "New"}}}, token=manager.token)
    assert [e["code"] for e in change["data"]["updateAffiliate"]["errors"]] == ["INVALID_STATE"]


async def test_who_may_read_and_change_partners(gql: Any, make_staff: Any, brand: Any) -> None:
    finance = await make_staff("finance")
    support = await make_staff("support")
    body = await gql(CREATE, {"input": {"code": "fin", "partner": partner_input(brand)}}, token=finance.token)
    assert body["data"] is None or body["data"]["createAffiliate"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "errors" not in await gql(LIST, {"first": 10}, token=finance.token)
    denied = await gql(LIST, {"first": 10}, token=support.token)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_brand_staff_see_and_change_only_their_brands_partners(
    gql: Any, make_staff: Any, brand: Any, other_brand: Any, make_partner: MakePartner
) -> None:
    ours = await make_partner(code="ours")
    theirs = await make_partner(code="theirs", brand_ids=[other_brand.id])
    manager = await make_staff("affiliate_manager")  # royal only
    listed = await gql(LIST, {"first": 10}, token=manager.token)
    assert [e["node"]["code"] for e in listed["data"]["affiliates"]["edges"]] == ["ours"]
    one = await gql(
        "query($id: ID!) { affiliate(id: $id) { code } }", {"id": gid("Affiliate", theirs.id)}, token=manager.token
    )
    assert one["data"]["affiliate"] is None
    change = await gql(
        UPDATE,
        {"input": {"affiliateId": gid("Affiliate", theirs.id), "partner": {"company": "Mine now"}}},
        token=manager.token,
    )
    assert [e["code"] for e in change["data"]["updateAffiliate"]["errors"]] == ["NOT_FOUND"]
    renamed = await gql(
        UPDATE,
        {"input": {"affiliateId": gid("Affiliate", ours.id), "partner": {"company": "Ours Renamed"}}},
        token=manager.token,
    )
    assert renamed["data"]["updateAffiliate"]["affiliate"]["company"] == "Ours Renamed"
    assert renamed["data"]["updateAffiliate"]["affiliate"]["version"] == 2
    foreign = await gql(
        CREATE,
        {"input": {"code": "x1", "partner": partner_input(brand, brandIds=[gid("Brand", other_brand.id)])}},
        token=manager.token,
    )
    assert [e["code"] for e in foreign["data"]["createAffiliate"]["errors"]] == ["NOT_FOUND"]


async def test_search_and_status_filter_the_list(gql: Any, make_staff: Any, make_partner: MakePartner) -> None:
    manager = await make_staff("affiliate_manager")
    await make_partner(code="alpha")
    await make_partner(code="beta")
    found = await gql(LIST, {"first": 10, "search": "BET"}, token=manager.token)
    assert [e["node"]["code"] for e in found["data"]["affiliates"]["edges"]] == ["beta"]
    wild = await gql(LIST, {"first": 10, "search": "%"}, token=manager.token)
    assert wild["data"]["affiliates"]["edges"] == []
    none = await gql(LIST, {"first": 10, "status": ["CLOSED"]}, token=manager.token)
    assert none["data"]["affiliates"]["edges"] == []


async def test_the_partner_list_costs_the_same_statements_for_one_partner_or_six(
    rt: Any, gql: Any, make_staff: Any, make_partner: MakePartner
) -> None:
    manager = await make_staff("affiliate_manager")

    async def count() -> int:
        with recorded_statements(rt) as statements:
            body = await gql(LIST, {"first": 50}, token=manager.token)
        assert "errors" not in body, body
        return len(statements)

    first = await make_partner()
    one = await count()
    for _ in range(5):
        await make_partner(tag="second")
    body = await gql(
        USER, {"input": {"affiliateId": gid("Affiliate", first.id), "email": "u@p.example.com", "password": PASSWORD}},
        token=manager.token,
    )  # fmt: skip
    assert body["data"]["createAffiliatePortalUser"]["errors"] == []
    assert await count() == one


async def test_staff_who_read_a_player_see_their_attribution_and_the_player_does_not(
    client: Any, gql: Any, make_staff: Any, make_player: Any, make_partner: MakePartner
) -> None:
    from tests.affiliates.conftest import click

    partner = await make_partner(code="acme")
    click_id = (await click(client, partner.link_code, sub1="spring", sub2="b7")).cookies["croupier_click"]
    player = await make_player(affiliateClick=click_id)
    query = """query($id: ID!) { player(id: $id) { affiliate { affiliateCode company linkTag subId
      subIds { key value } clickedAt attributedAt } } }"""
    for role in ("support", "risk_analyst", "finance"):
        staff = await make_staff(role)
        body = await gql(query, {"id": player.id}, token=staff.token)
        assert "errors" not in body, (role, body)
        seen = body["data"]["player"]["affiliate"]
        assert seen["affiliateCode"] == "acme", role
        assert seen["linkTag"] == "main"
        assert seen["subId"] == "spring"
        assert seen["subIds"] == [{"key": "sub1", "value": "spring"}, {"key": "sub2", "value": "b7"}]
    marketing = await make_staff("marketing")
    hidden = await gql(query, {"id": player.id}, token=marketing.token)
    assert hidden["data"]["player"]["affiliate"] is None
    assert [e["extensions"]["code"] for e in hidden["errors"]] == ["FORBIDDEN"]
    own = await gql("{ me { id affiliate { affiliateCode } } }", token=player.token)
    assert own["data"]["me"]["affiliate"] is None
    unattributed = await make_player()
    support = await make_staff("support")
    nothing = await gql(query, {"id": unattributed.id}, token=support.token)
    assert nothing["data"]["player"]["affiliate"] is None


async def test_brand_staff_see_a_multi_brand_partners_links_on_their_brand_only(
    rt: Any, gql: Any, make_staff: Any, brand: Any, other_brand: Any, make_partner: MakePartner
) -> None:
    from authz.subjects import SYSTEM
    from services.affiliates import links

    both = await make_partner(code="both", tag="royal-main", brand_ids=[brand.id, other_brand.id])
    await links.create(rt, SYSTEM, both.id, links.LinkDraft(brand_id=other_brand.id, tag="north", landing_path="/"))
    royal_only = await make_staff("affiliate_manager")
    everywhere = await make_staff(("affiliate_manager", None))
    query = "query($id: ID!) { affiliate(id: $id) { links { tag brand { code } } } }"

    def tags(body: dict[str, Any]) -> list[str]:
        return sorted(link["tag"] for link in body["data"]["affiliate"]["links"])

    assert tags(await gql(query, {"id": gid("Affiliate", both.id)}, token=royal_only.token)) == ["royal-main"]
    listed = await gql(LIST, {"first": 10}, token=royal_only.token)
    assert [[link["tag"] for link in e["node"]["links"]] for e in listed["data"]["affiliates"]["edges"]] == [
        ["royal-main"]
    ]
    assert tags(await gql(query, {"id": gid("Affiliate", both.id)}, token=everywhere.token)) == ["north", "royal-main"]
