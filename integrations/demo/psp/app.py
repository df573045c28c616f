"""The demo PSP's FastAPI app (state in memory; one instance per process).

PSP-side guarantees the platform relies on, as real PSPs give them: a merchant reference is
charged at most once (resending it returns the first transaction), a transaction's status can be
read by that reference, and webhooks are signed with HMAC-SHA256 over `"<timestamp>.<body>"`
(header `X-PSP-Signature: t=<timestamp>,v1=<hex>`).

Chargebacks and returned payouts (the control API, for tests and the demo): `POST /control/notices/{psp}/
{reference}` with `{"kind": "chargeback" | "chargeback_reversed" | "payout_returned", "id", "amount",
"reason"}` announces one about a transaction, signed and delivered like its other webhooks.

Test cards (the hosted form's vault): 4000 0000 0000 0002 is declined, 4000 0000 0000 3220 asks
for 3-D Secure, any other Luhn-valid number succeeds. cardpay challenges any card whose charge asks
`"three_ds": "challenge"` (the platform's risk restriction `route_3ds`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import secrets as token_source
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from integrations.demo.crypto import crypto_router

# The same development secrets as the platform's defaults (core/settings.py); override both in production.
DEMO_SECRETS = {
    "cardpay": "demo-cardpay-secret",
    "swiftpay": "demo-swiftpay-secret",
    "bankwire": "demo-bankwire-secret",
}
DECLINED_CARD = "4000000000000002"
THREE_DS_CARD = "4000000000003220"

Mode = Literal["succeed", "decline", "timeout", "charge_then_timeout", "error", "pending"]
WebhookMode = Literal["normal", "late", "twice", "out_of_order", "hold", "none"]


@dataclass
class Behaviour:
    deposit: Mode = "succeed"
    payout: Mode = "succeed"
    webhook: WebhookMode = "normal"
    status: Literal["ok", "error"] = "ok"  # status polls answer, or fail with 5xx
    delay_seconds: float = 1.0  # for late webhooks and pending settlements
    timeout_seconds: float = 30.0  # how long a "timeout" hangs
    webhook_url: str | None = None


@dataclass
class Card:
    last4: str
    network: str
    three_ds: bool
    declined: bool
    bin: str = ""
    fingerprint: str = ""  # the same for every token of one card number, as PSPs' card fingerprints are


def card_fingerprint(number: str) -> str:
    return "fp_" + hmac.new(b"demo-vault-fingerprint", number.encode(), hashlib.sha256).hexdigest()[:24]


@dataclass
class Transaction:
    id: str
    psp: str
    kind: str  # deposit | payout
    reference: str  # the merchant's reference (its idempotency key here)
    amount: int
    currency: str
    status: str  # pending | requires_action | succeeded | declined | refunded
    return_url: str | None = None
    decline_reason: str | None = None
    sequence: int = 0
    charged: int = 0  # how many times money actually moved (a test checks it is never 2)


@dataclass
class Delivery:
    psp: str
    event_id: str
    reference: str
    body: str
    signature: str
    status_code: int | None = None


@dataclass
class State:
    secrets: dict[str, str]
    webhook_base: str | None
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    vault: dict[str, Card] = field(default_factory=dict)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    by_reference: dict[tuple[str, str], str] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def behaviour(self, psp: str) -> Behaviour:
        return self.behaviours.setdefault(psp, Behaviour())


def sign(secret: str, body: str, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


# ---- the three request/response dialects -------------------------------------------------------


@dataclass(frozen=True)
class Order:
    reference: str
    amount: int
    currency: str
    token: str | None
    return_url: str | None
    challenge: bool = False  # cardpay's `three_ds: "challenge"`: 3-D Secure whatever the card


def parse_order(psp: str, body: dict[str, Any]) -> Order:
    try:
        if psp == "cardpay":  # minor units, flat
            return Order(
                str(body["reference"]),
                int(body["amount"]),
                str(body["currency"]),
                body.get("card_token"),
                body.get("return_url"),
                body.get("three_ds") == "challenge",
            )
        if psp == "swiftpay":  # decimal strings, nested
            currency = str(body["money"]["currency"])
            exponent = 0 if currency == "JPY" else 8 if currency in ("BTC", "ETH") else 6 if currency == "USDT" else 2
            whole, _, fraction = str(body["money"]["value"]).partition(".")
            amount = int(whole) * 10**exponent + int((fraction or "0").ljust(exponent, "0")[:exponent] or "0")
            return Order(
                str(body["order_id"]),
                amount,
                currency,
                (body.get("source") or {}).get("token"),
                (body.get("redirect") or {}).get("return_url"),
            )
        if psp == "bankwire":  # camelCase, account tokens
            return Order(
                str(body["merchantRef"]),
                int(body["amountMinor"]),
                str(body["ccy"]),
                body.get("accountToken"),
                body.get("returnUrl"),
            )
    except (KeyError, ValueError, TypeError) as exc:
        raise HTTPException(422, f"malformed {psp} request: {exc!r}") from exc
    raise HTTPException(404, f"unknown PSP {psp}")


def render(psp: str, tx: Transaction, base_url: str) -> dict[str, Any]:
    action = f"{base_url}/psp/{psp}/3ds/{tx.id}" if tx.status == "requires_action" else None
    if psp == "cardpay":
        status = {
            "succeeded": "captured",
            "requires_action": "requires_action",
            "declined": "declined",
            "pending": "pending",
            "refunded": "refunded",
        }[tx.status]
        return {
            "id": tx.id,
            "status": status,
            "decline_reason": tx.decline_reason,
            "action": {"redirect_url": action} if action else None,
        }
    if psp == "swiftpay":
        state = {
            "succeeded": "COMPLETED",
            "requires_action": "AUTH_REQUIRED",
            "declined": "REJECTED",
            "pending": "PROCESSING",
            "refunded": "REFUNDED",
        }[tx.status]
        return {"payment": {"id": tx.id, "state": state, "reason": tx.decline_reason}, "links": {"auth": action}}
    result = {
        "succeeded": "ok",
        "requires_action": "redirect",
        "declined": "refused",
        "pending": "waiting",
        "refunded": "returned",
    }[tx.status]
    return {"transferId": tx.id, "result": result, "refusal": tx.decline_reason, "bankUrl": action}


# ---- the app --------------------------------------------------------------------------------------


def create_demo_psp(*, secrets: dict[str, str] | None = None, webhook_base: str | None = None) -> FastAPI:
    state = State(secrets=dict(secrets or DEMO_SECRETS), webhook_base=webhook_base)
    app = FastAPI(title="Croupier demo PSP", docs_url=None, redoc_url=None)
    app.state.psp = state

    def known(psp: str) -> None:
        if psp not in state.secrets:
            raise HTTPException(404, f"unknown PSP {psp}")

    def authenticate(psp: str, request: Request) -> None:
        known(psp)
        if request.headers.get("authorization") != f"Bearer {state.secrets[psp]}":
            raise HTTPException(401, "bad merchant credentials")

    def spawn(work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)

    async def deliver(delivery: Delivery, url: str | None, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        if url is None:
            return
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.post(
                    url,
                    content=delivery.body,
                    headers={"content-type": "application/json", "x-psp-signature": delivery.signature},
                )
            delivery.status_code = response.status_code
        except httpx.HTTPError:
            delivery.status_code = 0

    def event(tx: Transaction, status: str, notice: dict[str, Any] | None = None) -> Delivery:
        tx.sequence += 1
        body = json.dumps(
            {
                "event_id": f"evt_{token_source.token_hex(8)}",
                "type": f"{tx.kind}.{status}",
                "created": time.time(),
                "sequence": tx.sequence,
                "data": {
                    "id": tx.id,
                    "reference": tx.reference,
                    "kind": tx.kind,
                    "status": status,
                    "amount": tx.amount,
                    "currency": tx.currency,
                    "decline_reason": tx.decline_reason,
                    **({"notice": notice} if notice is not None else {}),
                },
            },
            separators=(",", ":"),
        )
        delivery = Delivery(tx.psp, json.loads(body)["event_id"], tx.reference, body, sign(state.secrets[tx.psp], body))
        state.deliveries.append(delivery)
        return delivery

    def webhook_url(psp: str) -> str | None:
        behaviour = state.behaviour(psp)
        return behaviour.webhook_url or (f"{state.webhook_base}/{psp}" if state.webhook_base else None)

    def notify(tx: Transaction) -> None:
        """Announce the transaction's current (final) status the way its PSP is told to."""
        behaviour = state.behaviour(tx.psp)
        if behaviour.webhook == "none":
            return
        url = webhook_url(tx.psp)
        if behaviour.webhook == "out_of_order":
            stale = event(tx, "pending")  # an older state, numbered before the final one...
            final = event(tx, tx.status)
            spawn(deliver(final, url, 0.05))  # ...but delivered after it
            spawn(deliver(stale, url, 0.3))
            return
        delivery = event(tx, tx.status)
        if behaviour.webhook == "hold":
            return
        delay = behaviour.delay_seconds if behaviour.webhook == "late" else 0.05
        spawn(deliver(delivery, url, delay))
        if behaviour.webhook == "twice":
            spawn(deliver(delivery, url, delay + 0.2))

    def settle(tx: Transaction, succeeded: bool, reason: str | None = None) -> None:
        if tx.status not in ("pending", "requires_action"):
            return
        tx.status = "succeeded" if succeeded else "declined"
        tx.decline_reason = None if succeeded else (reason or "do_not_honor")
        tx.charged += 1 if succeeded else 0
        notify(tx)

    async def settle_later(tx: Transaction, delay: float) -> None:
        await asyncio.sleep(delay)
        settle(tx, True)

    async def create(psp: str, kind: str, request: Request) -> Response:
        authenticate(psp, request)
        order = parse_order(psp, await request.json())
        behaviour = state.behaviour(psp)
        mode = behaviour.deposit if kind == "deposit" else behaviour.payout
        base_url = str(request.base_url).rstrip("/")
        existing = state.by_reference.get((psp, order.reference))
        if existing is not None:  # the merchant retried: same transaction, never a second charge
            return JSONResponse(render(psp, state.transactions[existing], base_url))
        if mode == "timeout":
            await asyncio.sleep(behaviour.timeout_seconds)
            return JSONResponse({"error": "gateway timeout"}, status_code=504)
        if mode == "error":
            return JSONResponse({"error": "internal error"}, status_code=503)
        card = state.vault.get(order.token or "") if kind == "deposit" and psp != "bankwire" else None
        if kind == "deposit" and psp != "bankwire" and card is None:
            raise HTTPException(422, "unknown card token")
        tx = Transaction(
            id=f"{psp[:2]}_{token_source.token_hex(10)}",
            psp=psp,
            kind=kind,
            reference=order.reference,
            amount=order.amount,
            currency=order.currency,
            status="pending",
            return_url=order.return_url,
        )
        state.transactions[tx.id] = tx
        state.by_reference[(psp, order.reference)] = tx.id
        if mode == "decline" or (card is not None and card.declined):
            settle(tx, False, "card_declined" if kind == "deposit" else "account_closed")
        elif (card is not None and (card.three_ds or order.challenge)) or (psp == "bankwire" and kind == "deposit"):
            tx.status = "requires_action"  # the player's browser goes to the 3-D Secure / bank page
        elif mode == "pending":
            spawn(settle_later(tx, behaviour.delay_seconds))
        else:
            settle(tx, True)
        if mode == "charge_then_timeout":
            await asyncio.sleep(behaviour.timeout_seconds)  # the money moved, the answer is lost
            return JSONResponse({"error": "gateway timeout"}, status_code=504)
        return JSONResponse(render(psp, tx, base_url), status_code=201)

    # cardpay
    @app.post("/psp/cardpay/v1/charges")
    async def cardpay_charge(request: Request) -> Response:
        return await create("cardpay", "deposit", request)

    @app.post("/psp/cardpay/v1/payouts")
    async def cardpay_payout(request: Request) -> Response:
        return await create("cardpay", "payout", request)

    # swiftpay
    @app.post("/psp/swiftpay/api/payments")
    async def swiftpay_payment(request: Request) -> Response:
        return await create("swiftpay", "deposit", request)

    @app.post("/psp/swiftpay/api/payouts")
    async def swiftpay_payout(request: Request) -> Response:
        return await create("swiftpay", "payout", request)

    # bankwire
    @app.post("/psp/bankwire/transfers/in")
    async def bankwire_in(request: Request) -> Response:
        return await create("bankwire", "deposit", request)

    @app.post("/psp/bankwire/transfers/out")
    async def bankwire_out(request: Request) -> Response:
        return await create("bankwire", "payout", request)

    @app.get("/psp/{psp}/status/{reference}")
    async def status(psp: str, reference: str, request: Request) -> Response:
        authenticate(psp, request)
        behaviour = state.behaviour(psp)
        if behaviour.deposit == "error" or behaviour.status == "error":
            return JSONResponse({"error": "internal error"}, status_code=503)
        tx_id = state.by_reference.get((psp, reference))
        if tx_id is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(render(psp, state.transactions[tx_id], str(request.base_url).rstrip("/")))

    @app.post("/psp/{psp}/refunds/{reference}")
    async def refund(psp: str, reference: str, request: Request) -> Response:
        authenticate(psp, request)
        tx_id = state.by_reference.get((psp, reference))
        if tx_id is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        tx = state.transactions[tx_id]
        if tx.status == "succeeded":
            tx.status = "refunded"
            tx.charged -= 1
        return JSONResponse(render(psp, tx, str(request.base_url).rstrip("/")))

    # ---- the 3-D Secure (or bank) page the player's browser visits ----------------------------

    @app.get("/psp/{psp}/3ds/{tx_id}", response_class=HTMLResponse)
    async def challenge(psp: str, tx_id: str) -> str:
        tx = state.transactions.get(tx_id)
        if tx is None or tx.psp != psp:
            raise HTTPException(404, "no such transaction")
        amount = html.escape(f"{tx.amount} {tx.currency} (minor units)")
        return f"""<!doctype html><title>{psp} – confirm your payment</title>
<h1>{html.escape(psp)}: confirm the payment</h1><p>Amount: {amount}</p>
<form method="post"><button name="result" value="approve">Approve</button>
<button name="result" value="fail">Fail authentication</button></form>"""

    @app.post("/psp/{psp}/3ds/{tx_id}")
    async def challenge_answer(psp: str, tx_id: str, result: str = Form("approve")) -> Response:
        tx = state.transactions.get(tx_id)
        if tx is None or tx.psp != psp:
            raise HTTPException(404, "no such transaction")
        settle(tx, result == "approve", "authentication_failed")
        if tx.return_url:
            return RedirectResponse(tx.return_url, status_code=303)
        return JSONResponse({"status": tx.status})

    # ---- the hosted card form and its vault ---------------------------------------------------

    @app.get("/vault/form", response_class=HTMLResponse)
    async def card_form() -> str:
        return """<!doctype html><title>Card details</title><h1>Card details (hosted by the PSP)</h1>
<form method="post" action="/vault/tokens"><input name="number" placeholder="4242 4242 4242 4242">
<input name="expiry" placeholder="12/30"><input name="cvc" placeholder="123"><button>Save</button></form>"""

    @app.post("/vault/tokens")
    async def tokenise(request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("application/json"):
            data = await request.json()
        else:
            data = dict(await request.form())
        number = "".join(ch for ch in str(data.get("number", "")) if ch.isdigit())
        if not 12 <= len(number) <= 19 or not luhn_ok(number):
            raise HTTPException(422, "invalid card number")
        token = f"tok_{token_source.token_hex(12)}"
        network = "visa" if number.startswith("4") else "mastercard" if number.startswith("5") else "card"
        state.vault[token] = Card(
            number[-4:], network, number == THREE_DS_CARD, number == DECLINED_CARD, number[:6], card_fingerprint(number)
        )
        return JSONResponse({"token": token, "last4": number[-4:], "network": network}, status_code=201)

    @app.get("/vault/tokens/{token}")
    async def describe_token(token: str) -> dict[str, str]:
        """What the merchant may know of a tokenised card: BIN, last four digits, network, fingerprint."""
        card = state.vault.get(token)
        if card is None:
            raise HTTPException(404, "unknown card token")
        return {"bin": card.bin, "last4": card.last4, "network": card.network, "fingerprint": card.fingerprint}

    # ---- control (tests and the demo) --------------------------------------------------------

    @app.get("/control/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/control/reset")
    async def reset() -> dict[str, str]:
        for task in list(state.tasks):
            task.cancel()
        state.behaviours.clear()
        state.transactions.clear()
        state.by_reference.clear()
        state.deliveries.clear()
        return {"status": "reset"}

    @app.post("/control/{psp}")
    async def configure(psp: str, request: Request) -> dict[str, Any]:
        known(psp)
        current = asdict(state.behaviour(psp))
        changes = await request.json()
        unknown = set(changes) - set(current)
        if unknown:
            raise HTTPException(422, f"unknown settings {sorted(unknown)}")
        current.update(changes)
        state.behaviours[psp] = Behaviour(**current)
        return current

    @app.post("/control/notices/{psp}/{reference}")
    async def notice(psp: str, reference: str, request: Request) -> dict[str, Any]:
        """Announce a chargeback (of a deposit), its reversal (the merchant won the dispute) or a returned payout
        about the transaction of this merchant reference. Delivered at once unless the PSP's webhooks `hold`
        (or are `none`); `twice` delivers it twice. The signed delivery is in `/control/webhooks` either way."""
        known(psp)
        tx_id = state.by_reference.get((psp, reference))
        if tx_id is None:
            raise HTTPException(404, "no such transaction")
        tx = state.transactions[tx_id]
        body = await request.json()
        kind = str(body.get("kind"))
        expected = "payout" if kind == "payout_returned" else "deposit"
        if kind not in ("chargeback", "chargeback_reversed", "payout_returned") or tx.kind != expected:
            raise HTTPException(422, f"no {kind} of a {tx.kind}")
        notice_id = str(body.get("id") or f"{'rt' if kind == 'payout_returned' else 'cb'}_{token_source.token_hex(6)}")
        details = {"id": notice_id, "amount": int(body.get("amount") or tx.amount), "reason": body.get("reason")}
        delivery = event(tx, kind, details)
        behaviour = state.behaviour(psp)
        if behaviour.webhook not in ("hold", "none"):
            spawn(deliver(delivery, webhook_url(psp), 0.05))
            if behaviour.webhook == "twice":
                spawn(deliver(delivery, webhook_url(psp), 0.25))
        return {"notice_id": notice_id, "event_id": delivery.event_id}

    @app.get("/control/transactions")
    async def transactions(reference: str | None = None) -> list[dict[str, Any]]:
        return [asdict(tx) for tx in state.transactions.values() if reference in (None, tx.reference)]

    @app.get("/control/webhooks")
    async def webhooks(psp: str | None = None, reference: str | None = None) -> list[dict[str, Any]]:
        return [asdict(d) for d in state.deliveries if psp in (None, d.psp) and reference in (None, d.reference)]

    app.include_router(crypto_router(secret=state.secrets.get("cryptopay"), webhook_base=webhook_base))
    return app
