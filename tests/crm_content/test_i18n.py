"""Translations of player-facing texts (Babel catalogues): the template follows the code; refusals in payloads
reach players in their own language and anonymous visitors in their Accept-Language; staff read English;
message templates translate their `{% trans %}` texts and still escape what they insert."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from services.crm import i18n
from services.crm.i18n import catalogue
from tests.conftest import PASSWORD, REGISTER

CHANGE_PASSWORD = """mutation($input: ChangePasswordInput!) {
  changePassword(input: $input) { changed errors { code field message } }
}"""


def test_the_template_holds_every_extractable_message_of_the_code() -> None:
    assert catalogue.template_is_current(), "run `croupier i18n extract` and `croupier i18n update`"
    assert {"de", "es"} <= set(i18n.available())


def test_message_templates_translate_and_escape() -> None:
    template = '<a href="{{ link }}">{% trans %}Unsubscribe{% endtrans %}</a> {{ _("Play now") }}, {{ name }}'
    rendered = i18n.jinja_environment("de").from_string(template).render(link="/u?a=1&b=2", name="<b>Eve</b>")
    assert rendered == '<a href="/u?a=1&amp;b=2">Abmelden</a> Jetzt spielen, &lt;b&gt;Eve&lt;/b&gt;'
    # No catalogue for a language: the source text.
    assert i18n.jinja_environment("fi").from_string("{{ _('Play now') }}").render() == "Play now"
    assert i18n.language_for("fr-CH, es;q=0.9, de;q=0.8") == "es"
    assert i18n.language_for("fr") is None


async def test_refusals_reach_players_in_their_language(gql: Any, make_player: Any, make_staff: Any, rt: Any) -> None:
    player = await make_player(email="eve@example.com")
    wrong = {"input": {"currentPassword": "not-it-at-all", "newPassword": "another long password 1"}}
    body = await gql(CHANGE_PASSWORD, wrong, token=player.token)
    english = body["data"]["changePassword"]["errors"][0]
    assert english["message"] == "The current password is wrong."
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE players SET language = 'de' WHERE id = :id"), {"id": player.uuid})
    body = await gql(CHANGE_PASSWORD, wrong, token=player.token)
    german = body["data"]["changePassword"]["errors"][0]
    assert german == {**english, "message": "Das aktuelle Passwort ist falsch."}  # same code and field

    # An anonymous visitor registering again with that email, in their browser's language.
    again = {
        "input": {
            "brand": "royal",
            "email": "eve@example.com",
            "password": PASSWORD,
            "dateOfBirth": "1990-01-01",
            "country": "MT",
            "currency": "EUR",
        }
    }
    body = await gql(REGISTER, again, headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert [e["message"] for e in body["data"]["registerPlayer"]["errors"]] == [
        "Ya existe una cuenta con este correo electrónico."
    ]
    body = await gql(REGISTER, again, headers={"Accept-Language": "ja"})
    assert [e["message"] for e in body["data"]["registerPlayer"]["errors"]] == [
        "An account with this email already exists."
    ]
