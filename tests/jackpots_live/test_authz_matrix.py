"""The jackpot types, role x field: every field of a jackpot, its levels and their history read by every role,
and every jackpot mutation tried by every role. What the policy allows answers; the rest is FORBIDDEN at
its path (new fields are covered as they are added)."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry import relay

from tests.jackpots_live.conftest import Contributions, bet, created, jackpot_input, one_level
from tests.test_authz import (
    DENIED,
    ROLES,
    allowed_for,
    errors_at,
    mutations_follow_policy,
    role_set,
    selection_of,
    shared_authorizer,
    staff_holding,
)

NOBODY = str(relay.GlobalID("Jackpot", "00000000-0000-0000-0000-000000000000"))
MUTATIONS = {
    "createJackpot": ("CreateJackpotInput", jackpot_input("matrix", currency="XXX")),  # refused: no such currency
    "configureJackpot": ("ConfigureJackpotInput", {"jackpotId": NOBODY, "games": [], "reason": "check"}),
    "setJackpotStatus": ("SetJackpotStatusInput", {"jackpotId": NOBODY, "status": "PAUSED", "reason": "check"}),
}
HISTORY = {
    "contributions": "JackpotContributionDay",
    "wins": "JackpotWin",
    "reseeds": "JackpotReseed",
    "commitments": "JackpotCommitment",
}


@pytest.mark.parametrize("role", ROLES)
async def test_jackpot_matrix_follows_policy(
    role: str,
    settings: Any,
    gql: Any,
    make_player: Any,
    make_staff: Any,
    seat: Any,
    aggregator: Any,
    contributions: Contributions,
) -> None:
    marketing = await make_staff("marketing")
    await created(
        gql,
        marketing.token,
        levels=one_level("1.00", "10", "2.00"),
    )
    player = await seat(balance=100_000)
    for _ in range(3):  # a drop, so every history list has a row
        await bet(aggregator, player, 5)
    await contributions.drain()

    token = None
    if role == "player":
        token = (await make_player()).token
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    refused = "UNAUTHENTICATED" if role == "anonymous" else DENIED

    def allowed(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)

    def check_fields(
        body: dict[str, Any], data: dict[str, Any], at: list[str | int], type_name: str, names: list[str], _: Any
    ) -> None:
        for name in names:
            codes = errors_at(body, [*at, name])
            if allowed(f"{type_name}.{name}"):
                assert codes == [], (type_name, name, body)
            else:  # anonymous visitors are told to log in, others that their role may not
                assert codes == [refused], (type_name, name, body)
                assert data[name] is None, (type_name, name)

    jackpot_fields, jackpot_selection = selection_of(settings, "Jackpot")
    level_fields, level_selection = selection_of(settings, "JackpotLevel")
    selections = {name: selection_of(settings, type_name) for name, type_name in HISTORY.items()}
    for name, (_, fields) in selections.items():
        level_selection = level_selection.replace(
            f"{name} {{ __typename }}", f"{name}(first: 5) {{ edges {{ node {{ {fields} }} }} }}"
        )
    jackpot_selection = jackpot_selection.replace("levels { __typename }", "levels { " + level_selection + " }")
    body = await gql(
        '{ jackpots(brand: "royal") { edges { node { ' + jackpot_selection + " } } } }",
        token=token,
    )
    assert allowed("Query.jackpots")  # everyone reads jackpots
    node = body["data"]["jackpots"]["edges"][0]["node"]
    path: list[str | int] = ["jackpots", "edges", 0, "node"]
    check_fields(body, node, path, "Jackpot", jackpot_fields, allowed)
    level = node["levels"][0]
    check_fields(body, level, [*path, "levels", 0], "JackpotLevel", level_fields, allowed)
    for name, type_name in HISTORY.items():
        fields = selections[name][0]
        row = level[name]["edges"][0]["node"]
        check_fields(body, row, [*path, "levels", 0, name, "edges", 0, "node"], type_name, fields, allowed)

    await mutations_follow_policy(gql, token, MUTATIONS, allowed, refused, role)


def test_the_jackpot_policy_is_not_trivial(settings: Any) -> None:
    """Winners and ledger ids are for the desks; the commands for marketing and brand admins."""
    authorizer = shared_authorizer(settings)
    assert {r for r in ROLES if allowed_for(authorizer, r, "JackpotWin.playerId")} == {
        "support",
        "risk_analyst",
        "finance",
        "brand_admin",
        "superadmin",
    }
    assert {r for r in ROLES if allowed_for(authorizer, r, "Mutation.createJackpot")} == {
        "marketing",
        "brand_admin",
        "superadmin",
    }
    assert all(allowed_for(authorizer, r, "Subscription.jackpotChanged") for r in ROLES)
    assert all(allowed_for(authorizer, r, "JackpotWin.amount") for r in ROLES)
