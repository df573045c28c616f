"""The Journeys screen: marketing builds a journey in the steps-list editor (trigger, quiet hours off, steps
added, moved and removed), saves the draft and activates it; a registered player flows through it and the run
log shows each step's outcome; the active version is not edited in place — a new version is, and activating it
archives the first."""

from __future__ import annotations

import base64
import json
from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import cell, sign_in
from tests.crm_journeys.conftest import (  # noqa: F401  (fixtures)
    Journeys,
    aggregator,
    aggregator_key,
    hub88_provider,
    journeys,
    reachable,
)


def node_id(global_id: str) -> str:
    return base64.b64decode(global_id).decode().split(":", 1)[1]


async def test_marketing_builds_a_journey_a_player_flows_through_it_and_a_new_version_replaces_it(
    page: Any,
    make_staff: Any,
    gql: Any,
    journeys: Journeys,  # noqa: F811
    reachable: Any,  # noqa: F811
) -> None:
    from tests.crm_experiments.conftest import create

    segment = await gql(
        "mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id } } }",
        {"input": {"name": "Everyone new", "kind": "DYNAMIC", "rules": {"match": "ALL", "conditions": []}}},
        token=journeys.token,
    )
    segment_id = segment["data"]["createSegment"]["segment"]["id"]
    experiment_id = (await create(gql, journeys.token, name="Subject line"))["experiment"]["id"]
    marketing = await make_staff("marketing", login=False)
    await sign_in(page, marketing)
    await page.get_by_role("link", name="Journeys").click()
    await expect(page.get_by_text("No journey yet.")).to_be_visible()

    await page.get_by_role("button", name="New journey").click()
    editor = page.get_by_role("form", name="Journey editor")
    await editor.get_by_label("Name").fill("Welcome")
    await editor.get_by_label("Quiet hours (player's time)").uncheck()
    await editor.get_by_label("Template of step 1").fill("welcome")
    # Segments and A/B tests are picked by name; with an A/B test each send takes a template per variant.
    await editor.get_by_label("Entry segment").select_option(label="Everyone new")
    await editor.get_by_label("A/B test").select_option(label="Subject line")
    await editor.get_by_label("Template for bold of step 1").fill("welcome-bold")
    await editor.get_by_label("Template for bold of step 1").dispatch_event("change")
    await editor.get_by_label("New step").select_option("tag")
    await editor.get_by_role("button", name="Add step").click()
    await editor.get_by_label("Tag of step 2").fill("welcomed")
    await editor.get_by_label("New step").select_option("wait")
    await editor.get_by_role("button", name="Add step").click()
    await editor.get_by_label("Move step 3 up").click()  # wait, then tag
    await editor.get_by_label("New step").select_option("offer")
    await editor.get_by_role("button", name="Add step").click()
    await editor.get_by_label("Remove step 4").click()
    await expect(editor.get_by_role("list", name="Steps").locator("li")).to_have_count(3)
    await expect(editor.get_by_label("Minutes of step 2")).to_have_value("60")
    await editor.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_role("status")).to_contain_text("Draft saved: Welcome v1.")
    saved = await journeys.conn.fetchval("SELECT definition FROM crm_journeys WHERE version = 1")
    definition = json.loads(saved) if isinstance(saved, str) else saved
    assert definition["entry_segment_id"] == node_id(segment_id)
    assert definition["experiment_id"] == node_id(experiment_id)
    assert definition["steps"][0]["variants"] == {"bold": "welcome-bold"}
    await editor.get_by_role("button", name="Activate").click()
    await expect(page.get_by_role("status")).to_contain_text("Welcome v1 is active.")
    await expect(cell(page, "Welcome")).to_contain_text("active")

    ann = await reachable()
    await journeys.decide()
    await journeys.step()
    await page.get_by_role("button", name="Refresh").click()
    run = page.get_by_role("table", name="Journey runs").locator("tbody tr")
    await expect(run).to_have_count(1)
    await expect(run).to_contain_text(str(ann.uuid)[:10])
    await expect(run).to_contain_text("1. send: done")
    await expect(run).to_contain_text("2. wait: waiting")

    await expect(editor.get_by_role("button", name="Save draft")).to_have_count(0)  # active: not edited in place
    await editor.get_by_role("button", name="New version").click()
    await expect(page.get_by_role("status")).to_contain_text("Version 2 is a draft")
    await editor.get_by_label("Minutes of step 2").fill("30")
    await editor.get_by_label("Minutes of step 2").dispatch_event("change")
    await editor.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_role("status")).to_contain_text("Draft saved: Welcome v2.")
    await editor.get_by_role("button", name="Activate").click()
    await expect(page.get_by_role("status")).to_contain_text("Welcome v2 is active.")
    table = page.get_by_role("table", name="Journeys")
    await expect(table.locator("tr", has_text="v1")).to_contain_text("archived")
    await expect(table.locator("tr", has_text="v2")).to_contain_text("active")
