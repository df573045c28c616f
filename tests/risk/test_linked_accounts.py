"""Linked accounts through the public surface: registrations (GraphQL, with the frontend's device header)
feed the `risk-signals` consumer; staff read the clusters on `Player.risk`."""

from __future__ import annotations

from typing import Any

from core import outbox
from core.consumers import Event, replay
from tests.aml_monitoring.conftest import DEPOSIT
from tests.conftest import LOGIN, PASSWORD, recorded_statements
from tests.risk.conftest import LINKED, Signals, registered, request_headers

DEVICE = "dev-7f3a9c1e-shared"


async def test_three_accounts_registered_from_one_device_are_linked(
    gql: Any, make_staff: Any, signals: Signals
) -> None:
    first = await registered(gql, "ann@example.com", device=DEVICE)
    second = await registered(gql, "bob@example.org", device=DEVICE)
    third = await registered(gql, "cy@example.net", device=DEVICE)
    alone = await registered(gql, "dee@example.com", device="dev-somebody-else")
    assert await signals.drain() > 0
    analyst = await make_staff("risk_analyst")

    body = await gql(LINKED, {"id": second.id}, token=analyst.token)
    risk = body["data"]["player"]["risk"]
    assert risk["clusterSize"] == 3
    linked = {entry["player"]["id"]: entry["sharedSignals"] for entry in risk["linkedPlayers"]}
    assert set(linked) == {first.id, third.id}
    for shared in linked.values():
        assert [s["kind"] for s in shared] == ["device"]
        assert shared[0]["value"] == "…shared"  # masked
    lonely = await gql(LINKED, {"id": alone.id}, token=analyst.token)
    assert lonely["data"]["player"]["risk"] == {"clusterSize": 1, "linkedPlayers": []}


async def test_gmail_dot_and_plus_variants_link(gql: Any, make_staff: Any, signals: Signals) -> None:
    plain = await registered(gql, "john.smith@gmail.com")
    variant = await registered(gql, "JohnSmith+casino@googlemail.com")
    other = await registered(gql, "john.smith@example.com")
    await signals.drain()
    assert await signals.cluster_of(plain) == await signals.cluster_of(variant)
    assert await signals.cluster_of(other) != await signals.cluster_of(plain)
    analyst = await make_staff("risk_analyst")
    body = await gql(LINKED, {"id": plain.id}, token=analyst.token)
    [linked] = body["data"]["player"]["risk"]["linkedPlayers"]
    assert linked["player"]["id"] == variant.id
    assert [(s["kind"], s["value"]) for s in linked["sharedSignals"]] == [("email", "j***@gmail.com")]


async def test_phone_written_nationally_and_internationally_links(gql: Any, signals: Signals) -> None:
    national = await registered(gql, "p1@example.com", phone="7700 900123", country="GB")
    international = await registered(gql, "p2@example.com", phone="+44 7700 900123", country="MT")
    await signals.drain()
    assert await signals.cluster_of(national) == await signals.cluster_of(international)


async def test_clusters_merge_transitively_and_the_event_says_so(gql: Any, signals: Signals) -> None:
    a = await registered(gql, "a@example.com", device="device-aaaaaaaa")
    b = await registered(gql, "b@example.com", device="device-bbbbbbbb")
    await signals.drain()
    assert await signals.cluster_of(a) != await signals.cluster_of(b)
    # c shares a's device, then logs in from b's: one cluster of three.
    c = await registered(gql, "c@example.com", device="device-aaaaaaaa")
    login = await gql(
        LOGIN,
        {"input": {"brand": "royal", "email": "c@example.com", "password": PASSWORD}},
        headers=request_headers("device-bbbbbbbb"),
    )
    assert login["data"]["login"]["errors"] == [], login
    await signals.drain()
    clusters = {await signals.cluster_of(p) for p in (a, b, c)}
    assert len(clusters) == 1
    events = await signals.conn.fetch(
        "SELECT payload FROM outbox_events WHERE topic = 'risk.accounts_linked' ORDER BY id"
    )
    assert [e["payload"] for e in events]  # each merge announced
    assert all("device" in e["payload"] for e in events)


