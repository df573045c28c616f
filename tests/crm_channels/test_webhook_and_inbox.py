"""SMS and push through a provider's webhook (signed, retried after failures, time-outs and late answers) and the
on-site inbox over GraphQL (only the player's own; marked read once)."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from tests.conftest import error_codes
from tests.crm_channels.conftest import Channels, save_template
from tests.crm_channels.servers import FAIL, HANG, LATE, OK
from tests.crm_channels.test_email import enqueue

INBOX = """query($unread: Boolean!) { me { inbox(unreadOnly: $unread, first: 10) {
  edges { node { id subject bodyText bodyHtml sentAt readAt } } } } }"""
MARK_READ = """mutation($id: ID!) { markMessageRead(input: {messageId: $id}) {
  message { id readAt } errors { code field } } }"""
PLAYER_INBOX = """query($id: ID!) { player(id: $id) { inbox(first: 10) { edges { node { id } } } } }"""


async def test_sms_and_push_reach_the_provider_signed_and_survive_failures_time_outs_and_late_answers(
    rt: Any, channels: Channels, brand: Any, consenting: Any
) -> None:
    await save_template(rt, brand.id, key="reload", subject="Reload", body_text="{{ offer }} for you")
    player = await consenting()
    channels.provider.will(FAIL, HANG, LATE, OK)  # the SMS: three failed tries (the last answered too late)...
    sms = await enqueue(rt, player, brand, channel="sms", template="reload")
    await channels.settle()

    failed = await channels.message(sms)
    assert (failed.status, failed.reason, failed.attempts) == ("failed", "DELIVERY_FAILED", 3)
    assert failed.last_error == "webhook: no answer in time"
    assert [c.behaviour for c in channels.provider.calls] == [FAIL, HANG, LATE]

    channels.provider.clear()
    channels.provider.will(FAIL, OK)  # ...the push: a failure, then delivered
    push = await enqueue(rt, player, brand, channel="push", template="reload")
    await channels.settle()
    sent = await channels.message(push)
    assert (sent.status, sent.attempts, sent.subject) == ("sent", 2, "Reload")
    calls = channels.provider.calls
    assert [c.behaviour for c in calls] == [FAIL, OK]
    assert all(c.signed for c in calls)
    assert calls[-1].body["message_id"] == str(push)  # the provider deduplicates a repeated try on it
    assert calls[-1].body["channel"] == "push"
    assert calls[-1].body["text"].startswith("50 free spins <b>today</b> for you")
    assert calls[-1].body["to"] is None  # a phone number goes only with an SMS


async def test_the_inbox_shows_a_player_their_own_messages_and_marks_them_read(
    rt: Any, gql: Any, channels: Channels, brand: Any, consenting: Any, make_staff: Any
) -> None:
    # The template's own markup is cleaned too (it is shown on the player's site): no script, handler or js link.
    await save_template(
        rt,
        brand.id,
        body_html='<p>Hi {{ player.first_name }}</p><script>steal()</script><img src="x.png" onerror="steal()">'
        '<a href="javascript:steal()">more</a>',
    )
    player, other = await consenting(firstName="<b>Bo</b>"), await consenting()
    message_id = await enqueue(rt, player, brand, channel="inbox")
    await enqueue(rt, other, brand, channel="inbox")
    assert await channels.step() == 2
    assert channels.smtp.mails == []
    assert channels.provider.calls == []

    body = await gql(INBOX, {"unread": False}, token=player.token)
    [edge] = body["data"]["me"]["inbox"]["edges"]
    node = edge["node"]
    assert relay.GlobalID.from_id(node["id"]).node_id == str(message_id)
    assert node["subject"] == "Welcome to Royal Casino, <b>Bo</b>"
    assert node["bodyHtml"].startswith("<p>Hi &lt;b&gt;Bo&lt;/b&gt;</p>")
    for hostile in ("<script", "steal()", "onerror", "javascript:"):
        assert hostile not in node["bodyHtml"], node["bodyHtml"]
    assert node["readAt"] is None

    assert error_codes(await gql(MARK_READ, {"id": node["id"]}, token=other.token)) == []
    refused = (await gql(MARK_READ, {"id": node["id"]}, token=other.token))["data"]["markMessageRead"]
    assert refused["errors"] == [{"code": "NOT_FOUND", "field": "messageId"}]  # another player's message
    read = (await gql(MARK_READ, {"id": node["id"]}, token=player.token))["data"]["markMessageRead"]
    assert read["errors"] == []
    assert read["message"]["readAt"] is not None
    again = (await gql(MARK_READ, {"id": node["id"]}, token=player.token))["data"]["markMessageRead"]
    assert again["message"]["readAt"] == read["message"]["readAt"]  # the first read is kept
    unread = await gql(INBOX, {"unread": True}, token=player.token)
    assert unread["data"]["me"]["inbox"]["edges"] == []

    support = await make_staff("support")
    seen = await gql(PLAYER_INBOX, {"id": player.id}, token=support.token)
    assert error_codes(seen) == ["FORBIDDEN"]  # staff read the message log, not the inbox


async def test_send_due_sends_what_is_due_once(rt: Any, brand: Any, consenting: Any) -> None:
    """What `croupier messages send-due` runs (the inbox needs no server)."""
    from services.crm.channels import sender

    await save_template(rt, brand.id)
    player = await consenting()
    message_id = await enqueue(rt, player, brand, channel="inbox")
    assert await sender.send_due(rt) == 1
    assert await sender.send_due(rt) == 0
    async with rt.database.session() as db:
        from sqlalchemy import text

        status = await db.scalar(text("SELECT status FROM crm_messages WHERE id = :id"), {"id": message_id})
    assert status == "sent"


async def test_a_template_translates_the_platforms_words_into_its_language(
    rt: Any, gql: Any, channels: Channels, brand: Any, consenting: Any
) -> None:
    """`{% trans %}` and `_()` (services/crm/i18n's catalogues) are accepted on save and rendered in the language
    of the template chosen for the player."""
    from sqlalchemy import text

    words = '{% trans %}Unsubscribe{% endtrans %} · {{ _("Play now") }}'
    await save_template(rt, brand.id, language="de", subject=words, body_html=f"<p>{words}</p>", body_text=words)
    player = await consenting()
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE players SET language = 'de' WHERE id = :p"), {"p": player.uuid})
    await enqueue(rt, player, brand, channel="inbox")
    assert await channels.step() == 1
    [edge] = (await gql(INBOX, {"unread": False}, token=player.token))["data"]["me"]["inbox"]["edges"]
    assert edge["node"]["subject"] == "Abmelden · Jetzt spielen"
    assert edge["node"]["bodyHtml"].startswith("<p>Abmelden · Jetzt spielen</p>")
