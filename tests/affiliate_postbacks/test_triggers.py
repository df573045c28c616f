"""Which events become postbacks: registration of an attributed player, their first credited deposit (and
not the next ones, nor other players'), their CPA qualification (not a withheld one), for active configs of
the player's partner on the player's brand or every brand."""

from __future__ import annotations

from typing import Any

from authz.subjects import SYSTEM
from models.affiliate_postbacks import PostbackTrigger
from services import cashier
from services.affiliates.postbacks import configs
from tests.affiliate_postbacks.conftest import Partner, Postbacks, make_partner
from tests.cashier.conftest import DemoPsp, player_viewer

FTD = "https://acme.test/ftd?ev={event}&amount={amount}&cur={currency}&click={click_id}&id={event_id}"


async def _deposit(rt: Any, psp: DemoPsp, player: Any, brand: Any, amount: str) -> Any:
    payment = await cashier.deposit(
        rt, player_viewer(player, brand), amount=amount, currency="EUR", method="card", psp_token=await psp.tokenise()
    )
    assert payment.status == "succeeded"
    return payment


async def test_only_the_first_deposit_of_an_attributed_player_is_a_postback(
    rt: Any, postbacks: Postbacks, partner: Partner, make_player: Any, attribute: Any, psp: DemoPsp, brand: Any
) -> None:
    await postbacks.configure(partner, PostbackTrigger.FIRST_DEPOSIT, FTD)
    attributed, organic = await make_player(), await make_player()
    _, click_id = await attribute(attributed.uuid, partner)
    await _deposit(rt, psp, organic, brand, "30.00")
    await _deposit(rt, psp, attributed, brand, "25.00")
    await postbacks.enqueue()
    await _deposit(rt, psp, attributed, brand, "40.00")  # the second deposit, in a later batch
    await postbacks.enqueue()

    [delivery] = await postbacks.deliveries()
    assert delivery["player_id"] == attributed.uuid
    assert delivery["trigger"] == "first_deposit"
    event = await postbacks.conn.fetchval("SELECT topic FROM outbox_events WHERE id = $1", delivery["event_id"])
    assert event == "payment.succeeded"
    assert delivery["url"] == (
        f"https://acme.test/ftd?ev=first_deposit&amount=25.00&cur=EUR&click={click_id}&id={delivery['event_id']}"
    )


async def test_the_first_deposit_is_the_first_credited_one_even_when_the_consumer_sees_both_at_once(
    rt: Any, postbacks: Postbacks, partner: Partner, make_player: Any, attribute: Any, psp: DemoPsp, brand: Any
) -> None:
    await postbacks.configure(partner, PostbackTrigger.FIRST_DEPOSIT, "https://acme.test/ftd?a={amount}")
    player = await make_player()
    await attribute(player.uuid, partner)
    await _deposit(rt, psp, player, brand, "10.00")
    await _deposit(rt, psp, player, brand, "20.00")
    await postbacks.enqueue()
    [delivery] = await postbacks.deliveries()
    assert delivery["url"] == "https://acme.test/ftd?a=10.00"


async def test_a_qualified_cpa_is_a_postback_with_its_amount_and_a_withheld_one_is_not(
    postbacks: Postbacks, partner: Partner, make_player: Any, attribute: Any, qualify: Any
) -> None:
    await postbacks.configure(partner, PostbackTrigger.QUALIFICATION, "https://acme.test/cpa?a={amount}&c={currency}")
    qualified, withheld = await make_player(), await make_player()
    for player in (qualified, withheld):
        await attribute(player.uuid, partner)
    await qualify(qualified.uuid, partner, amount=7550)
    await qualify(withheld.uuid, partner, amount=7550, status="withheld")
    await postbacks.enqueue()
    [delivery] = await postbacks.deliveries()
    assert (delivery["player_id"], delivery["url"]) == (qualified.uuid, "https://acme.test/cpa?a=75.50&c=EUR")


async def test_configs_apply_to_their_partner_their_brand_and_only_while_active(
    rt: Any,
    postbacks: Postbacks,
    partner: Partner,
    make_player: Any,
    attribute: Any,
    brand: Any,
    other_brand: Any,
) -> None:
    rival = await make_partner(rt, brand, "rival")
    everywhere = await postbacks.configure(partner, PostbackTrigger.REGISTRATION, "https://acme.test/all")
    on_brand = await postbacks.configure(
        partner, PostbackTrigger.REGISTRATION, "https://acme.test/royal", brand_id=brand.id
    )
    switched_off = await postbacks.configure(partner, PostbackTrigger.REGISTRATION, "https://acme.test/off")
    await configs.update_config(rt, SYSTEM, config_id=switched_off.id, active=False)
    await postbacks.configure(rival, PostbackTrigger.REGISTRATION, "https://rival.test/reg")
    await postbacks.configure(partner, PostbackTrigger.QUALIFICATION, "https://acme.test/cpa")

    player = await make_player()
    await attribute(player.uuid, partner)
    await make_player()  # organic: no attribution, no postback
    await postbacks.enqueue()
    assert sorted(d["config_id"] for d in await postbacks.deliveries()) == sorted([everywhere.id, on_brand.id])
    assert other_brand.id != brand.id
