"""The rules engine's shared core (services/risk/hits.py, score.py, actions.py) on both of its writers: a
flow's session and a consumer's asyncpg connection. The flows' and consumers' own tests go through the
public surface; these pin the properties every rule relies on."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from models.players import Player
from services.risk import actions, hits, rules, score
from services.risk.store import OnConnection, OnSession
from tests.events.tally import dsn


async def _rule(rt: Any, code: str) -> rules.Rule:
    async with rt.database.session() as db:
        found = [r for r in await rules.enabled(OnSession(db), _brand_any(), set(rules.RuleKind)) if r.code == code]
    return found[0]


def _brand_any() -> Any:
    import uuid

    return uuid.UUID(int=0)


async def test_the_default_rules_load_and_parse(rt: Any) -> None:
    async with rt.database.session() as db:
        loaded = await rules.enabled(OnSession(db), _brand_any(), set(rules.RuleKind))
    assert {r.kind for r in loaded} == set(rules.RuleKind)
    assert all(0 <= r.points <= 100 for r in loaded)


async def test_a_hit_counts_once_per_rule_and_the_score_is_the_capped_explained_sum(rt: Any, make_player: Any) -> None:
    account = await make_player()
    async with rt.database.session() as db:
        player = await db.get(Player, account.uuid)
    assert player is not None
    burst = await _rule(rt, "deposits-per-player")  # 15 points, hold_deposit + flag_review
    chargebacks = await _rule(rt, "chargeback-history")  # 40 points, block_bonuses + route_3ds + flag_review
    async with rt.database.transaction() as db:
        first = await hits.apply(
            OnSession(db),
            burst,
            player_id=player.id,
            brand_id=player.brand_id,
            occasion="deposit",
            reason="6 deposits in 10 minutes",
            details={"count": 6},
        )
        again = await hits.apply(
            OnSession(db),
            burst,
            player_id=player.id,
            brand_id=player.brand_id,
            occasion="deposit",
            reason="7 deposits in 10 minutes",
            details={"count": 7},
        )
    assert first.hold_deposit
    assert first.flag_id is not None
    assert again.hold_deposit
    assert again.flag_id is None
    conn = await asyncpg.connect(dsn(rt))
    try:
        async with conn.transaction():
            on_stream = await hits.apply(
                OnConnection(conn),
                chargebacks,
                player_id=player.id,
                brand_id=player.brand_id,
                occasion="event",
                reason="1 chargeback",
                details={},
            )
        assert set(on_stream.imposed) == {rules.ActionKind.BLOCK_BONUSES, rules.ActionKind.ROUTE_3DS}
        found = await score.score(OnConnection(conn), player.id)
        assert found.value == 55
        assert [(r.rule_code, r.points, r.hits) for r in found.reasons] == [
            ("chargeback-history", 40, 1),
            ("deposits-per-player", 15, 2),
        ]
        assert found.reasons[1].reason == "7 deposits in 10 minutes"
        restrictions = await actions.in_force(OnConnection(conn), player.id)
        assert restrictions.bonuses_blocked
        assert restrictions.three_ds
        assert not restrictions.blocked
        events = await conn.fetch(
            "SELECT topic FROM outbox_events WHERE key = $1 ORDER BY id", actions.subject(player.id)
        )
        topics = [e["topic"] for e in events]
        assert topics.count("risk.rule_hit") == 3
        assert topics.count("risk.flag_raised") == 2
        assert topics.count("risk.action_imposed") == 2
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'risk.action_imposed' AND target_id = $1", str(player.id)
        )
        assert audited == 2
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        (rules.RuleKind.VELOCITY, {"occasion": "deposit", "by": "device", "count": 1, "minutes": 5}),
        (rules.RuleKind.VELOCITY, {"occasion": "login", "by": "device", "count": 3, "minutes": 5}),
        (rules.RuleKind.COVERING_BETS, {"rounds": 3, "low_percent": 120, "high_percent": 90}),
        (rules.RuleKind.LINKED_ACCOUNTS, {"min_cluster_size": 3, "extra": 1}),
    ],
)
def test_bad_parameters_are_refused_with_the_field(kind: rules.RuleKind, params: dict[str, Any]) -> None:
    from core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        rules.parse_params(kind, params)
    assert refused.value.field == "params"


def test_actions_are_checked_against_the_rule() -> None:
    from core.errors import DomainError

    for kind, raw in [
        (rules.RuleKind.CHARGEBACK_HISTORY, [{"kind": "hold_deposit"}]),
        (rules.RuleKind.VELOCITY, [{"kind": "require_kyc_level"}]),
        (rules.RuleKind.VELOCITY, [{"kind": "route_psps", "psps": []}]),
        (rules.RuleKind.VELOCITY, [{"kind": "flag_review"}, {"kind": "flag_review"}]),
    ]:
        with pytest.raises(DomainError):
            rules.parse_actions(kind, raw)
    assert rules.parse_actions(rules.RuleKind.VELOCITY, [{"kind": "hold_deposit"}])[0].kind == "hold_deposit"
