"""Staff GraphQL of postbacks: configs (the secret shown once), refusals as payload errors, the delivery log in
a fixed number of statements, "retry now", the secret's rotation, audit, and who may read and do what."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from models.affiliate_postbacks import PostbackTrigger
from tests.affiliate_postbacks.conftest import Partner, Postbacks, make_partner
from tests.conftest import error_codes, recorded_statements

CREATE = """
mutation Create($input: CreateAffiliatePostbackConfigInput!) {
  createAffiliatePostbackConfig(input: $input) {
    config { id partnerCode trigger method urlTemplate active brandId }
    secret
    errors { code field message }
  }
}"""
UPDATE = """
mutation Update($input: UpdateAffiliatePostbackConfigInput!) {
  updateAffiliatePostbackConfig(input: $input) { config { id active urlTemplate } errors { code field message } }
}"""
ROTATE = """
mutation Rotate($input: RotateAffiliatePostbackSecretInput!) {
  rotateAffiliatePostbackSecret(input: $input) { secret errors { code field message } }
}"""
RETRY = """
mutation Retry($input: RetryAffiliatePostbackInput!) {
  retryAffiliatePostback(input: $input) { delivery { id status maxAttempts } errors { code field message } }
}"""
CONFIGS = """
query Configs($partner: String) {
  affiliatePostbackConfigs(partnerCode: $partner, first: 50) {
    edges { node { id partnerCode trigger urlTemplate active } }
  }
}"""
LOG = """
query Log($status: AffiliatePostbackStatus) {
  affiliatePostbackDeliveries(status: $status, first: 50) {
    edges { node { id partnerCode eventId trigger status attempts maxAttempts lastError url
                   tries { attempt succeeded httpStatus latencyMs error } } }
  }
}"""
LOG_WITHOUT_URL = LOG.replace("lastError url", "lastError")
SECRET = "query Secret($partner: String!) { affiliatePostbackSecret(partnerCode: $partner) { fingerprint rotatedAt } }"


async def test_a_partners_first_config_shows_its_secret_once_and_bad_templates_are_refused(
    gql: Any, make_staff: Any, partner: Partner, rt: Any
) -> None:
    admin = await make_staff("brand_admin")
    url = "https://acme.test/pb?click={click_id}&id={event_id}"
    made = await gql(
        CREATE,
        {"input": {"partnerCode": "acme", "trigger": "REGISTRATION", "urlTemplate": url, "brandCode": "royal"}},
        token=admin.token,
    )
    payload = made["data"]["createAffiliatePostbackConfig"]
    assert payload["errors"] == []
    assert payload["secret"].startswith("whsec_")
    assert payload["config"] | {"id": None} == {
        "id": None,
        "partnerCode": "acme",
        "trigger": "REGISTRATION",
        "method": "GET",
        "urlTemplate": url,
        "active": True,
        "brandId": str(partner.brand_id),
    }
    again = await gql(
        CREATE,
        {"input": {"partnerCode": "acme", "trigger": "FIRST_DEPOSIT", "urlTemplate": url, "brandCode": "royal"}},
        token=admin.token,
    )
    assert again["data"]["createAffiliatePostbackConfig"]["secret"] is None  # shown once only

    seen = await gql(SECRET, {"partner": "acme"}, token=admin.token)
    assert seen["data"]["affiliatePostbackSecret"]["fingerprint"] == payload["secret"][:10] + "…"

    refusals = [
        ({"partnerCode": "acme", "urlTemplate": "https://acme.test/?p={player_id}"}, ("INVALID_INPUT", "urlTemplate")),
        ({"partnerCode": "acme", "urlTemplate": "https://{sub1}.acme.test/"}, ("INVALID_INPUT", "urlTemplate")),
        ({"partnerCode": "nobody", "urlTemplate": url}, ("NOT_FOUND", None)),
        ({"partnerCode": "acme", "urlTemplate": url, "brandCode": "northstar"}, ("NOT_FOUND", "brandCode")),
        ({"partnerCode": "acme", "urlTemplate": url, "brandCode": None}, ("NOT_ALLOWED", "brandId")),  # every brand
    ]
    for given, expected in refusals:
        body = await gql(
            CREATE, {"input": {"trigger": "REGISTRATION", "brandCode": "royal"} | given}, token=admin.token
        )
        [error] = body["data"]["createAffiliatePostbackConfig"]["errors"]
        assert (error["code"], error["field"]) == expected, (given, error)

    config_id = payload["config"]["id"]
    off = await gql(UPDATE, {"input": {"configId": config_id, "active": False}}, token=admin.token)
    assert off["data"]["updateAffiliatePostbackConfig"]["config"]["active"] is False
    listed = await gql(CONFIGS, {"partner": "acme"}, token=admin.token)
    assert len(listed["data"]["affiliatePostbackConfigs"]["edges"]) == 2

    async with rt.database.session() as db:
        actions = (await db.execute(text("SELECT action FROM audit_log ORDER BY seq"))).scalars().all()
    assert [a for a in actions if a.startswith("affiliate.")] == [
        "affiliate.postback_config_created",
        "affiliate.postback_config_created",
        "affiliate.postback_config_updated",
    ]


async def test_the_delivery_log_takes_a_fixed_number_of_statements_and_retry_now_sends_a_failed_one_again(
    gql: Any, make_staff: Any, rt: Any, postbacks: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    admin = await make_staff("brand_admin")
    await postbacks.configure(partner, PostbackTrigger.REGISTRATION, "http://127.0.0.1:9/pb?id={event_id}")

    async def log_statements() -> tuple[int, list[dict[str, Any]]]:
        with recorded_statements(rt) as statements:
            body = await gql(LOG, token=admin.token)
        assert "errors" not in body, body
        return len(statements), [e["node"] for e in body["data"]["affiliatePostbackDeliveries"]["edges"]]

    for _ in range(2):
        player = await make_player()
        await attribute(player.uuid, partner)
    await postbacks.enqueue()
    await postbacks.settle()  # nobody listens on port 9: every try fails
    few, nodes = await log_statements()
    for _ in range(4):
        player = await make_player()
        await attribute(player.uuid, partner)
    await postbacks.enqueue()
    await postbacks.step()
    many, more = await log_statements()
    assert few == many, (few, many)
    assert len(more) == 6
    failed = nodes[0]
    assert (failed["status"], failed["attempts"], failed["partnerCode"]) == ("FAILED", 6, "acme")
    assert [t["attempt"] for t in failed["tries"]] == [1, 2, 3, 4, 5, 6]
    assert failed["tries"][0]["error"].startswith("ConnectError")
    assert failed["tries"][0]["httpStatus"] is None

    retried = await gql(RETRY, {"input": {"deliveryId": failed["id"]}}, token=admin.token)
    assert retried["data"]["retryAffiliatePostback"]["delivery"] | {"id": None} == {
        "id": None,
        "status": "PENDING",
        "maxAttempts": 11,
    }
    await postbacks.conn.execute(
        "UPDATE affiliate_postback_deliveries SET status = 'delivered' WHERE id = $1",
        (await postbacks.deliveries())[0]["id"],
    )
    delivered = next(n["id"] for n in (await log_statements())[1] if n["status"] == "DELIVERED")
    again = await gql(RETRY, {"input": {"deliveryId": delivered}}, token=admin.token)
    [error] = again["data"]["retryAffiliatePostback"]["errors"]
    assert error["code"] == "INVALID_STATE"


async def test_support_reads_the_log_without_urls_and_changes_nothing(
    gql: Any, make_staff: Any, postbacks: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    support = await make_staff("support")
    await postbacks.configure(partner, PostbackTrigger.REGISTRATION, "https://acme.test/pb?id={event_id}")
    player = await make_player()
    await attribute(player.uuid, partner)
    await postbacks.enqueue()

    log = await gql(LOG_WITHOUT_URL, token=support.token)
    assert "errors" not in log, log
    assert len(log["data"]["affiliatePostbackDeliveries"]["edges"]) == 1
    with_url = await gql(LOG, token=support.token)
    assert "FORBIDDEN" in error_codes(with_url)
    assert with_url["data"]["affiliatePostbackDeliveries"]["edges"][0]["node"]["url"] is None
    for query, variables in (
        (CONFIGS, {}),
        (SECRET, {"partner": "acme"}),
        (CREATE, {"input": {"partnerCode": "acme", "trigger": "REGISTRATION", "urlTemplate": "https://a.test/"}}),
        (ROTATE, {"input": {"partnerCode": "acme", "reason": "leaked"}}),
    ):
        assert "FORBIDDEN" in error_codes(await gql(query, variables, token=support.token)), query
    player_body = await gql(LOG, token=player.token)
    assert "FORBIDDEN" in error_codes(player_body)


async def test_staff_of_one_brand_see_only_partners_of_their_brand_and_rotate_no_secret(
    gql: Any, make_staff: Any, rt: Any, postbacks: Postbacks, partner: Partner, other_brand: Any
) -> None:
    elsewhere = await make_partner(rt, other_brand, "faraway")
    await postbacks.configure(elsewhere, PostbackTrigger.REGISTRATION, "https://faraway.test/pb")
    await postbacks.configure(partner, PostbackTrigger.REGISTRATION, "https://acme.test/pb")
    async with rt.database.transaction() as db:  # acme works with northstar too, with a postback of its own there
        await db.execute(
            text("INSERT INTO affiliate_brands (affiliate_id, brand_id) VALUES (:a, :b)"),
            {"a": partner.id, "b": other_brand.id},
        )
    await postbacks.configure(
        partner, PostbackTrigger.REGISTRATION, "https://acme.test/northstar", brand_id=other_brand.id
    )
    admin = await make_staff("brand_admin")
    listed = await gql(CONFIGS, token=admin.token)
    nodes = [e["node"] for e in listed["data"]["affiliatePostbackConfigs"]["edges"]]
    assert [(n["partnerCode"], n["urlTemplate"]) for n in nodes] == [("acme", "https://acme.test/pb")]
    hidden = await gql(CONFIGS, {"partner": "faraway"}, token=admin.token)
    assert error_codes(hidden) == ["NOT_FOUND"] or hidden["data"]["affiliatePostbackConfigs"] is None

    rotated = await gql(ROTATE, {"input": {"partnerCode": "acme", "reason": "leaked"}}, token=admin.token)
    assert rotated["data"]["rotateAffiliatePostbackSecret"]["errors"][0]["code"] == "NOT_ALLOWED"
    everywhere = await make_staff(("superadmin", None))
    rotated = await gql(ROTATE, {"input": {"partnerCode": "acme", "reason": "leaked"}}, token=everywhere.token)
    secret = rotated["data"]["rotateAffiliatePostbackSecret"]["secret"]
    assert secret.startswith("whsec_")
    assert secret != postbacks.secrets[partner.id]
