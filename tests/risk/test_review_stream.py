"""Review of the risk rules engine's foundation and the `risk-rules` consumer (branch `reviewstream`): each test
shows one finding. Those whose fix is on this branch pass; those left to their owners are `xfail(strict=True)`
with the finding in their reason, so they turn into failures (to be un-marked) the day the behaviour is fixed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import asyncpg
from strawberry import relay

from core.consumers import Event
from services.audit import SystemEntry, append_system
from services.risk import actions, hits, rules
from services.risk.rules import ActionKind, ActionSpec
from services.risk.store import OnConnection
from tests.cashier.conftest import DemoPsp
from tests.conftest import DATABASE_URL, PASSWORD, REGISTER
from tests.providers.conftest import Aggregator
from tests.risk.conftest import registered, request_headers
from tests.risk.stream_support import Stream
from tests.risk.test_stream_chargebacks import _charged_back
from tests.risk.test_stream_covering_bets import EUR, _bonus_holder, _round

# ---- install_defaults: processes starting together ------------------------------------------------------


async def test_processes_starting_together_all_install_the_defaults() -> None:
    """Every replica (and `croupier migrate`) installs the defaults at start-up. `ON CONFLICT (code)` made the
    code index the only arbiter: a second process that passed the arbiter's check before the first inserted
    its rows collided with them on the primary key (the same uuid5 of the code) and failed its start-up with
    a UniqueViolation on risk_rules_pkey (about 1 to 15 rounds in 300 here, before the fix)."""
    conns = [await asyncpg.connect(DATABASE_URL) for _ in range(6)]
    try:
        failures: list[BaseException] = []
        for _ in range(300):
            await conns[0].execute("DELETE FROM risk_rules")
            results = await asyncio.gather(
                *(rules.install_defaults(OnConnection(conn)) for conn in conns), return_exceptions=True
            )
            failures += [r for r in results if isinstance(r, BaseException)]
        assert failures == []
        installed = await conns[0].fetchval("SELECT count(*) FROM risk_rules")
        assert installed == len(rules.defaults())
    finally:
        for conn in conns:
            await conn.close()


# ---- the consumer and the audit chain's lock ------------------------------------------------------------


async def _chargeback_events(stream: Stream) -> list[Event]:
    await stream.published()
    rows = await stream.conn.fetch(
        "SELECT id, topic, key, brand_id, schema_version, payload, created_at FROM outbox_events "
        "WHERE topic = 'payment.chargeback' ORDER BY id"
    )
    return [Event.of_row(row) for row in rows]


async def _waits(conn: asyncpg.Connection, pid: int) -> bool:
    return bool(await conn.fetchval("SELECT count(*) FROM pg_locks WHERE pid = $1 AND NOT granted", pid))


async def _waiting_on_a_lock(conn: asyncpg.Connection, pid: int) -> None:
    for _ in range(200):
        if await _waits(conn, pid):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the consumer never waited")


async def test_a_batch_does_not_hold_the_audit_lock_while_it_imposes_on_the_next_player(
    rt: Any, brand: Any, held: DemoPsp, make_player: Any, client: Any, card_deposit: Any, stream: Stream
) -> None:
    """A batch with two chargebacks (players A then B). hits.apply audits A's restrictions, which takes the
    audit chain's lock until the commit, then inserts B's restrictions. Staff imposing `block_bonuses` on B
    meanwhile (insert, then its audit record: risksurface's imposeRiskAction, or an inline rule's hit) holds
    B's row and waits for the audit lock: a deadlock. Before the fix PostgreSQL killed the consumer's
    batch (DeadlockDetectedError); the fix audits the whole batch once, after its last hit."""
    first, second = await make_player(), await make_player()
    for player, name in ((first, "cb_a"), (second, "cb_b")):
        payment = await card_deposit(player, "30.00")
        await _charged_back(rt, held, client, payment, name)
    events = await _chargeback_events(stream)
    assert len(events) == 2

    staff = await asyncpg.connect(DATABASE_URL)
    try:
        transaction = staff.transaction()
        await transaction.start()
        imposed = await actions.insert(
            OnConnection(staff),
            player_id=second.uuid,
            brand_id=brand.id,
            action=ActionSpec(kind=ActionKind.BLOCK_BONUSES),
            rule_code=None,
            reason="staff: bonus abuse",
            retired=[],
            staff_id=uuid.uuid4(),
        )
        assert imposed is not None
        batch = asyncio.create_task(stream.runner.apply(stream.conn, events))
        await _waiting_on_a_lock(staff, stream.conn.get_server_pid())
        entry = SystemEntry("risk.action_imposed", "player", str(second.uuid), brand.id, {"kind": "block_bonuses"})
        await asyncio.wait_for(append_system(staff, [entry]), 10)  # before the fix: the deadlock
        await transaction.commit()
        assert await asyncio.wait_for(batch, 10) == set()
    finally:
        await staff.close()

    # Both players scored and restricted; B's bonus block is staff's (the rule's found it in force).
    for player in (first, second):
        assert [r.rule_code for r in (await stream.score(player.uuid)).reasons] == ["chargeback-history"]
        kinds = {a.kind: a.rule_code for a in (await stream.restrictions(player.uuid)).actions}
        assert set(kinds) == {ActionKind.BLOCK_BONUSES, ActionKind.ROUTE_3DS}
    assert {a.kind: a.rule_code for a in (await stream.restrictions(second.uuid)).actions}[
        ActionKind.BLOCK_BONUSES
    ] is None
    verified = await stream.conn.fetch("SELECT action, target_id FROM audit_log WHERE action LIKE 'risk.%'")
    assert len(verified) == 4  # A: two impositions; B: staff's and the rule's 3-D Secure


# ---- covering_bets: innocent play, trivial evasion ------------------------------------------------------


async def test_two_chips_on_unrelated_even_money_bets_are_not_covering(
    rt: Any,
    gql: Any,
    make_player: Any,
    hub88_provider: Any,
    campaign: Any,
    aggregator: Aggregator,
    stream: Stream,
) -> None:
    seat = await _bonus_holder(rt, gql, make_player, hub88_provider, campaign)
    # Red and even, one euro each, fifteen spins: red-even pays 4, red-odd and black-even 2, black-odd 0.
    outcomes = [4, 2, 0, 2, 2, 0, 4, 2, 0, 2, 4, 0, 0, 4, 0]
    for n, won in enumerate(outcomes):
        await _round(aggregator, seat, f"spin-{n}", [EUR, EUR], won * EUR)
    await stream.drain()
    # A third of the player's two-chip rounds "covered", a third lost everything: not covering play.
    assert await stream.rule_hits(seat.player_id) == []


async def test_covering_with_unequal_stakes_is_caught(
    rt: Any,
    gql: Any,
    make_player: Any,
    hub88_provider: Any,
    campaign: Any,
    aggregator: Aggregator,
    stream: Stream,
) -> None:
    seat = await _bonus_holder(rt, gql, make_player, hub88_provider, campaign)
    for n in range(12):  # red 1.00 + black 1.30: red pays 2.00 (87%), black pays 2.60 (113%)
        await _round(aggregator, seat, f"hedge-{n}", [EUR, 13 * EUR // 10], (2 * EUR) if n % 2 else (26 * EUR // 10))
    await stream.drain()
    assert await stream.rule_hits(seat.player_id) == ["covering-bets"]


# ---- linked_accounts: clusters span brands, the reason and details should not --------------------------


async def _registered_at(gql: Any, brand_code: str, email: str, device: str, **fields: Any) -> uuid.UUID:
    variables = {
        "brand": brand_code,
        "email": email,
        "password": PASSWORD,
        "dateOfBirth": date(1980, 1, 1).isoformat(),
        **fields,
    }
    body = await gql(REGISTER, {"input": variables}, headers=request_headers(device))
    payload = body["data"]["registerPlayer"]
    assert payload["errors"] == [], payload
    return uuid.UUID(relay.GlobalID.from_id(payload["player"]["id"]).node_id)


async def test_a_players_linked_accounts_reason_names_only_their_brand(
    gql: Any, other_brand: Any, stream: Stream
) -> None:
    device = "dev-shared-across-brands"
    # Northstar's accounts first: player ids are time-ordered, so the cluster's id is a Northstar player's.
    northstar = [
        await _registered_at(gql, "northstar", f"n{n}@example.se", device, country="SE", currency="SEK")
        for n in range(2)
    ]
    royal = [(await registered(gql, f"r{n}@example.com", device=device)).uuid for n in range(2)]
    await stream.drain()
    cluster = await stream.conn.fetchval("SELECT cluster_id FROM risk_clusters WHERE player_id = $1", royal[0])
    assert cluster == northstar[0]
    assert await stream.conn.fetchval("SELECT count(*) FROM risk_clusters WHERE cluster_id = $1", cluster) == 4
    for player_id in royal:
        reasons = await stream.reasons(player_id)
        if "linked-accounts" not in reasons:
            continue  # counting only the brand's members (2) is one fix: nothing to leak
        reason = reasons["linked-accounts"]
        assert reason.details.get("cluster_id") not in {str(p) for p in northstar}, reason.details
        assert reason.details.get("cluster_size", 0) <= len(royal), reason.reason


# ---- two hits on one player at once: the order their restrictions are inserted in -----------------------


class _PausedAfterFirstAction(OnConnection):
    """A hit's writer that stops after its first restriction is stored (or while that insert waits), until
    the test lets it go: the interleaving of two transactions made certain."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        super().__init__(conn)
        self.paused = asyncio.Event()
        self.go = asyncio.Event()
        self.stored = 0

    async def fetch(self, statement: Any, params: Any) -> Any:
        found = await super().fetch(statement, params)
        if statement is actions._INSERT:
            self.stored += 1
            if self.stored == 1:
                self.paused.set()
                await self.go.wait()
        return found


