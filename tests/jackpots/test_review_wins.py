"""Adversarial review of provider-reported wins: a provider awards only the pots of jackpots its games are part
of; another provider's signed report of the same pot is refused and pays nothing."""

from __future__ import annotations

from typing import Any

from services.jackpots.admin import LevelSpec
from tests.providers.conftest import cash


async def test_a_provider_cannot_award_the_pot_of_a_jackpot_run_on_another_providers_games(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any
) -> None:
    from authz.subjects import SYSTEM
    from services.jackpots.admin import JackpotSpec, create_jackpot

    async with rt.database.transaction() as db:
        jackpot = await create_jackpot(
            db,
            JackpotSpec(
                "rival-mega", "Rival Mega", "local", "fixed", "EUR", [brand.id],
                [LevelSpec("mega", 20_000, 0, "provider")], providers=["rival-studio"],
            ),
            actor=SYSTEM,
        )  # fmt: skip
    pool = jackpot.pools[0]
    seat = await player_at_game(balance=100)
    body = {"pool_id": str(pool.id), "user": str(seat.player_id), "reference": "jp-1", "generation": 1}
    answer = await aggregator.call("jackpot/win", body)  # hub88 signs it: a valid signature, the wrong provider
    assert answer["status"] == "RS_ERROR_JACKPOT_REFUSED", answer
    assert await cash(rt, seat.player_id) == 100
    from services.jackpots import views

    async with rt.database.session() as db:
        state = await views.pool_state(db, pool.id)
    assert (state.generation, state.amount, state.won_total) == (1, 20_000, 0)


async def test_a_win_reference_sent_again_for_another_player_is_refused_not_answered_with_the_first_win(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any
) -> None:
    jackpot = await create(levels=[LevelSpec("mega", 20_000, 0, "provider")], brands=[brand.id], type_="fixed")
    pool = jackpot.pools[0]
    winner, other = await player_at_game(balance=100), await player_at_game(balance=100)
    body = {"pool_id": str(pool.id), "user": str(winner.player_id), "reference": "jp-9", "generation": 1}
    first = await aggregator.call("jackpot/win", body)
    assert first["status"] == "RS_OK", first
    # The same win id, now naming another player: not the same report. Answering RS_OK (the first win) would
    # tell the provider that this player was paid.
    clash = await aggregator.call("jackpot/win", {**body, "user": str(other.player_id)})
    assert clash["status"] == "RS_ERROR_JACKPOT_REFUSED", clash
    assert (await cash(rt, winner.player_id), await cash(rt, other.player_id)) == (20_100, 100)
    again = await aggregator.call("jackpot/win", body)  # the true retry still answers the first win
    assert (again["status"], again["win_id"]) == ("RS_OK", first["win_id"])


async def test_a_fixed_time_pot_without_a_seed_is_refused_at_creation(rt: Any, brand: Any, create: Any) -> None:
    """A fixed jackpot's prize is its seed: a time pot with none could never pay anything."""
    import pytest

    from core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        await create(levels=[LevelSpec("hourly", 0, 0, "time", drop_window_seconds=3600)], brands=[brand.id],
                     type_="fixed")  # fmt: skip
    assert (refused.value.code.value, refused.value.field) == ("INVALID_INPUT", "levels")


async def test_a_cap_on_a_time_or_provider_pot_is_refused_at_creation(rt: Any, brand: Any, create: Any) -> None:
    """Only an amount pot is clipped at its cap; the database holds every pot with a cap under it, so a time or
    provider pot with one would grow past it and fail (and park) every stake from then on."""
    import pytest

    from core.errors import DomainError

    for level in (
        LevelSpec("hourly", 1_000, 10_000, "time", cap_amount=5_000, drop_window_seconds=3600),
        LevelSpec("mega", 1_000, 10_000, "provider", cap_amount=5_000),
    ):
        with pytest.raises(DomainError) as refused:
            await create(levels=[level], brands=[brand.id])
        assert (refused.value.code.value, refused.value.field) == ("INVALID_INPUT", "levels")