async def test_a_redelivered_event_changes_nothing(gql: Any, signals: Signals) -> None:
    await registered(gql, "r1@example.com", device="device-redelivered")
    await registered(gql, "r2@example.com", device="device-redelivered")
    await signals.drain()

    async def state() -> tuple[Any, ...]:
        rows = await signals.conn.fetch(
            "SELECT kind, value, player_id, first_seen, last_seen FROM risk_signals ORDER BY 1, 2, 3"
        )
        clusters = await signals.conn.fetch("SELECT player_id, cluster_id FROM risk_clusters ORDER BY 1")
        linked = await signals.conn.fetchval("SELECT count(*) FROM outbox_events WHERE topic = 'risk.accounts_linked'")
        return tuple(map(tuple, rows)), tuple(map(tuple, clusters)), linked

    before = await state()
    # The stream delivers every event again (a crash before the XACK), and the sweep reads them too.
    rows = await signals.conn.fetch(f"SELECT {outbox.ROW_COLUMNS} FROM outbox_events ORDER BY id")
    assert await signals.runner.apply(signals.conn, [Event.of_row(r) for r in rows]) == set()
    await signals.drain()
    assert await state() == before


async def test_the_linked_list_costs_the_same_statements_for_any_cluster_size(
    rt: Any, gql: Any, make_staff: Any, signals: Signals
) -> None:
    analyst = await make_staff("risk_analyst")
    first = await registered(gql, "s0@example.com", device="device-statements")
    counts = []
    accounts = 1
    for size in (2, 5):
        while accounts < size:
            await registered(gql, f"s{accounts}@example.com", device="device-statements")
            accounts += 1
        await signals.drain()
        with recorded_statements(rt) as statements:
            body = await gql(LINKED, {"id": first.id}, token=analyst.token)
        assert body["data"]["player"]["risk"]["clusterSize"] == size
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


async def test_one_card_under_two_tokens_links_the_players_who_paid_with_it(
    gql: Any, make_staff: Any, psp: Any, signals: Signals
) -> None:
    first = await registered(gql, "card1@example.com")
    second = await registered(gql, "card2@example.com")
    stranger = await registered(gql, "card3@example.com")
    for player, card in (
        (first, "4242 4242 4242 4242"),
        (second, "4242 4242 4242 4242"),
        (stranger, "5555 5555 5555 4444"),
    ):
        token = await psp.tokenise(card)  # a new token each time, as the hosted form gives one per entry
        body = await gql(
            DEPOSIT,
            {"input": {"amount": "10.00", "currency": "EUR", "method": "CARD", "pspToken": token}},
            token=player.token,
        )
        assert body["data"]["deposit"]["errors"] == [], body
    await signals.drain()
    analyst = await make_staff("risk_analyst")
    risk = (await gql(LINKED, {"id": first.id}, token=analyst.token))["data"]["player"]["risk"]
    assert risk["clusterSize"] == 2
    [linked] = risk["linkedPlayers"]
    assert linked["player"]["id"] == second.id
    assert [s["kind"] for s in linked["sharedSignals"]] == ["card_fingerprint"]
    assert await signals.cluster_of(stranger) != await signals.cluster_of(first)


async def test_a_malformed_device_header_is_ignored(gql: Any, signals: Signals) -> None:
    one = await registered(gql, "short1@example.com", device="x")
    two = await registered(gql, "short2@example.com", device="x")
    await registered(gql, "spaces@example.com", device="has spaces in it")
    await signals.drain()
    assert await signals.cluster_of(one) != await signals.cluster_of(two)
    assert await signals.conn.fetchval("SELECT count(*) FROM risk_signals WHERE kind = 'device'") == 0


async def test_a_disposable_mailbox_is_flagged_once(gql: Any, signals: Signals) -> None:
    player = await registered(gql, "burner@sub.mailinator.com")
    for _ in range(2):
        login = await gql(
            LOGIN, {"input": {"brand": "royal", "email": "burner@sub.mailinator.com", "password": PASSWORD}}
        )
        assert login["data"]["login"]["errors"] == []
    await registered(gql, "normal@example.com")
    await signals.drain()
    rows = await signals.conn.fetch("SELECT player_id, source, detail FROM risk_flags")
    assert [tuple(r) for r in rows] == [(player.uuid, "disposable_email", "sub.mailinator.com")]


async def test_a_replay_rebuilds_the_same_clusters(gql: Any, signals: Signals) -> None:
    for n, device in enumerate(("device-replay-a", "device-replay-a", "device-replay-b", "device-replay-b")):
        await registered(gql, f"replay{n}@example.com", device=device)
    await registered(gql, "replay0+again@example.com", device="device-replay-b")  # joins the two groups
    await signals.drain()

    async def clusters() -> list[tuple[Any, ...]]:
        return [
            tuple(r) for r in await signals.conn.fetch("SELECT player_id, cluster_id FROM risk_clusters ORDER BY 1")
        ]

    before = await clusters()
    assert len({c for _, c in before}) == 1
    assert await replay(signals.runner, signals.conn) > 0
    assert await clusters() == before