def _rule(code: str, *kinds: ActionKind) -> rules.Rule:
    return rules.Rule(
        id=uuid.uuid4(),
        code=code,
        name=code,
        kind=rules.RuleKind.CHARGEBACK_HISTORY,
        params=rules.ChargebackHistoryParams(count=1, days=30),
        points=10,
        actions=tuple(ActionSpec(kind=kind) for kind in kinds),
        brand_id=None,
        version=1,
    )


async def test_two_rules_hitting_one_player_at_once_do_not_deadlock(rt: Any, brand: Any, make_player: Any) -> None:
    """The consumer's chargeback rule (block bonuses, then 3-D Secure) and an inline or staff-edited rule listing
    the same restrictions the other way round, hitting one player at the same moment: each inserted its first
    restriction and waited for the other's (the unique index of restrictions in force), a deadlock. Inserted
    in one order (by kind), the second waits for the first and finds both in force."""
    player = await make_player()
    stream_rule = _rule("review-stream-rule", ActionKind.BLOCK_BONUSES, ActionKind.ROUTE_3DS)
    inline_rule = _rule("review-inline-rule", ActionKind.ROUTE_3DS, ActionKind.BLOCK_BONUSES)
    conns = [await asyncpg.connect(DATABASE_URL) for _ in range(2)]
    writers = [_PausedAfterFirstAction(conn) for conn in conns]

    async def hit(writer: _PausedAfterFirstAction, rule: rules.Rule) -> list[ActionKind]:
        async with writer.conn.transaction():
            outcome = await hits.apply(
                writer,
                rule,
                player_id=player.uuid,
                brand_id=brand.id,
                occasion="chargeback",
                reason=rule.code,
                details={},
            )
        return outcome.imposed

    try:
        first = asyncio.create_task(hit(writers[0], stream_rule))
        await asyncio.wait_for(writers[0].paused.wait(), 10)
        second = asyncio.create_task(hit(writers[1], inline_rule))
        # The second either stored its first restriction too, or already waits for the first's.
        for _ in range(500):
            if writers[1].paused.is_set() or await _waits(conns[0], conns[1].get_server_pid()):
                break
            await asyncio.sleep(0.02)
        for writer in writers:
            writer.go.set()
        imposed = await asyncio.wait_for(asyncio.gather(first, second), 15)  # before the fix: DeadlockDetected
    finally:
        for conn in conns:
            await conn.close()
    assert sorted(kind for found in imposed for kind in found) == [ActionKind.BLOCK_BONUSES, ActionKind.ROUTE_3DS]
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        restrictions = await actions.in_force(OnConnection(conn), player.uuid)
    finally:
        await conn.close()
    assert sorted(a.kind for a in restrictions.actions) == [ActionKind.BLOCK_BONUSES, ActionKind.ROUTE_3DS]
