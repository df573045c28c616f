"""Email through a real SMTP server: rendering in the player's language (or the brand's default), the
unsubscribe link and headers, tracked links and the open pixel, suppression right before the send, retries
with backoff, idempotent queueing."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import text

from models.crm import Purpose
from services.crm import suppression
from services.crm.channels import queue, tracking
from tests.crm_channels.conftest import Channels, grant, save_template

SELF_EXCLUDE = """mutation { selfExclude(input: {length: SIX_MONTHS, confirm: true}) { errors { code } } }"""


async def enqueue(
    rt: Any, player: Any, brand: Any, *, channel: str = "email", key: str | None = None, **extra: Any
) -> uuid.UUID:
    async with rt.database.transaction() as db:
        return await queue.enqueue(
            db,
            brand_id=brand.id,
            player_id=player.uuid,
            channel=channel,
            product=extra.pop("product", "casino"),
            template=extra.pop("template", "welcome"),
            context=extra.pop("context", {"offer": "50 free spins <b>today</b>"}),
            idempotency_key=key or f"test:{uuid.uuid4()}",
            source_kind="journey",
            source_id=extra.pop("source_id", None),
            **extra,
        )


async def test_an_email_reaches_the_smtp_server_rendered_escaped_with_unsubscribe_and_tracking(
    rt: Any, client: Any, channels: Channels, brand: Any, consenting: Any
) -> None:
    await save_template(rt, brand.id)
    player = await consenting(firstName="<script>x</script>")
    message_id = await enqueue(rt, player, brand)

    assert await channels.step() == 1

    [mail] = channels.smtp.to(player.email)
    assert mail.message["Subject"] == "Welcome to Royal Casino, <script>x</script>"  # the subject is not HTML
    assert mail.message["Message-ID"] == f"<{message_id}@croupier.dev>"
    assert "<script>" not in mail.html
    assert "&lt;script&gt;x&lt;/script&gt;" in mail.html
    assert "50 free spins &lt;b&gt;today&lt;/b&gt;" in mail.html
    assert mail.text.startswith("Hello <script>x</script>: 50 free spins <b>today</b>")
    # The unsubscribe link: in the text, in the HTML (added: the template left it out) and in the headers.
    async with rt.database.session() as db:
        from models.crm import CrmMessage

        row = await db.get(CrmMessage, message_id)
    assert row is not None
    unsubscribe = suppression.unsubscribe_url(row)
    assert f"Unsubscribe: {unsubscribe}" in mail.text
    assert unsubscribe in mail.html
    assert mail.message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The offer's link goes through the signed redirect; the pixel is in the body.
    assert "https://royal.example/promo" not in mail.html.replace("%3A%2F%2Froyal.example%2Fpromo", "")
    click = next(part.split('"')[0] for part in mail.html.split('href="')[1:] if "/crm/c/" in part)
    pixel = mail.html.split('<img src="')[1].split('"')[0]
    sent = await channels.message(message_id)
    assert (sent.status, sent.subject, sent.language, sent.attempts) == (
        "sent",
        "Welcome to Royal Casino, <script>x</script>",
        "en",
        1,
    )
    assert sent.opened_at is None
    assert sent.clicked_at is None

    opened = await client.get(urlsplit(pixel).path)
    assert (opened.status_code, opened.headers["content-type"]) == (200, "image/gif")
    assert (await channels.message(message_id)).opened_at is not None
    click_url = click.replace("&amp;", "&")
    parts = urlsplit(click_url)
    followed = await client.get(f"{parts.path}?{parts.query}", follow_redirects=False)
    assert followed.status_code == 302
    assert followed.headers["location"] == "https://royal.example/promo?x=1&y=2"
    assert (await channels.message(message_id)).clicked_at is not None
    # A forged target, or another message's token, redirects nowhere and stamps nothing.
    token = parts.path.rsplit("/", 1)[1]
    forged = await client.get(f"/crm/c/{token}?u=https://evil.example/", follow_redirects=False)
    assert forged.status_code == 404
    other = tracking.click_url(rt.settings, uuid.uuid4(), "https://royal.example/promo?x=1&y=2")
    assert parse_qs(urlsplit(other).query)["u"] == ["https://royal.example/promo?x=1&y=2"]
    assert (
        await client.get(f"/crm/c/{token[:-2]}xx?u=https://royal.example/", follow_redirects=False)
    ).status_code == 404
    assert (await client.get("/crm/o/not-a-token.gif")).status_code == 200  # a pixel always, stamping nothing


async def test_the_players_language_is_used_else_the_brands_default_else_the_message_fails(
    rt: Any, channels: Channels, brand: Any, consenting: Any
) -> None:
    await save_template(rt, brand.id, subject="Hello", body_text="English")
    await save_template(rt, brand.id, language="de", subject="Hallo", body_text="Deutsch")
    german, swede = await consenting(), await consenting()
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE players SET language = 'de' WHERE id = :p"), {"p": german.uuid})
        await db.execute(text("UPDATE players SET language = 'sv' WHERE id = :p"), {"p": swede.uuid})
    for_german, for_swede = await enqueue(rt, german, brand), await enqueue(rt, swede, brand)
    missing = await enqueue(rt, german, brand, template="no-such-template")

    await channels.settle()

    assert channels.smtp.to(german.email)[0].message["Subject"] == "Hallo"
    assert channels.smtp.to(swede.email)[0].message["Subject"] == "Hello"
    assert [(await channels.message(m)).language for m in (for_german, for_swede)] == ["de", "en"]
    failed = await channels.message(missing)
    assert (failed.status, failed.reason, failed.attempts) == ("failed", "TEMPLATE_MISSING", 1)
    assert len(channels.smtp.mails) == 2


async def test_suppressed_players_get_nothing_and_the_log_says_why(
    rt: Any, gql: Any, channels: Channels, brand: Any, consenting: Any, make_player: Any
) -> None:
    await save_template(rt, brand.id)
    fine = await consenting()
    excluded = await consenting()
    assert (await gql(SELF_EXCLUDE, token=excluded.token))["data"]["selfExclude"]["errors"] == []
    no_flag = await make_player()  # never ticked marketing
    await grant(rt, no_flag.uuid)
    unsubscribed = await consenting()
    await grant(rt, unsubscribed.uuid, channels=("email",), granted=False, source="unsubscribe")
    sms_only = await make_player(marketingConsent=True)  # sign-up's consent (email, inbox), then email withdrawn
    await grant(rt, sms_only.uuid, channels=("sms",))
    await grant(rt, sms_only.uuid, channels=("email", "inbox"), granted=False)
    source = uuid.uuid4()
    queued = {
        p.email: await enqueue(rt, p, brand, source_id=source)
        for p in (fine, excluded, no_flag, unsubscribed, sms_only)
    }

    await channels.settle()

    assert [m.recipients for m in channels.smtp.mails] == [[fine.email]]
    outcomes = {
        email: (row.status, row.reason) for email, row in [(e, await channels.message(m)) for e, m in queued.items()]
    }
    assert outcomes == {
        fine.email: ("sent", None),
        excluded.email: ("suppressed", "SELF_EXCLUDED"),
        no_flag.email: ("suppressed", "NO_CONSENT"),
        unsubscribed.email: ("suppressed", "UNSUBSCRIBED"),
        sms_only.email: ("suppressed", "NO_CONSENT"),
    }
    [logged] = await channels.suppressions(excluded.uuid)
    assert (logged.purpose, logged.channel, logged.product, logged.reason) == (
        Purpose.MESSAGE.value,
        "email",
        "casino",
        "SELF_EXCLUDED",
    )
    assert (logged.source_kind, logged.source_id, logged.message_id) == ("journey", source, queued[excluded.email])


async def test_a_refused_try_is_retried_with_backoff_and_the_last_one_fails(
    rt: Any, channels: Channels, brand: Any, consenting: Any
) -> None:
    await save_template(rt, brand.id)
    player = await consenting()
    recovered = await enqueue(rt, player, brand)
    channels.smtp.refuse_next = 1
    assert await channels.step() == 1
    waiting = await channels.message(recovered)
    assert (waiting.status, waiting.attempts) == ("queued", 1)
    assert "SMTP" in waiting.last_error
    assert await channels.step() == 0  # not due before its backoff
    await channels.settle()
    done = await channels.message(recovered)
    assert (done.status, done.attempts, done.last_error) == ("sent", 2, None)
    assert len(channels.smtp.to(player.email)) == 1

    given_up = await enqueue(rt, player, brand)
    channels.smtp.refuse_next = 3  # every try (the tests allow three)
    await channels.settle()
    failed = await channels.message(given_up)
    assert (failed.status, failed.reason, failed.attempts) == ("failed", "DELIVERY_FAILED", 3)
    assert len(channels.smtp.to(player.email)) == 1


async def test_enqueue_is_idempotent_by_key_and_refuses_bad_input(rt: Any, brand: Any, consenting: Any) -> None:
    player = await consenting()
    first = await enqueue(rt, player, brand, key="journey:1:welcome")
    again = await enqueue(rt, player, brand, key="journey:1:welcome", context={"offer": "other"})
    assert first == again
    async with rt.database.session() as db:
        assert await db.scalar(text("SELECT count(*) FROM crm_messages")) == 1
    import pytest

    from core.errors import DomainError as Refused

    with pytest.raises(Refused) as collided:  # the key of another player's message: not that message's id
        await enqueue(rt, await consenting(), brand, key="journey:1:welcome")
    assert collided.value.field == "idempotencyKey"

    from core.errors import DomainError

    for bad, field in (
        ({"channel": "fax"}, "channel"),
        ({"product": "bingo"}, "product"),  # no player can consent to it: it would only ever be suppressed
        ({"template": "Not A Key"}, "template"),
        ({"context": {"x": "y" * 9000}}, "context"),
    ):
        with pytest.raises(DomainError) as refused:
            await enqueue(rt, player, brand, **bad)
        assert refused.value.field == field


async def test_a_slow_smtp_server_is_cut_off_at_the_time_out_so_a_lease_never_runs_out_mid_send(
    rt: Any, channels: Channels, brand: Any, consenting: Any
) -> None:
    """Each SMTP command is answered within the time-out but all of them take longer: the try is over at the
    time-out (the lease is sized on it; a longer send would let another sender claim and send it again)."""
    from tests.crm_channels.conftest import TIMEOUT

    await save_template(rt, brand.id)
    player = await consenting()
    message_id = await enqueue(rt, player, brand)
    channels.smtp.slow = TIMEOUT * 0.7  # MAIL FROM and RCPT TO: 1.4 time-outs in all
    assert await channels.step() == 1
    waiting = await channels.message(message_id)
    assert (waiting.status, waiting.attempts, waiting.last_error) == ("queued", 1, "SMTP: no answer in time")
    assert channels.smtp.to(player.email) == []
    channels.smtp.slow = 0.0
    await channels.settle()
    assert (await channels.message(message_id)).status == "sent"
    assert len(channels.smtp.to(player.email)) == 1


async def test_a_template_that_raises_while_rendering_fails_the_message_at_once(
    rt: Any, channels: Channels, brand: Any, consenting: Any
) -> None:
    player = await consenting()
    broken = {"pop": "{{ [].pop() }}", "key": "{{ {}.pop('x') }}", "mutate": "{{ context.clear() }}"}
    queued = {}
    for key, body in broken.items():
        await save_template(rt, brand.id, key=key, body_text=body)
        queued[key] = await enqueue(rt, player, brand, template=key)
    assert await channels.step() == 3
    for message_id in queued.values():
        failed = await channels.message(message_id)
        assert (failed.status, failed.reason, failed.attempts) == ("failed", "RENDER_FAILED", 1)
        assert failed.context == {"offer": "50 free spins <b>today</b>"}
    assert channels.smtp.mails == []


async def test_a_template_too_costly_to_render_fails_its_message_instead_of_stalling_the_sender(
    rt: Any, channels: Channels, brand: Any, consenting: Any, monkeypatch: Any
) -> None:
    from services.crm.channels import templates

    monkeypatch.setattr(templates, "RENDER_SECONDS", 0.2)
    player = await consenting()
    costly = {
        "loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "huge": "{{ 'x' * 1000000000 }}",
        "power": "{{ 7 ** 100000000 }}",
        # One call building a huge string: a padding width, a format width, a str method, a replace, a join.
        "center": "{{ ''|center(10**8) }}",
        "indent": "{{ 'a\nb'|indent(10**8) }}",
        "format": "{{ '%0100000000d'|format(1) }}",
        "percent": "{{ '%(a)0100000000d' % {'a': 1} }}",
        "str-format": "{{ '{:>100000000}'.format(1) }}",
        "ljust": "{{ ''.ljust(100000000) }}",
        "replace": "{{ ('a' * 100000)|replace('a', 'a' * 100000) }}",
        "join": "{{ ('a' * 100000)|list|join('b' * 100000) }}",
    }
    queued = []
    for key, body in costly.items():
        await save_template(rt, brand.id, key=key, body_text=body)  # saving does not evaluate it either
        queued.append(await enqueue(rt, player, brand, template=key))
    assert await channels.step() == len(costly)
    for message_id in queued:
        failed = await channels.message(message_id)
        assert (failed.status, failed.reason) == ("failed", "RENDER_FAILED")
    assert channels.smtp.mails == []


async def test_a_player_who_joined_the_national_register_since_logging_in_is_asked_for_again_and_gets_nothing(
    rt: Any, channels: Channels, consenting: Any, monkeypatch: Any
) -> None:
    from tests.rg.conftest import licensed_brand

    nordic = await licensed_brand(rt, "nordic", ["UK", "MT"], ["GB", "MT"], ["GBP", "EUR"])
    await save_template(rt, nordic.id)
    briton = await consenting(brand_code="nordic", country="GB", currency="GBP")
    maltese = await consenting(brand_code="nordic", country="MT", currency="EUR")  # Malta keeps no register
    first = await enqueue(rt, briton, nordic)
    assert await channels.step() == 1
    assert (await channels.message(first)).status == "sent"

    # The Briton signs up with GAMSTOP and never logs in again. Within a day the register is not asked again...
    monkeypatch.setattr(rt.settings, "rg_demo_register", f"{briton.email}:Y,{maltese.email}:Y")
    cached = await enqueue(rt, briton, nordic)
    assert await channels.step() == 1
    assert (await channels.message(cached)).status == "sent"
    # ...after it, the sender asks, records the hit, and the message is suppressed (the Maltese: no register).
    await rt.redis.flushdb()  # as when the day's answer has expired
    later = [await enqueue(rt, player, nordic) for player in (briton, maltese)]
    assert await channels.step() == 2
    briton_message, maltese_message = [await channels.message(m) for m in later]
    assert (briton_message.status, briton_message.reason) == ("suppressed", "REGISTER_HIT")
    assert maltese_message.status == "sent"
    async with rt.database.session() as db:
        hit = (await db.execute(text("SELECT register_name, cleared_at FROM rg_register_hits"))).all()
    assert [tuple(row) for row in hit] == [("gamstop", None)]


async def test_a_register_that_does_not_answer_defers_the_message(
    rt: Any, channels: Channels, consenting: Any, monkeypatch: Any
) -> None:
    from services.rg import registers
    from tests.rg.conftest import licensed_brand

    nordic = await licensed_brand(rt, "nordic", ["UK"], ["GB"], ["GBP"])
    await save_template(rt, nordic.id)
    briton = await consenting(brand_code="nordic", country="GB", currency="GBP")

    async def away(self: Any, person: Any) -> Any:
        raise registers.RegisterUnavailable("GAMSTOP is down")

    monkeypatch.setattr(registers.ListRegister, "check", away)
    message_id = await enqueue(rt, briton, nordic)
    assert await channels.step() == 1
    deferred = await channels.message(message_id)
    assert (deferred.status, deferred.attempts, deferred.due_at > deferred.created_at) == ("queued", 1, True)
    assert channels.smtp.to(briton.email) == []


def test_the_bounded_filters_still_take_their_keyword_arguments() -> None:
    """The size guards wrap `join`, `replace` and `center`: their keyword forms must still render."""
    from services.crm.channels import templates

    env = templates._environment(False)
    source = "{{ people|join(', ', attribute='n') }}|{{ 'aaa'|replace('a', 'b', count=1) }}|{{ 'x'|center(width=3) }}"
    assert env.from_string(source).render(people=[{"n": "Ann"}, {"n": "Bo"}]) == "Ann, Bo|baa| x "
