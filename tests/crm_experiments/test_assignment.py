"""Assignment: the bucket is a pure function of experiment and player (holdout first, then the weights), and
`assign` records it on the first exposure while the experiment runs — the contract journeys and lobbies use."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import text
from strawberry import relay

from core.errors import DomainError, NotFound
from services.crm.experiments.assignment import assign, bucket_of
from tests.crm_experiments.conftest import START, STOP, create


def test_the_bucket_is_deterministic_and_follows_the_weights() -> None:
    experiment = uuid.UUID("0193a1b2-0000-7000-8000-000000000001")
    players = [uuid.UUID(int=n * 7919 + 13) for n in range(20_000)]
    variants = [("a", 1), ("b", 3)]
    first = [bucket_of(experiment, p, variants, 200_000) for p in players]
    assert first == [bucket_of(experiment, p, dict(variants), 200_000) for p in players]  # same answer, any form
    share = Counter(first)
    assert abs(share[None] / 20_000 - 0.2) < 0.015  # the holdout
    assert abs(share["b"] / (share["a"] + share["b"]) - 0.75) < 0.015  # weights 1:3
    assert bucket_of(uuid.uuid4(), players[0], [("a", 1), ("b", 1)], 0) is not None  # no holdout: never None


def test_changing_the_holdout_moves_no_one_between_variants() -> None:
    experiment = uuid.uuid4()
    players = [uuid.uuid4() for _ in range(2000)]
    stored = [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}]
    small = {p: bucket_of(experiment, p, stored, 50_000) for p in players}
    large = {p: bucket_of(experiment, p, stored, 300_000) for p in players}
    assert all(large[p] in (None, small[p]) for p in players)
    assert {p for p in players if small[p] is None} <= {p for p in players if large[p] is None}


async def test_assign_records_the_first_exposure_and_keeps_it(
    rt: Any, gql: Any, make_staff: Any, make_player: Any
) -> None:
    marketing = await make_staff("marketing")
    made = await create(
        gql, marketing.token, holdoutPpm=0, variants=[{"key": "a", "weight": 1}, {"key": "b", "weight": 1}]
    )
    gid = made["experiment"]["id"]
    experiment_id = uuid.UUID(relay.GlobalID.from_id(gid).node_id)
    player = await make_player()
    async with rt.database.transaction() as db:
        assert await assign(db, experiment_id, player.uuid) == "a"  # a draft: the control, nothing recorded
        assert await db.scalar(text("SELECT count(*) FROM crm_experiment_assignments")) == 0
    await gql(START, {"id": gid}, token=marketing.token)
    expected = bucket_of(experiment_id, player.uuid, [("a", 1), ("b", 1)], 0)
    async with rt.database.transaction() as db:
        assert await assign(db, experiment_id, player.uuid) == expected
    async with rt.database.transaction() as db:
        assert await assign(db, experiment_id, player.uuid) == expected
        rows = (await db.execute(text("SELECT player_id, variant FROM crm_experiment_assignments"))).all()
    assert rows == [(player.uuid, expected)]
    body = await gql(STOP, {"id": gid, "winner": "b"}, token=marketing.token)
    assert body["data"]["stopExperiment"]["experiment"]["winner"] == "b"
    async with rt.database.transaction() as db:
        assert await assign(db, experiment_id, player.uuid) == "b"  # stopped: the winner, for everyone
        assert await assign(db, experiment_id, (await make_player()).uuid) == "b"
        assert await db.scalar(text("SELECT count(*) FROM crm_experiment_assignments")) == 1
        with pytest.raises(NotFound):
            await assign(db, uuid.uuid4(), player.uuid)


async def test_a_player_of_another_brand_is_refused(
    rt: Any, gql: Any, make_staff: Any, make_player: Any, other_brand: Any
) -> None:
    marketing = await make_staff("marketing")
    made = await create(gql, marketing.token)
    gid = made["experiment"]["id"]
    await gql(START, {"id": gid}, token=marketing.token)
    stranger = await make_player(
        brand_code="northstar",
        country="SE",
        currency="SEK",
    )
    async with rt.database.transaction() as db:
        with pytest.raises(DomainError) as refused:
            await assign(db, uuid.UUID(relay.GlobalID.from_id(gid).node_id), stranger.uuid)
    assert refused.value.code == "INVALID_INPUT"
