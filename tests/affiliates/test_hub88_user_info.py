"""Hub88 `user/info` answers the code of the partner a player is attributed to as `affiliate_id` (null: none)."""

from __future__ import annotations

from typing import Any

from tests.affiliates.conftest import MakePartner, click
from tests.providers.conftest import Aggregator, Seat, open_session


async def test_user_info_answers_the_attributed_partners_code(
    rt: Any, client: Any, aggregator: Aggregator, hub88_provider: Any, make_player: Any, make_partner: MakePartner
) -> None:
    partner = await make_partner(code="acme-media")
    click_id = (await click(client, partner.link_code)).cookies["croupier_click"]
    attributed = await make_player(affiliateClick=click_id)
    organic = await make_player()
    for player, expected in ((attributed, "acme-media"), (organic, None)):
        token = await open_session(rt, hub88_provider, player.uuid)
        seat = Seat(str(player.uuid), player.uuid, token)
        info = await aggregator.call("user/info", seat.base())
        assert info["status"] == "RS_OK"
        assert info["affiliate_id"] == expected
