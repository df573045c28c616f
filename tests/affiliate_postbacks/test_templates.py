"""URL templates as staff save them, and what the partner can and cannot learn from a postback."""

from __future__ import annotations

import uuid

import pytest

from core.errors import DomainError
from models.affiliate_postbacks import PostbackMethod, PostbackTrigger
from services.affiliates.postbacks import templates


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("https://p.test/pb?x={player_id}", "Unknown macro {player_id}"),
        ("https://p.test/pb?x={email}", "Unknown macro {email}"),
        ("https://p.test/pb?x={amount!r}", "Unknown macro"),
        ("https://p.test/pb?x={amount:>10}", "Unknown macro"),
        ("https://p.test/pb?x={click_id", "stray brace"),
        ("https://{sub1}.p.test/pb", "fixed host"),
        ("ftp://p.test/pb", "must start with"),
        ("https:///pb", "fixed host"),
        ("https://user:pw@p.test/pb", "No credentials"),
        ("", "at most"),
    ],
)
def test_a_template_with_an_unknown_macro_a_macro_in_its_host_or_another_scheme_is_refused(
    template: str, says: str
) -> None:
    with pytest.raises(DomainError) as refused:
        templates.validate_template(template, require_https=False)
    assert says in refused.value.message
    assert refused.value.field == "urlTemplate"


def test_production_takes_https_only() -> None:
    assert templates.validate_template("http://p.test/pb", require_https=False) == "http://p.test/pb"
    with pytest.raises(DomainError):
        templates.validate_template("http://p.test/pb", require_https=True)


def test_every_macro_is_rendered_percent_encoded() -> None:
    facts = templates.Facts(
        event=PostbackTrigger.FIRST_DEPOSIT,
        event_id=42,
        player_ref="ab" * 16,
        click_id="c-1",
        sub_ids={"sub1": "a b", "sub3": "x&y=1#z", "sub5": "ü"},
        amount="12.50",
        currency="EUR",
    )
    template = "https://p.test/" + "&".join(f"{m}={{{m}}}" for m in templates.MACROS)
    assert templates.render(template, facts) == (
        "https://p.test/click_id=c-1&sub1=a%20b&sub2=&sub3=x%26y%3D1%23z&sub4=&sub5=%C3%BC&player_ref="
        + "ab" * 16
        + "&event=first_deposit&amount=12.50&currency=EUR&event_id=42"
    )
    assert templates.body_of(PostbackMethod.GET, facts) is None
    assert '"sub3":"x&y=1#z"' in (templates.body_of(PostbackMethod.POST, facts) or "")


def test_the_player_ref_is_stable_per_partner_and_differs_between_partners() -> None:
    player = uuid.uuid4()
    one, two = templates.new_salt(), templates.new_salt()
    assert templates.player_ref(one, player) == templates.player_ref(one, player)
    assert templates.player_ref(one, player) != templates.player_ref(two, player)
    assert str(player) not in templates.player_ref(one, player)
    assert len(templates.player_ref(one, player)) == 32
