"""The levels as data (services/kyc/levels.toml) and the requirement seams, without the platform."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.kyc import requirements
from services.kyc.levels import InvalidLevels, parse, profile_for, profiles


def test_every_profile_orders_its_levels_and_states_its_thresholds() -> None:
    assert set(profiles()) == {"DEFAULT", "MT", "UK"}
    for profile in profiles().values():
        assert [x.code for x in profile.levels] == [
            "registered",
            "identity_verified",
            "address_verified",
            "source_of_funds",
        ]
        assert [x.rank for x in profile.levels] == [0, 1, 2, 3]
        cdd = next(t for t in profile.triggers if t.kind == "lifetime_deposits")
        assert (cdd.amount, cdd.currency, cdd.level) == (200000, "EUR", "identity_verified")
    uk = {t.name: t for t in profiles()["UK"].triggers}
    assert (uk["net_deposits_30d"].amount, uk["net_deposits_30d"].currency) == (50000, "GBP")
    assert uk["net_deposits_30d"].gates == ()
    assert (uk["net_loss_1d"].amount, uk["net_loss_90d"].amount) == (100000, 200000)
    assert profile_for("SE") is profiles()["DEFAULT"]  # a jurisdiction without its own KYC profile


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"triggers": [{"kind": "lottery_win", "level": "registered"}]}, "unknown trigger kind"),
        ({"triggers": [{"kind": "first_withdrawal", "level": "gold"}]}, "unknown level"),
        (
            {"triggers": [{"kind": "lifetime_deposits", "level": "registered", "amount": "1", "currency": "XXQ"}]},
            "unknown currency",
        ),
        ({"triggers": [{"kind": "net_loss", "level": "registered", "amount": "1", "currency": "EUR"}]}, "window_days"),
        ({"triggers": [{"kind": "first_withdrawal", "level": "registered", "gates": ["play"]}]}, "unknown gates"),
        ({"levels": [{"code": "registered", "requires": ["document:passport"]}]}, "unknown requirement"),
        ({"levels": [{"code": "a", "requires": ["officer_approval"]}]}, "requires nothing"),
        ({"four_eyes_levels": ["gold"]}, "four_eyes_levels"),
    ],
)
def test_a_wrong_profile_fails_at_load(change: dict[str, Any], complaint: str) -> None:
    good = {"levels": [{"code": "registered", "requires": []}], "triggers": []}
    with pytest.raises(InvalidLevels, match=complaint):
        parse({"DEFAULT": {**good, **change}})
    with pytest.raises(InvalidLevels, match="no DEFAULT"):
        parse({"MT": good})


async def test_a_requirement_of_a_module_not_present_is_never_met_and_a_registered_checker_decides(rt: Any) -> None:
    """The seam: documents and screening are looked up by name; absent, they fail closed."""
    level = profiles()["DEFAULT"].level("identity_verified")
    player_id = uuid.uuid4()
    async with rt.database.session() as db:
        assert not await requirements.documents_approved(db, player_id, level.code, "document:identity")
        assert not await requirements.screening_is_clear(db, player_id, level.code, "screening_clear")
        missing = [m.requirement for m in await requirements.missing(db, player_id, level)]
        assert missing == ["document:identity", "provider_check", "screening_clear", "officer_approval"]

        asked: list[tuple[uuid.UUID, str, str]] = []

        async def identity_only(db: Any, who: uuid.UUID, level_code: str, requirement: str) -> bool:
            asked.append((who, level_code, requirement))
            return requirement == "document:identity"

        previous = requirements.register("document", identity_only)
        try:
            address = profiles()["DEFAULT"].level("address_verified")
            assert next(m.requirement for m in await requirements.missing(db, player_id, level)) == "provider_check"
            assert [m.requirement for m in await requirements.missing(db, player_id, address)] == [
                "document:address",
                "officer_approval",
            ]
        finally:
            requirements.register("document", previous)
        assert asked == [
            (player_id, "identity_verified", "document:identity"),
            (player_id, "address_verified", "document:address"),
        ]
        assert [m.player_can_act for m in await requirements.missing(db, player_id, level)] == [
            True,
            True,
            False,
            False,
        ]
