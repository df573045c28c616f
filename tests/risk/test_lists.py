"""Block and watch lists through the public surface: entries added and removed by the risk desk through
GraphQL (audited), checked at registration, deposit and withdrawal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import clock
from tests.aml_monitoring.conftest import DEPOSIT, WITHDRAW
from tests.risk.conftest import REMOVE_ENTRY, add_entry, register, registered

# tests/conftest.py's client: every request comes from 203.0.113.7.
CLIENT_RANGE = "203.0.113.0/24"
CARD = "4242 4242 4242 4242"


async def flags(rt: Any) -> list[dict[str, Any]]:
    from sqlalchemy import text

    async with rt.database.session() as db:
        rows = await db.execute(
            text("SELECT player_id, source, outcome, detail, occasion FROM risk_flags ORDER BY raised_at")
        )
        return [dict(row._mapping) for row in rows]


async def list_hits(rt: Any) -> list[dict[str, Any]]:
    from sqlalchemy import text

    async with rt.database.session() as db:
        rows = await db.execute(text("SELECT payload FROM outbox_events WHERE topic = 'risk.list_hit' ORDER BY id"))
        return [row.payload for row in rows]


async def players_count(rt: Any) -> int:
    from sqlalchemy import text

    async with rt.database.session() as db:
        return int(await db.scalar(text("SELECT count(*) FROM players")) or 0)


async def test_a_blocked_ip_range_refuses_registration_with_the_code(rt: Any, gql: Any, make_staff: Any) -> None:
    analyst = await make_staff("risk_analyst")
    added = await add_entry(gql, analyst.token, list="BLOCK", kind="IP", value=CLIENT_RANGE)
    assert added["errors"] == []
    assert added["entry"]["value"] == CLIENT_RANGE
    before = await players_count(rt)

    payload = await register(gql, "ring@example.com", device="device-of-the-ring")
    assert payload["player"] is None
    assert payload["tokens"] is None
    assert [e["code"] for e in payload["errors"]] == ["RISK_BLOCKED"]
    assert await players_count(rt) == before  # nothing was created
    assert await flags(rt) == [
        {"player_id": None, "source": "list", "outcome": "block", "detail": "ip", "occasion": "registration"}
    ]
    [hit] = await list_hits(rt)
    assert (hit["list"], hit["kind"], hit["occasion"], hit["player_id"]) == ("block", "ip", "registration", None)


async def test_a_single_ip_outside_the_client_range_refuses_no_one(gql: Any, make_staff: Any) -> None:
    analyst = await make_staff("risk_analyst")
    assert (await add_entry(gql, analyst.token, list="BLOCK", kind="IP", value="203.0.114.7"))["errors"] == []
    assert (await register(gql, "fine@example.com"))["errors"] == []


async def test_a_blocked_card_bin_refuses_a_deposit_before_money_moves(
    rt: Any, gql: Any, make_staff: Any, psp: Any
) -> None:
    analyst = await make_staff("risk_analyst")
    assert (await add_entry(gql, analyst.token, list="BLOCK", kind="CARD_BIN", value="424242"))["errors"] == []
    player = await registered(gql, "carder@example.com")
    token = await psp.tokenise(CARD)

    body = await gql(
        DEPOSIT,
        {"input": {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": token}},
        token=player.token,
    )
    payload = body["data"]["deposit"]
    assert payload["payment"] is None
    assert [e["code"] for e in payload["errors"]] == ["RISK_BLOCKED"]
    assert await psp.transactions() == []  # the PSP was never asked to charge
    from tests.cashier.conftest import balances

    assert await balances(rt, player.uuid) == (0, 0)
    from sqlalchemy import text

    async with rt.database.session() as db:
        assert await db.scalar(text("SELECT count(*) FROM payments")) == 0
    assert [f["detail"] for f in await flags(rt)] == ["card_bin"]
    # Another card goes through.
    other = await psp.tokenise("5555 5555 5555 4444")
    body = await gql(
        DEPOSIT,
        {"input": {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": other}},
        token=player.token,
    )
    assert body["data"]["deposit"]["errors"] == []
    assert body["data"]["deposit"]["payment"]["status"] == "SUCCEEDED"


async def test_a_blocked_card_fingerprint_follows_the_card_across_tokens(
    rt: Any, gql: Any, make_staff: Any, psp: Any
) -> None:
    from services.risk import cards

    first = await psp.tokenise(CARD)
    facts = await cards.describe(rt.settings, first)
    assert facts is not None
    assert facts.fingerprint
    assert facts.bin == "424242"
    analyst = await make_staff("risk_analyst")
    entry = await add_entry(gql, analyst.token, list="BLOCK", kind="CARD_FINGERPRINT", value=facts.fingerprint)
    assert entry["errors"] == []
    player = await registered(gql, "same-card@example.com")
    body = await gql(
        DEPOSIT,
        {"input": {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise(CARD)}},
        token=player.token,
    )
    assert [e["code"] for e in body["data"]["deposit"]["errors"]] == ["RISK_BLOCKED"]


async def test_a_watch_hit_lets_the_request_through_and_flags_it(rt: Any, gql: Any, make_staff: Any) -> None:
    analyst = await make_staff("risk_analyst")
    entry = await add_entry(gql, analyst.token, list="WATCH", kind="EMAIL_DOMAIN", value="@Example.org")
    assert entry["errors"] == []
    assert entry["entry"]["value"] == "example.org"
    player = await registered(gql, "watched@example.org")
    [flag] = await flags(rt)
    assert flag == {
        "player_id": player.uuid,
        "source": "list",
        "outcome": "watch",
        "detail": "email_domain",
        "occasion": "registration",
    }
    [hit] = await list_hits(rt)
    assert (hit["list"], hit["player_id"]) == ("watch", str(player.uuid))
    # The risk desk reads it on the player.
    body = await gql(
        "query($id: ID!) { player(id: $id) { risk { flags { source outcome detail occasion } } } }",
        {"id": player.id},
        token=analyst.token,
    )
    assert body["data"]["player"]["risk"]["flags"] == [
        {"source": "list", "outcome": "watch", "detail": "email_domain", "occasion": "registration"}
    ]


async def test_a_blocked_device_refuses_a_withdrawal_and_holds_nothing(
    rt: Any, gql: Any, make_staff: Any, make_player: Any
) -> None:
    from tests.cashier.conftest import balances
    from tests.conftest import fund

    player = await registered(gql, "leaver@example.com", device="device-of-the-leaver")
    await fund(rt, player, "50.00 EUR")
    analyst = await make_staff("risk_analyst")
    assert (await add_entry(gql, analyst.token, list="BLOCK", kind="DEVICE", value="device-of-the-leaver"))[
        "errors"
    ] == []
    body = await gql(
        WITHDRAW,
        {"input": {"amount": "10.00", "currency": "EUR", "method": "BANK_TRANSFER", "pspToken": "acct_123456"}},
        token=player.token,
        headers={"X-Device-Id": "device-of-the-leaver"},
    )
    assert [e["code"] for e in body["data"]["requestWithdrawal"]["errors"]] == ["RISK_BLOCKED"]
    assert await balances(rt, player.uuid) == (5000, 0)  # nothing held
    assert [(f["detail"], f["occasion"]) for f in await flags(rt)] == [("device", "withdrawal")]


async def test_an_expired_entry_no_longer_blocks(gql: Any, make_staff: Any) -> None:
    analyst = await make_staff("risk_analyst")
    expires = (clock.now() + timedelta(hours=1)).isoformat()
    added = await add_entry(
        gql, analyst.token, list="BLOCK", kind="EMAIL", value="Temp.Ban+x@gmail.com", expiresAt=expires
    )
    assert added["errors"] == []
    assert added["entry"]["value"] == "tempban@gmail.com"
    assert [e["code"] for e in (await register(gql, "tempban@gmail.com"))["errors"]] == ["RISK_BLOCKED"]
    clock.advance(timedelta(hours=1, seconds=1))
    assert (await register(gql, "tempban@gmail.com"))["errors"] == []


async def test_a_removed_entry_no_longer_blocks_and_both_changes_are_audited(
    rt: Any, gql: Any, make_staff: Any
) -> None:
    analyst = await make_staff("risk_analyst")
    added = await add_entry(gql, analyst.token, list="BLOCK", kind="COUNTRY", value="mt")
    assert added["entry"]["value"] == "MT"
    assert [e["code"] for e in (await register(gql, "malta@example.com"))["errors"]] == ["RISK_BLOCKED"]
    body = await gql(
        REMOVE_ENTRY, {"input": {"entryId": added["entry"]["id"], "reason": "lifted"}}, token=analyst.token
    )
    assert body["data"]["removeRiskListEntry"]["errors"] == []
    assert body["data"]["removeRiskListEntry"]["entry"]["removedAt"] is not None
    assert (await register(gql, "malta@example.com"))["errors"] == []
    again = await gql(
        REMOVE_ENTRY, {"input": {"entryId": added["entry"]["id"], "reason": "twice"}}, token=analyst.token
    )
    assert [e["code"] for e in again["data"]["removeRiskListEntry"]["errors"]] == ["INVALID_STATE"]
    from sqlalchemy import text

    async with rt.database.session() as db:
        actions = (
            await db.execute(text("SELECT action, reason FROM audit_log WHERE action LIKE 'risk.%' ORDER BY seq"))
        ).all()
    assert [tuple(a) for a in actions] == [
        ("risk.list_entry_added", "fraud ring"),
        ("risk.list_entry_removed", "lifted"),
    ]


async def test_malformed_entries_are_refused_with_the_field(gql: Any, make_staff: Any) -> None:
    analyst = await make_staff("risk_analyst")
    for kind, value in (("IP", "300.1.1.1/8"), ("CARD_BIN", "42"), ("COUNTRY", "Malta"), ("EMAIL", "nobody")):
        payload = await add_entry(gql, analyst.token, list="BLOCK", kind=kind, value=value)
        assert payload["entry"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", "value")], (kind, payload)


ENTRIES = "{ riskListEntries(first: 50) { edges { node { kind value list allBrands } } } }"


async def test_the_list_reads_in_constant_statements(rt: Any, gql: Any, make_staff: Any) -> None:
    from tests.conftest import recorded_statements

    analyst = await make_staff("risk_analyst")
    counts = []
    added = 0
    for size in (1, 6):
        while added < size:
            await add_entry(gql, analyst.token, list="WATCH", kind="DEVICE", value=f"device-listed-{added:04d}")
            added += 1
        with recorded_statements(rt) as statements:
            body = await gql(ENTRIES, token=analyst.token)
        assert len(body["data"]["riskListEntries"]["edges"]) == size
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


FLAGS = "query($id: ID!) { player(id: $id) { risk { flags { detail } } } }"


async def test_a_players_flags_read_in_constant_statements(rt: Any, gql: Any, make_staff: Any) -> None:
    from tests.conftest import recorded_statements

    analyst = await make_staff("risk_analyst")
    assert (await add_entry(gql, analyst.token, list="WATCH", kind="EMAIL_DOMAIN", value="example.org"))["errors"] == []
    one = await registered(gql, "once@example.org")
    for kind, value in (("COUNTRY", "MT"), ("EMAIL", "thrice@example.org")):
        assert (await add_entry(gql, analyst.token, list="WATCH", kind=kind, value=value))["errors"] == []
    three = await registered(gql, "thrice@example.org")
    counts = []
    for player, expected in ((one, 1), (three, 3)):
        with recorded_statements(rt) as statements:
            body = await gql(FLAGS, {"id": player.id}, token=analyst.token)
        assert len(body["data"]["player"]["risk"]["flags"]) == expected
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


async def test_a_watched_card_bin_lets_the_deposit_through_and_flags_it(
    rt: Any, gql: Any, make_staff: Any, psp: Any
) -> None:
    analyst = await make_staff("risk_analyst")
    assert (await add_entry(gql, analyst.token, list="WATCH", kind="CARD_BIN", value="424242"))["errors"] == []
    player = await registered(gql, "watched-card@example.com")
    body = await gql(
        DEPOSIT,
        {"input": {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise(CARD)}},
        token=player.token,
    )
    assert body["data"]["deposit"]["errors"] == []
    assert body["data"]["deposit"]["payment"]["status"] == "SUCCEEDED"
    from tests.cashier.conftest import balances

    assert await balances(rt, player.uuid) == (2000, 0)
    assert [(f["outcome"], f["detail"], f["occasion"]) for f in await flags(rt)] == [("watch", "card_bin", "deposit")]
