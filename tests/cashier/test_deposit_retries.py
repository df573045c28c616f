"""A retried deposit (the same idempotency key) answers its first result before doing any other work: no RG
person check, no call to the PSP's card vault (issue 17: the card lookup ran before the idempotency check)."""

from __future__ import annotations

from typing import Any

from services.risk import cards
from tests.risk.inline_support import DEPOSIT


async def test_a_retried_deposit_answers_its_first_result_without_asking_the_vault_again(
    rt: Any, gql: Any, psp: Any, make_player: Any, monkeypatch: Any
) -> None:
    looked_up: list[str | None] = []
    describe = cards.describe

    async def counted(settings: Any, token: str | None) -> Any:
        looked_up.append(token)
        return await describe(settings, token)

    monkeypatch.setattr(cards, "describe", counted)  # the vault port, counted (the demo PSP answers it)
    player = await make_player()
    given = {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}
    given["idempotencyKey"] = "retry-1"

    first = (await gql(DEPOSIT, {"input": given}, token=player.token))["data"]["deposit"]
    again = (await gql(DEPOSIT, {"input": given}, token=player.token))["data"]["deposit"]

    assert first["errors"] == again["errors"] == []
    assert again["payment"] == first["payment"]
    assert first["payment"]["status"] == "SUCCEEDED"
    assert len(looked_up) == 1  # before the fix: 2 (the retry asked the vault before finding its payment)
    conflict = (await gql(DEPOSIT, {"input": {**given, "amount": "30.00"}}, token=player.token))["data"]["deposit"]
    assert [e["code"] for e in conflict["errors"]] == ["IDEMPOTENCY_CONFLICT"]
