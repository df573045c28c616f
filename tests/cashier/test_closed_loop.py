"""The closed loop through GraphQL: withdrawals go back to the deposits' methods and instruments first
(services/cashier/closed_loop.py), the player sees where and how much, chargebacks and returned payouts move the
figures, staff exceptions (audited) let a share go elsewhere, and racing requests never share one loop share."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlmodel import col, select
from strawberry import relay

from models.kyc import KycState
from models.payments import Payment
from tests.cashier.conftest import DemoPsp, attempts, deliver, notice
from tests.conftest import error_codes, fund, recorded_statements

DEPOSIT = """mutation($input: DepositInput!) {
  deposit(input: $input) { payment { id status } errors { code message } } }"""
WITHDRAW = """mutation($input: RequestWithdrawalInput!) {
  requestWithdrawal(input: $input) { payment { id status method } errors { code field message } } }"""
LOOP = """query($plan: String!) { me { closedLoop {
  currency enforced owed { amount }
  shares { method instrument instrumentToken psp deposited { amount } chargedBack { amount } sentBack { amount }
           waived { amount } owed { amount } }
  plan(amount: $plan) { method instrumentToken amount { amount } } } } }"""
STAFF_LOOP = """query($id: ID!) { player(id: $id) { closedLoop(currency: "EUR") {
  owed { amount } shares { method instrument owed { amount } waived { amount } }
  exceptions { id method amount { amount } reason revokedAt } } } }"""
GRANT = """mutation($input: GrantClosedLoopExceptionInput!) {
  grantClosedLoopException(input: $input) { exception { id amount { amount } reason grantedBy }
  errors { code field message } } }"""
REJECT = """mutation($input: RejectWithdrawalInput!) {
  rejectWithdrawal(input: $input) { payment { status } errors { code } } }"""
REVOKE = """mutation($input: RevokeClosedLoopExceptionInput!) {
  revokeClosedLoopException(input: $input) { exception { id revokedAt revokeReason } errors { code field } } }"""


async def licensed_in_malta(rt: Any, brand: Any) -> None:
    """Players from Malta registered after this get the MGA profile, which applies the closed loop."""
    from models.brands import Brand

    async with rt.database.transaction() as db:
        (await db.get(Brand, brand.id)).jurisdictions = ["MT", "DEFAULT"]  # type: ignore[union-attr]


async def pay_in(gql: Any, player: Any, amount: str, method: str, token: str | None) -> None:
    given = {"amount": amount, "currency": "EUR", "method": method, **({"pspToken": token} if token else {})}
    body = await gql(DEPOSIT, {"input": given}, token=player.token)
    assert body["data"]["deposit"]["payment"]["status"] == "SUCCEEDED", body


async def withdraw(gql: Any, player: Any, amount: str, method: str, token: str | None = None) -> dict[str, Any]:
    given = {"amount": amount, "currency": "EUR", "method": method, **({"pspToken": token} if token else {})}
    body = await gql(WITHDRAW, {"input": given}, token=player.token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["requestWithdrawal"]
    return payload


def payment_uuid(payload: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(payload["payment"]["id"]).node_id)


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def loop(gql: Any, player: Any, plan: str = "0.01") -> dict[str, Any]:
    body = await gql(LOOP, {"plan": plan}, token=player.token)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["me"]["closedLoop"]
    return found


def owed(view: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["method"], s["owed"]["amount"]) for s in view["shares"]]


async def test_withdrawals_go_back_to_the_deposits_methods_first_and_in_proportion(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    await licensed_in_malta(rt, brand)
    player = await make_player(country="MT")
    card, wallet = await psp.tokenise(), await psp.tokenise()
    await pay_in(gql, player, "60.00", "CARD", card)
    await pay_in(gql, player, "40.00", "EWALLET", wallet)
    await fund(rt, player, "50.00 EUR")  # winnings: no loop

    view = await loop(gql, player, plan="120.00")
    assert view["enforced"] is True
    assert view["owed"] == {"amount": "100.00"}
    assert owed(view) == [("CARD", "60.00"), ("EWALLET", "40.00")]
    assert view["shares"][0]["instrumentToken"] == card
    assert view["shares"][0]["psp"] == "cardpay"
    # The player's cashier proposes the split: in proportion to what each share is owed, the rest anywhere.
    assert [(leg["method"], leg["instrumentToken"], leg["amount"]["amount"]) for leg in view["plan"]] == [
        ("CARD", card, "60.00"),
        ("EWALLET", wallet, "40.00"),
        (None, None, "20.00"),
    ]
    assert [leg["amount"]["amount"] for leg in (await loop(gql, player, plan="0.05"))["plan"]] == ["0.03", "0.02"]

    refused = await withdraw(gql, player, "50.00", "BANK_TRANSFER")
    assert codes(refused) == ["CLOSED_LOOP"]
    assert refused["payment"] is None
    assert "up to 60.00 EUR" in refused["errors"][0]["message"]
    assert "up to 40.00 EUR" in refused["errors"][0]["message"]
    assert codes(await withdraw(gql, player, "61.00", "CARD")) == ["CLOSED_LOOP"]  # more than the card is owed
    assert codes(await withdraw(gql, player, "10.00", "EWALLET", await psp.tokenise())) == ["CLOSED_LOOP"]

    # Naming no token, the payout goes to the one card the player deposited with.
    paid = await withdraw(gql, player, "60.00", "CARD")
    assert paid["errors"] == []
    assert paid["payment"]["status"] == "PAID"
    [sent] = await attempts(rt, payment_uuid(paid))
    assert sent.request_summary["token"] == f"{card[:4]}…{card[-4:]}"
    # One share left open: the request that closes it may take more, to the same instrument.
    assert (await withdraw(gql, player, "50.00", "EWALLET"))["errors"] == []
    view = await loop(gql, player)
    assert view["owed"] == {"amount": "0.00"}
    assert [s["sentBack"]["amount"] for s in view["shares"]] == ["60.00", "50.00"]
    # The loop closed: any method.
    assert (await withdraw(gql, player, "10.00", "BANK_TRANSFER"))["errors"] == []

    # A player whose jurisdiction has no closed loop withdraws anywhere.
    elsewhere = await make_player(country="SE")
    await pay_in(gql, elsewhere, "20.00", "CARD", await psp.tokenise())
    assert (await loop(gql, elsewhere))["enforced"] is False
    assert (await withdraw(gql, elsewhere, "20.00", "BANK_TRANSFER"))["errors"] == []


async def test_a_card_is_one_share_by_its_fingerprint_whatever_token_the_vault_gave_it(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    await licensed_in_malta(rt, brand)
    player = await make_player(country="MT")
    first, readded = await psp.tokenise(), await psp.tokenise()  # one card, added twice: two vault tokens
    other = await psp.tokenise("5555 5555 5555 4444")
    await pay_in(gql, player, "60.00", "CARD", first)
    await pay_in(gql, player, "40.00", "CARD", readded)
    await pay_in(gql, player, "50.00", "CARD", other)
    fingerprints = {t: (await psp.http.get(f"/vault/tokens/{t}")).json()["fingerprint"] for t in (first, other)}

    view = await loop(gql, player, plan="75.00")
    # Two cards, two shares (not three): keyed by the PSP's fingerprint, paid to the card's latest token.
    assert [(s["instrument"], s["instrumentToken"], s["owed"]["amount"]) for s in view["shares"]] == [
        (fingerprints[first], readded, "100.00"),
        (fingerprints[other], other, "50.00"),
    ]
    # The proportion is per card: 100 to 50.
    assert [(leg["instrumentToken"], leg["amount"]["amount"]) for leg in view["plan"]] == [
        (readded, "50.00"),
        (other, "25.00"),
    ]
    # A third token of the first card is the deposits' card: it may take all the card is owed at once.
    third = await psp.tokenise()
    assert (await withdraw(gql, player, "101.00", "CARD", third))["errors"][0]["code"] == "CLOSED_LOOP"
    paid = await withdraw(gql, player, "100.00", "CARD", third)
    assert paid["errors"] == [], paid
    # A token the vault knows nothing of has no fingerprint: matched by token, it is no deposit's card.
    refused = await withdraw(gql, player, "10.00", "CARD", "tok_never_issued")
    assert codes(refused) == ["CLOSED_LOOP"]
    assert "up to 50.00 EUR" in refused["errors"][0]["message"]
    async with rt.database.session() as db:
        payout = await db.get(Payment, payment_uuid(paid))
    assert payout is not None
    assert payout.instrument_fingerprint == fingerprints[first]
    assert owed(await loop(gql, player)) == [("CARD", "0.00"), ("CARD", "50.00")]
    # Naming no token with one card share open: the card's latest token, counted against that share.
    assert (await withdraw(gql, player, "50.00", "CARD"))["errors"] == []
    assert (await loop(gql, player))["owed"] == {"amount": "0.00"}


async def test_chargebacks_and_returned_or_failed_payouts_move_the_loop_figures(
    gql: Any, rt: Any, held: DemoPsp, make_player: Any, make_staff: Any, brand: Any, client: Any
) -> None:
    await licensed_in_malta(rt, brand)
    player = await make_player(country="MT")
    await pay_in(gql, player, "50.00", "CARD", await held.tokenise())
    async with rt.database.session() as db:
        deposit = (await db.scalars(select(Payment).where(col(Payment.player_id) == player.uuid))).one()
    await deliver(client, await notice(held, deposit, rt, "chargeback", amount=2000))
    view = await loop(gql, player)
    assert [(s["chargedBack"]["amount"], s["owed"]["amount"]) for s in view["shares"]] == [("20.00", "30.00")]

    # The chargeback restricts the account (staff lift it); a payout the bank returns reopens its share.
    async with rt.database.transaction() as db:  # KYC's own mutation is tested there
        state = await db.get(KycState, player.uuid)
        assert state is not None
        state.restricted = False
    paid = await withdraw(gql, player, "30.00", "CARD")
    assert (paid["errors"], paid["payment"]["status"]) == ([], "PAID"), paid
    assert (await loop(gql, player))["owed"] == {"amount": "0.00"}
    async with rt.database.session() as db:
        payout = await db.get(Payment, payment_uuid(paid))
    await deliver(client, await notice(held, payout, rt, "payout_returned", amount=3000))
    assert owed(await loop(gql, player)) == [("CARD", "30.00")]

    # A withdrawal waiting for finance claims its share; rejected (its hold voided), the share is owed again.
    waiting = await withdraw(gql, player, "30.00", "CARD")
    assert waiting["payment"]["status"] == "REQUESTED", waiting  # after a chargeback, finance decides
    assert owed(await loop(gql, player)) == [("CARD", "0.00")]
    finance = await make_staff("finance")
    reject = {"paymentId": waiting["payment"]["id"], "reason": "checked with the player"}
    body = await gql(REJECT, {"input": reject}, token=finance.token)
    assert body["data"]["rejectWithdrawal"]["errors"] == [], body
    assert owed(await loop(gql, player)) == [("CARD", "30.00")]


async def test_staff_waive_a_share_with_a_reason_and_can_revoke_it(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any, brand: Any
) -> None:
    from models.audit import AuditRecord
    from models.outbox import OutboxEvent

    await licensed_in_malta(rt, brand)
    player = await make_player(country="MT")
    card = await psp.tokenise()
    await pay_in(gql, player, "40.00", "CARD", card)
    finance, support = await make_staff("finance"), await make_staff("support")
    grant = {"playerId": player.id, "currency": "EUR", "method": "CARD", "instrument": card, "reason": "card expired"}

    # Players and support cannot grant; a reason is required; the share must be open and owed that much.
    assert error_codes(await gql(GRANT, {"input": grant}, token=player.token)) == ["FORBIDDEN"]
    assert error_codes(await gql(GRANT, {"input": grant}, token=support.token)) == ["FORBIDDEN"]
    blank = await gql(GRANT, {"input": {**grant, "reason": " "}}, token=finance.token)
    assert [e["field"] for e in blank["data"]["grantClosedLoopException"]["errors"]] == ["reason"]
    too_much = await gql(GRANT, {"input": {**grant, "amount": "40.01"}}, token=finance.token)
    assert [e["field"] for e in too_much["data"]["grantClosedLoopException"]["errors"]] == ["amount"]
    unknown = await gql(GRANT, {"input": {**grant, "instrument": "tok_nothing"}}, token=finance.token)
    assert [e["code"] for e in unknown["data"]["grantClosedLoopException"]["errors"]] == ["NOT_FOUND"]

    # Named by the token it pays out to, the waiver is kept against the share's key: the card's fingerprint.
    fingerprint = (await psp.http.get(f"/vault/tokens/{card}")).json()["fingerprint"]
    body = await gql(GRANT, {"input": grant}, token=finance.token)
    granted = body["data"]["grantClosedLoopException"]
    assert granted["errors"] == []
    assert granted["exception"]["amount"] == {"amount": "40.00"}
    assert (await withdraw(gql, player, "40.00", "BANK_TRANSFER"))["errors"] == []  # the waiver lets it through

    staff_view = (await gql(STAFF_LOOP, {"id": player.id}, token=finance.token))["data"]["player"]["closedLoop"]
    assert staff_view["shares"] == [
        {"method": "CARD", "instrument": fingerprint, "owed": {"amount": "0.00"}, "waived": {"amount": "40.00"}}
    ]
    assert [(e["reason"], e["revokedAt"]) for e in staff_view["exceptions"]] == [("card expired", None)]
    # The player sees their shares, not staff's exceptions.
    mine = await gql("{ me { closedLoop { owed { amount } exceptions { id } } } }", token=player.token)
    assert error_codes(mine) == ["FORBIDDEN"]
    assert mine["data"]["me"]["closedLoop"]["exceptions"] is None

    # Revoked, the amount is owed to the card again (the money the waiver let go elsewhere is not the card's):
    # the bank is refused while the card waits.
    revoke = {"exceptionId": granted["exception"]["id"], "reason": "granted on the wrong player"}
    revoked = (await gql(REVOKE, {"input": revoke}, token=finance.token))["data"]["revokeClosedLoopException"]
    assert revoked["errors"] == []
    assert revoked["exception"]["revokedAt"] is not None
    again = (await gql(REVOKE, {"input": revoke}, token=finance.token))["data"]["revokeClosedLoopException"]
    assert codes(again) == ["INVALID_STATE"]
    await fund(rt, player, "10.00 EUR")
    assert owed(await loop(gql, player)) == [("CARD", "40.00")]
    assert codes(await withdraw(gql, player, "10.00", "BANK_TRANSFER")) == ["CLOSED_LOOP"]

    async with rt.database.session() as db:
        actions = (
            await db.scalars(
                select(AuditRecord.action)
                .where(col(AuditRecord.action).like("closed_loop.%"))
                .order_by(col(AuditRecord.seq))
            )
        ).all()
        topics = (await db.scalars(select(OutboxEvent.topic).where(col(OutboxEvent.topic).like("closed_loop.%")))).all()
    assert list(actions) == ["closed_loop.exception_grant", "closed_loop.exception_revoke"]
    assert sorted(topics) == ["closed_loop.exception_granted", "closed_loop.exception_revoked"]


async def test_racing_withdrawals_never_both_use_one_loop_share(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    await licensed_in_malta(rt, brand)
    player = await make_player(country="MT")
    card = await psp.tokenise()
    await pay_in(gql, player, "50.00", "CARD", card)
    await pay_in(gql, player, "50.00", "EWALLET", await psp.tokenise())

    racers = await asyncio.gather(*(withdraw(gql, player, "40.00", "CARD") for _ in range(3)))

    assert sorted(tuple(codes(r)) for r in racers) == [(), ("CLOSED_LOOP",), ("CLOSED_LOOP",)]
    view = await loop(gql, player)
    assert owed(view) == [("CARD", "10.00"), ("EWALLET", "50.00")]
    assert [s["sentBack"]["amount"] for s in view["shares"]] == ["40.00", "0.00"]


async def test_the_closed_loop_reads_in_constant_statements_whatever_the_shares(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any, brand: Any
) -> None:
    await licensed_in_malta(rt, brand)
    player = await make_player(country="MT")
    finance = await make_staff("finance")

    async def statements() -> int:
        with recorded_statements(rt) as seen:
            body = await gql(STAFF_LOOP, {"id": player.id}, token=finance.token)
        assert "errors" not in body, body
        return len([s for s in seen if "closed_loop" in s or "payments" in s or "FROM players" in s])

    await pay_in(gql, player, "5.00", "CARD", await psp.tokenise())
    one = await statements()
    await pay_in(gql, player, "5.00", "CARD", await psp.tokenise())
    await pay_in(gql, player, "5.00", "EWALLET", await psp.tokenise())
    # Query.player's lookup, then the field's own: the player (its ownership filter), the shares, the exceptions.
    assert await statements() == one == 4


async def test_a_crypto_share_is_its_asset_and_any_destination_of_that_asset_pays_it_back(
    rt: Any, make_player: Any, brand: Any
) -> None:
    """Crypto arrives as payments rows of method "crypto" with `instrument_token` "<asset>:<address>" (the crypto
    processor's contract, docs/closed-loop.md): the deposit address is ours, so the share is the asset and a
    withdrawal names its own destination. Until the method is in the GraphQL enum, this runs at the service."""
    from models.players import Player
    from services import wallet
    from services.cashier import closed_loop

    await licensed_in_malta(rt, brand)
    player = await make_player(country="MT")

    def payment(kind: str, token: str, amount: int, method: str = "crypto", status: str = "succeeded") -> Payment:
        return Payment(
            kind=kind,
            brand_id=brand.id,
            player_id=player.uuid,
            currency="EUR",
            amount=amount,
            method=method,
            country="MT",
            status=status,
            idempotency_key=uuid.uuid4().hex,
            instrument_token=token,
            psp="cryptopay",
        )

    for address, amount in (("bc1qdeposit0001", 5000), ("bc1qdeposit0002", 2000)):  # two addresses, one asset
        async with rt.database.transaction() as db:  # as the processor's confirmation credits it (the ledger too)
            paid_in = payment("deposit", f"BTC:{address}", amount)
            db.add(paid_in)
            await db.flush()
            credited = await wallet.credit_deposit(
                db,
                player_id=player.uuid,
                currency="EUR",
                amount=amount,
                psp="cryptopay",
                payment_id=paid_in.id,
                actor=wallet.Actor("psp"),
            )
            paid_in.transaction_id = credited.transaction_id
    async with rt.database.transaction() as db:
        member = await db.get(Player, player.uuid)
        assert member is not None
        [share] = await closed_loop.loop_shares(db, player.uuid, "EUR")
        assert (share.method, share.instrument, share.instrument_token, share.owed) == (
            "crypto",
            "BTC",
            "BTC:bc1qdeposit0002",
            7000,
        )
        await closed_loop.check_withdrawal(
            db, member, payment("withdrawal", "BTC:bc1qplayer9", 3000, status="requested")
        )
        for elsewhere in (payment("withdrawal", "ETH:0xplayer", 3000), payment("withdrawal", "tok_card", 3000, "card")):
            with pytest.raises(closed_loop.ClosedLoopRefused, match=r"crypto BTC up to 70\.00 EUR"):
                await closed_loop.check_withdrawal(db, member, elsewhere)
    assert closed_loop.instrument_key("crypto", "BTC:bc1q") == "BTC"
    assert closed_loop.instrument_key("crypto", "bc1q") == closed_loop.instrument_key("crypto", None) == ""
    assert closed_loop.instrument_key("card", "tok_1") == "tok_1"
    assert closed_loop.instrument_key("card", "tok_1", "fp_1") == "fp_1"
