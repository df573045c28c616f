"""The `address` signal through the public surface: players who register (or later give, in their profile)
one postal address, however written, are linked once the `risk-signals` consumer has run; another address
links no one; staff see the shared address masked; the events never carry it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.risk import signals as risk_signals
from tests.risk.conftest import LINKED, Signals, registered

BAKER = {"addressLine1": "12 Baker Street", "city": "London", "postalCode": "NW1 6XE"}
BAKER_SCRAWLED = {"addressLine1": "12, baker st.", "city": "london", "postalCode": "nw16xe"}
ELSEWHERE = {"addressLine1": "14 Baker Street", "city": "London", "postalCode": "NW1 6XE"}
UPDATE_PROFILE = """mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
  player { addressLine1 } errors { code field message } } }"""


async def test_one_address_written_two_ways_links_the_accounts_and_a_neighbour_is_not_linked(
    gql: Any, make_staff: Any, signals: Signals
) -> None:
    tidy = await registered(gql, "tidy@example.com", country="GB", address=BAKER)
    scrawled = await registered(gql, "scrawl@example.org", country="GB", address=BAKER_SCRAWLED)
    neighbour = await registered(gql, "next-door@example.net", country="GB", address=ELSEWHERE)
    assert await signals.drain() > 0
    assert await signals.cluster_of(tidy) == await signals.cluster_of(scrawled)
    assert await signals.cluster_of(neighbour) != await signals.cluster_of(tidy)

    analyst = await make_staff("risk_analyst")
    body = await gql(LINKED, {"id": tidy.id}, token=analyst.token)
    risk = body["data"]["player"]["risk"]
    assert risk["clusterSize"] == 2
    [linked] = risk["linkedPlayers"]
    assert linked["player"]["id"] == scrawled.id
    assert [(s["kind"], s["value"]) for s in linked["sharedSignals"]] == [("address", "12 ***|nw***|gb")]
    alone = await gql(LINKED, {"id": neighbour.id}, token=analyst.token)
    assert alone["data"]["player"]["risk"] == {"clusterSize": 1, "linkedPlayers": []}

    # The merge is announced by kind; no event carries the address.
    events = await signals.conn.fetch("SELECT topic, payload::text AS payload FROM outbox_events ORDER BY id")
    linked_by = [json.loads(e["payload"])["kind"] for e in events if e["topic"] == "risk.accounts_linked"]
    assert linked_by == ["address"]
    assert not [e["topic"] for e in events if "baker" in e["payload"].lower() or "nw1" in e["payload"].lower()]


async def test_an_address_given_in_the_profile_links_the_account(gql: Any, signals: Signals) -> None:
    household = await registered(gql, "parent@example.com", country="GB", address=BAKER)
    later = await registered(gql, "child@example.com", country="GB")
    await signals.drain()
    assert await signals.cluster_of(later) != await signals.cluster_of(household)

    body = await gql(UPDATE_PROFILE, {"input": BAKER_SCRAWLED}, token=later.token)
    assert body["data"]["updateProfile"]["errors"] == [], body
    assert await signals.drain() > 0
    assert await signals.cluster_of(later) == await signals.cluster_of(household)
    held = await signals.conn.fetch(
        "SELECT value FROM risk_signals WHERE kind = 'address' AND player_id = ANY($1::uuid[])",
        [household.uuid, later.uuid],
    )
    assert [r["value"] for r in held] == ["12 baker st|nw16xe|gb"] * 2


async def test_a_profile_change_without_the_address_adds_no_address_signal(gql: Any, signals: Signals) -> None:
    player = await registered(gql, "quiet@example.com", country="GB")
    await signals.drain()
    body = await gql(UPDATE_PROFILE, {"input": {"firstName": "Quinn"}}, token=player.token)
    assert body["data"]["updateProfile"]["errors"] == [], body
    await signals.drain()
    kinds = await signals.conn.fetch("SELECT kind FROM risk_signals WHERE player_id = $1", player.uuid)
    assert "address" not in {r["kind"] for r in kinds}


@pytest.mark.parametrize(
    ("written", "same_as"),
    [
        (("Hauptstraße 5", None, "München", "80331", "DE"), ("Haupt Str. 5", None, "Munchen", "80 331", "DE")),
        (
            ("3 Rue de l'Église", "Apartment 4", "Zürich", None, "CH"),
            ("3 rue de l eglise", "Apt. 4", "ZURICH", "", "CH"),
        ),
        (("1  North   Road", None, "Leeds", "LS1 1AA", "GB"), ("1 N. Rd", None, "Leeds", "ls1-1aa", "GB")),
    ],
)
def test_the_address_key_reads_variants_alike(written: tuple[str | None, ...], same_as: tuple[str | None, ...]) -> None:
    assert risk_signals.address(*written) == risk_signals.address(*same_as) is not None


def test_the_address_key_tells_apart_what_differs() -> None:
    base = ("12 Baker Street", None, "London", "NW1 6XE", "GB")
    assert risk_signals.address(*base) != risk_signals.address("12 Baker Street", None, "London", "NW1 6XF", "GB")
    assert risk_signals.address(*base) != risk_signals.address("12 Baker Street", None, "London", "NW1 6XE", "IE")
    assert risk_signals.address(*base) != risk_signals.address("12 Baker Street", "Flat 2", "London", "NW1 6XE", "GB")
    assert risk_signals.address(None, None, "London", "NW1 6XE", "GB") is None
