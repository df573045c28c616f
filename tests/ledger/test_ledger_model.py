"""Property: any sequence of wallet commands leaves the ledger equal to a simple in-memory model,
and `ledger verify` clean. Commands include retries with reused keys and refusals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services import ledger, wallet
from services.wallet import Actor
from tests.conftest import PASSWORD, REGISTER

SYSTEM = Actor("system")

amounts = st.integers(min_value=1, max_value=50_00)
commands = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), amounts),
        st.tuples(st.just("hold"), amounts),
        st.tuples(st.just("pay"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("void"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("adjust"), st.integers(min_value=-40_00, max_value=40_00).filter(bool)),
        st.tuples(st.just("retry"), st.integers(min_value=0, max_value=20)),
    ),
    min_size=1,
    max_size=25,
)


@dataclass
class Model:
    cash: int = 0
    pending: int = 0
    holds: list[dict[str, Any]] = field(default_factory=list)  # {"id", "amount", "state"}
    done: list[tuple[str, int, uuid.UUID]] = field(default_factory=list)  # replayable commands


async def apply(rt: Any, player_id: uuid.UUID, model: Model, command: tuple[str, int]) -> None:
    name, value = command
    async with rt.database.transaction() as db:
        if name == "deposit":
            key = uuid.uuid4()
            await wallet.credit_deposit(
                db, player_id=player_id, currency="EUR", amount=value, psp="demo", payment_id=key, actor=SYSTEM
            )
            model.cash += value
            model.done.append(("deposit", value, key))
        elif name == "hold":
            result, hold = await wallet.hold_withdrawal(
                db, player_id=player_id, currency="EUR", amount=value, payment_id=uuid.uuid4(), actor=SYSTEM
            )
            if value <= model.cash:
                assert result.committed
                assert hold is not None
                model.cash -= value
                model.pending += value
                model.holds.append({"id": hold.id, "amount": value, "state": "pending"})
            else:
                assert not result.committed
        elif name in ("pay", "void"):
            open_holds = [h for h in model.holds if h["state"] == "pending"]
            if not open_holds:
                return
            hold = open_holds[value % len(open_holds)]
            if name == "pay":
                await wallet.pay_withdrawal(db, hold_id=hold["id"], psp="demo", payment_id=uuid.uuid4(), actor=SYSTEM)
            else:
                await wallet.void_withdrawal(
                    db, hold_id=hold["id"], payment_id=uuid.uuid4(), actor=SYSTEM, reason="model"
                )
                model.cash += hold["amount"]
            model.pending -= hold["amount"]
            hold["state"] = name
        elif name == "adjust":
            key = uuid.uuid4()
            result = await wallet.adjust(
                db, player_id=player_id, currency="EUR", amount=value, adjustment_id=key, actor=SYSTEM, reason="model"
            )
            if model.cash + value >= 0:
                assert result.committed
                model.cash += value
            else:
                assert not result.committed
            model.done.append(("adjust", value, key))
        elif name == "retry" and model.done:  # the same request again: nothing moves
            kind, amount, key = model.done[value % len(model.done)]
            if kind == "deposit":
                result = await wallet.credit_deposit(
                    db, player_id=player_id, currency="EUR", amount=amount, psp="demo", payment_id=key, actor=SYSTEM
                )
            else:
                result = await wallet.adjust(
                    db,
                    player_id=player_id,
                    currency="EUR",
                    amount=amount,
                    adjustment_id=key,
                    actor=SYSTEM,
                    reason="model",
                )
            assert result.replayed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=commands)
async def test_random_command_sequences_match_the_model(rt, gql, brand, sequence) -> None:
    body = await gql(
        REGISTER,
        {
            "input": {
                "brand": "royal",
                "email": f"{uuid.uuid4().hex}@example.com",
                "password": PASSWORD,
                "dateOfBirth": "1990-01-01",
                "country": "MT",
                "currency": "EUR",
            }
        },
    )
    from strawberry import relay

    player_id = uuid.UUID(relay.GlobalID.from_id(body["data"]["registerPlayer"]["player"]["id"]).node_id)
    model = Model()
    for command in sequence:
        await apply(rt, player_id, model, command)
    async with rt.database.session() as db:
        (balance,) = await wallet.balances(db, player_id)
        verification = await ledger.verify(db)
    assert (balance.cash, balance.withdrawal_pending) == (model.cash, model.pending)
    assert verification.ok, verification.discrepancies
