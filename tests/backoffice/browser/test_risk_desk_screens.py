"""The risk desk in the back office, in a real browser: the risk queue (the riskiest player first, the score's
reasons, a quick confirm or dismiss with a note), the rule editor (validation errors shown, saved as a new
version, a new rule), and the player 360's score with its reasons and the restrictions with a lift button.
Support sees none of it."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import cell, sign_in
from tests.risk.desk import hit


async def test_the_queue_puts_the_riskiest_player_first_and_takes_a_review(
    page: Any, rt: Any, make_player: Any, make_staff: Any
) -> None:
    calm = await make_player(email="calm@example.com")
    await hit(rt, calm.uuid, "linked-accounts", "cluster of 3 accounts")
    risky = await make_player(email="risky@example.com")
    await hit(rt, risky.uuid, "chargeback-history", "1 chargeback in 365 days")
    await hit(rt, risky.uuid, "deposits-per-player", "6 deposits in 10 minutes")
    analyst = await make_staff("risk_analyst", login=False)

    await sign_in(page, analyst)
    await page.get_by_role("link", name="Risk queue").click()
    rows = page.locator("cr-risk-queue tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0)).to_contain_text("risky@example.com")
    await expect(rows.nth(0).locator("[data-field=score]")).to_have_text("55")
    await expect(rows.nth(0)).to_contain_text("chargeback-history +40: 1 chargeback in 365 days")
    await expect(rows.nth(1)).to_contain_text("deposits-per-player")
    await expect(rows.nth(2)).to_contain_text("calm@example.com")
    await expect(rows.nth(2).locator("[data-field=score]")).to_have_text("15")

    calm_row = cell(page, "calm@example.com")
    await calm_row.get_by_role("button", name="Dismiss").click()
    await expect(page.get_by_role("alert")).to_have_text("Write a note: what you found.")
    await calm_row.get_by_label("Note").fill("siblings sharing a laptop")
    await calm_row.get_by_role("button", name="Dismiss").click()
    await expect(page.get_by_role("status")).to_have_text("Flag on calm@example.com dismissed.")
    await expect(rows).to_have_count(2)

    await page.get_by_label("Status").select_option("DISMISSED")
    await expect(rows).to_have_count(1)
    await expect(rows.nth(0)).to_contain_text("siblings sharing a laptop")
    await expect(rows.nth(0).locator("[data-field=score]")).to_have_text("0")  # a dismissed rule's points go


async def test_the_rule_editor_shows_refusals_and_saves_a_new_version(page: Any, make_staff: Any) -> None:
    admin = await make_staff(("superadmin", None), login=False)
    await sign_in(page, admin)
    await page.get_by_role("link", name="Risk rules").click()
    row = page.locator("cr-risk-rules tr[data-rule=covering-bets]")
    await expect(row).to_contain_text("25")
    await row.get_by_role("button", name="Edit covering-bets").click()
    form = page.get_by_role("form", name="Edit rule covering-bets")

    await form.get_by_label("Parameters (JSON)").fill("{rounds: 3")
    await form.get_by_label("Reason").fill("tighter")
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_role("alert")).to_have_text("Parameters are not valid JSON.")

    await form.get_by_label("Parameters (JSON)").fill('{"rounds": 3, "low_percent": 120, "high_percent": 90}')
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_role("alert")).to_contain_text("params: low_percent is above high_percent")

    await form.get_by_label("Parameters (JSON)").fill('{"rounds": 3, "low_percent": 95, "high_percent": 105}')
    await form.get_by_label("Points").fill("30")
    await form.get_by_label("hold deposit").check()
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_role("alert")).to_contain_text("actions:")  # hold_deposit: inline deposit rules only
    await form.get_by_label("hold deposit").uncheck()
    await form.get_by_label("Enabled").uncheck()
    await form.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Saved covering-bets (version 2).")
    await expect(row.locator("td").nth(3)).to_have_text("30")
    await expect(row).to_contain_text("off")

    await page.get_by_role("button", name="New rule").click()
    new = page.get_by_role("form", name="New rule")
    await new.get_by_label("Code").fill("night-deposits")
    await new.get_by_label("Name").fill("Deposit bursts by device, tighter")
    await new.get_by_label("Kind").select_option("VELOCITY")
    await new.get_by_label("Parameters (JSON)").fill(
        '{"occasion": "deposit", "by": "device", "count": 1, "minutes": 5}'
    )
    await new.get_by_label("Reason").fill("a ring at night")
    await new.get_by_role("button", name="Create").click()
    await expect(new.get_by_role("alert")).to_contain_text("params: count")
    await new.get_by_label("Parameters (JSON)").fill(
        '{"occasion": "deposit", "by": "device", "count": 3, "minutes": 5}'
    )
    await new.get_by_role("button", name="Create").click()
    await expect(page.get_by_role("status")).to_have_text("Created night-deposits.")
    await expect(page.locator("cr-risk-rules tr[data-rule=night-deposits]")).to_contain_text("flag review")


async def test_the_player_360_shows_the_score_and_lifts_a_restriction(
    page: Any, rt: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(email="bonus.hunter@example.com")
    await hit(rt, player.uuid, "chargeback-history", "1 chargeback in 365 days")
    analyst = await make_staff("risk_analyst", login=False)
    await sign_in(page, analyst)
    await page.goto(f"/admin/#/players/{player.id}")
    section = page.locator("cr-player-risk-score")
    await expect(section.locator("[data-field=score]")).to_have_text("40")
    await expect(section.get_by_role("table", name="Score reasons")).to_contain_text("1 chargeback in 365 days")
    restrictions = section.get_by_role("table", name="Restrictions")
    await expect(restrictions.locator("tbody tr")).to_have_count(2)

    lift = section.get_by_role("form", name="Lift block bonuses")
    await lift.get_by_label("Why lift it").fill("chargeback won by us")
    await lift.get_by_role("button", name="Lift").click()
    await expect(section.get_by_role("status")).to_have_text("Lifted: block bonuses.")
    await expect(restrictions.locator("tbody tr")).to_have_count(1)
    await expect(restrictions).to_contain_text("route 3ds")

    impose = section.get_by_role("form", name="Impose a restriction")
    await impose.get_by_label("Restriction").select_option("ROUTE_3DS")
    await impose.get_by_label("Reason").fill("again")
    await impose.get_by_role("button", name="Impose").click()
    await expect(section.get_by_role("alert")).to_contain_text("already in force")
    await impose.get_by_label("Restriction").select_option("HOLD_WITHDRAWALS")
    await impose.get_by_label("Reason").fill("until the dispute closes")
    await impose.get_by_role("button", name="Impose").click()
    await expect(section.get_by_role("status")).to_have_text("Imposed: hold withdrawals.")
    await expect(section.locator("tr[data-restriction=HOLD_WITHDRAWALS]")).to_contain_text("staff")


async def test_support_sees_no_queue_rules_nor_score(page: Any, rt: Any, make_player: Any, make_staff: Any) -> None:
    player = await make_player()
    await hit(rt, player.uuid, "chargeback-history", "1 chargeback")
    support = await make_staff("support", login=False)
    await sign_in(page, support)
    for screen in ("Risk queue", "Risk rules"):
        await expect(page.get_by_role("link", name=screen)).to_have_count(0)
    await page.goto(f"/admin/#/players/{player.id}")
    await expect(page.locator("cr-player-kyc")).to_be_visible()
    await expect(page.locator("cr-player-profile")).to_contain_text(player.email)
    await expect(page.locator("cr-player-risk-score")).to_have_count(0)
