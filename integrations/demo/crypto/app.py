"""The demo crypto processor: addresses, rates, screening, payouts, and a chain the tests and the demo drive.

Processor-side guarantees the platform relies on, as real processors give them: one address per
(`foreign_id`, currency), answered again when asked again; a payout's `foreign_id` pays once; callbacks are
signed `X-Processing-Signature: <hex HMAC-SHA512 of the raw body>` with the merchant's secret.

The chain (control API, under `/cryptopay/control`): `send` puts a transfer to an address in the next block
(a `confirming` callback with 0 confirmations); `mine` adds blocks: every transfer and payout not yet final
gains confirmations, one callback each (`confirmed` from the processor's own threshold: the platform counts
for itself); `drop` removes a transfer from the chain (`cancelled`); `fail` fails a payout it took (`failed`,
`cancelled` or `dropped`, with a reason). Callbacks go to the webhook base
(`<base>/cryptopay`) when there is one, and are all kept in `/cryptopay/control/webhooks` (held when the
mode is `hold`, so a test can deliver them twice, late or out of order). Screening: an address ending in
`dead`, or flagged through the control API, is `severe` (sanctions).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets as token_source
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Request

DEMO_SECRET = "demo-cryptopay-secret"
NETWORKS = {"BTC": "bitcoin", "ETH": "ethereum", "USDT": "ethereum"}
DECIMALS = {"BTC": 8, "ETH": 18, "USDT": 6}
CONFIRMED_AT = {"BTC": 2, "ETH": 12, "USDT": 12}  # the processor's own threshold for "confirmed"
RATES = {  # the value of one unit, stated for the demo
    ("BTC", "EUR"): "60000.00",
    ("ETH", "EUR"): "3000.00",
    ("USDT", "EUR"): "0.92",
    ("BTC", "USD"): "65000.00",
    ("ETH", "USD"): "3250.00",
    ("USDT", "USD"): "1.00",
}
PAYOUT_FAILED = frozenset({"cancelled", "failed", "dropped"})  # final, as confirmed is
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


@dataclass
class Transfer:
    id: str
    kind: str  # deposit | withdrawal
    currency: str
    amount: str
    address: str
    txid: str
    confirmations: int = 0
    # deposits: confirming | confirmed | cancelled; payouts: processing | confirmed | failed | cancelled | dropped
    status: str = "confirming"
    foreign_id: str | None = None
    sender: str | None = None  # deposits: the address the coins came from
    fee: str | None = None  # payouts: the network fee charged, in the currency
    reason: str | None = None  # payouts: why it failed (`fail`)


@dataclass
class Delivery:
    event_id: str
    kind: str
    reference: str  # the transfer's id (deposits) or our foreign id (payouts)
    body: str
    signature: str
    status_code: int | None = None


@dataclass
class Chain:
    secret: str
    webhook_base: str | None
    mode: str = "deliver"  # deliver | hold
    payout: str = "processing"  # processing | confirmed | cancelled (the payout's first answer)
    lose_answers: int = 0  # the next payouts taken answer 502 (the answer lost: the callbacks still come)
    rates: dict[tuple[str, str], str] = field(default_factory=lambda: dict(RATES))
    addresses: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    transfers: dict[str, Transfer] = field(default_factory=dict)
    payouts: dict[str, str] = field(default_factory=dict)  # foreign id → transfer id
    flagged: dict[str, str] = field(default_factory=dict)  # address → category
    fees: dict[str, str] = field(default_factory=dict)  # currency → the network fee charged on each payout
    deliveries: list[Delivery] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


def sign(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha512).hexdigest()


def demo_address(currency: str, seed: str) -> str:
    digest = hashlib.sha512(f"{currency}:{seed}".encode()).digest()
    if NETWORKS[currency] == "bitcoin":
        return "bc1q" + "".join(_BECH32[b % 32] for b in digest[:38])
    return "0x" + digest.hex()[:40]


def crypto_router(*, secret: str | None = None, webhook_base: str | None = None) -> APIRouter:
    chain = Chain(secret=secret or DEMO_SECRET, webhook_base=webhook_base)
    router = APIRouter(prefix="/cryptopay")

    def authenticate(request: Request) -> None:
        if request.headers.get("authorization") != f"Bearer {chain.secret}":
            raise HTTPException(401, "bad merchant credentials")

    def known(currency: str) -> str:
        if currency not in NETWORKS:
            raise HTTPException(422, f"unknown currency {currency}")
        return currency

    async def post(delivery: Delivery) -> None:
        if chain.webhook_base is None:
            return
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.post(
                    f"{chain.webhook_base.rstrip('/')}/cryptopay",
                    content=delivery.body,
                    headers={"content-type": "application/json", "x-processing-signature": delivery.signature},
                )
            delivery.status_code = response.status_code
        except httpx.HTTPError:
            delivery.status_code = 0

    def callback(tx: Transfer) -> Delivery:
        event: dict[str, Any] = {"id": f"cb_{token_source.token_hex(8)}", "type": tx.kind, "status": tx.status}
        if tx.kind == "deposit":
            event["transaction"] = {
                "id": tx.id,
                "txid": tx.txid,
                "currency": tx.currency,
                "amount": tx.amount,
                "address": tx.address,
                "from_address": tx.sender,
                "confirmations": tx.confirmations,
            }
        else:
            event.update(foreign_id=tx.foreign_id, txid=tx.txid, amount=tx.amount, currency=tx.currency, fee=tx.fee)
            if tx.reason:
                event["reason"] = tx.reason
        body = json.dumps(event)
        delivery = Delivery(event["id"], tx.kind, tx.foreign_id or tx.id, body, sign(chain.secret, body))
        chain.deliveries.append(delivery)
        if chain.mode == "deliver":
            task = asyncio.create_task(post(delivery))
            chain.tasks.add(task)
            task.add_done_callback(chain.tasks.discard)
        return delivery

    def payout_view(tx: Transfer) -> dict[str, Any]:
        return {
            "id": tx.id,
            "foreign_id": tx.foreign_id,
            "status": tx.status,
            "txid": tx.txid,
            "amount": tx.amount,
            "currency": tx.currency,
            "fee": tx.fee,
        }

    # ---- the merchant API ------------------------------------------------------------------------

    @router.post("/v2/addresses/take")
    async def take_address(request: Request) -> dict[str, str]:
        authenticate(request)
        body = await request.json()
        currency, foreign_id = known(str(body.get("currency"))), str(body.get("foreign_id") or "")
        if not foreign_id:
            raise HTTPException(422, "foreign_id is required")
        found = chain.addresses.get((foreign_id, currency))
        if found is None:
            found = {
                "id": f"addr_{token_source.token_hex(6)}",
                "address": demo_address(currency, foreign_id),
                "currency": currency,
                "network": NETWORKS[currency],
                "foreign_id": foreign_id,
            }
            chain.addresses[(foreign_id, currency)] = found
        return found

    @router.get("/v2/rates")
    async def rate(request: Request) -> dict[str, str]:
        authenticate(request)
        pair = (request.query_params.get("from", ""), request.query_params.get("to", ""))
        if pair not in chain.rates:
            raise HTTPException(404, "no rate for this pair")
        return {"from": pair[0], "to": pair[1], "rate": chain.rates[pair]}

    @router.post("/v2/screening")
    async def screening(request: Request) -> dict[str, Any]:
        authenticate(request)
        body = await request.json()
        address = str(body.get("address") or "")
        category = chain.flagged.get(address) or ("sanctions" if address.lower().endswith("dead") else None)
        if category:
            return {"address": address, "risk_level": "severe", "categories": [category]}
        return {"address": address, "risk_level": "low", "categories": []}

    @router.post("/v2/withdrawals")
    async def withdraw(request: Request) -> dict[str, Any]:
        authenticate(request)
        body = await request.json()
        foreign_id = str(body.get("foreign_id") or "")
        if foreign_id in chain.payouts:  # sent twice: paid once, the first answer again
            return lost_or(payout_view(chain.transfers[chain.payouts[foreign_id]]))
        currency = known(str(body.get("currency")))
        amount = Decimal(str(body.get("amount")))
        if amount <= 0 or -amount.as_tuple().exponent > DECIMALS[currency]:  # type: ignore[operator]
            raise HTTPException(422, "bad amount")
        tx = Transfer(
            id=f"wd_{token_source.token_hex(6)}",
            kind="withdrawal",
            currency=currency,
            amount=str(body.get("amount")),
            address=str(body.get("address")),
            txid=token_source.token_hex(32),
            status=chain.payout,
            foreign_id=foreign_id,
            fee=chain.fees.get(currency),
        )
        chain.transfers[tx.id] = tx
        chain.payouts[foreign_id] = tx.id
        return lost_or(payout_view(tx))

    def lost_or(answer: dict[str, Any]) -> dict[str, Any]:
        if chain.lose_answers > 0:  # taken, but the merchant never hears it
            chain.lose_answers -= 1
            raise HTTPException(502, "the answer was lost")
        return answer

    @router.get("/v2/withdrawals/{foreign_id}")
    async def payout_status(foreign_id: str, request: Request) -> dict[str, Any]:
        authenticate(request)
        if foreign_id not in chain.payouts:
            raise HTTPException(404, "no such withdrawal")
        return payout_view(chain.transfers[chain.payouts[foreign_id]])

    # ---- the chain and the control API (tests and the demo) -------------------------------------

    @router.post("/control/reset")
    async def reset() -> dict[str, str]:
        for task in list(chain.tasks):
            task.cancel()
        chain.mode, chain.payout, chain.lose_answers = "deliver", "processing", 0
        chain.rates = dict(RATES)
        for kept in (chain.addresses, chain.transfers, chain.payouts, chain.flagged, chain.fees):
            kept.clear()
        chain.deliveries.clear()
        return {"status": "reset"}

    @router.post("/control/settings")
    async def settings(request: Request) -> dict[str, Any]:
        body = await request.json()
        chain.mode = str(body.get("mode", chain.mode))
        chain.payout = str(body.get("payout", chain.payout))
        chain.lose_answers = int(body.get("lose_answers", chain.lose_answers))
        for pair, value in (body.get("rates") or {}).items():
            base, quote = pair.split("/")
            chain.rates[(base, quote)] = str(value)
        for address, category in (body.get("flagged") or {}).items():
            chain.flagged[address] = str(category)
        for currency, fee in (body.get("fees") or {}).items():
            chain.fees[str(currency)] = str(fee)
        return {"mode": chain.mode, "payout": chain.payout}

    @router.post("/control/send")
    async def send(request: Request) -> dict[str, Any]:
        """A transfer to an address, in the next block: `{currency, address, amount, from?}` (`from`: the sender's
        address; by default one of the demo's own)."""
        body = await request.json()
        currency = known(str(body.get("currency")))
        tx = Transfer(
            id=f"tx_{token_source.token_hex(6)}",
            kind="deposit",
            currency=currency,
            amount=str(body.get("amount")),
            address=str(body.get("address")),
            txid=token_source.token_hex(32),
            sender=str(body.get("from") or demo_address(currency, f"sender:{token_source.token_hex(6)}")),
        )
        chain.transfers[tx.id] = tx
        delivery = callback(tx)
        return {**asdict(tx), "event_id": delivery.event_id}

    @router.post("/control/mine")
    async def mine(request: Request) -> dict[str, Any]:
        """`{blocks}` more blocks: each transfer not final gains them (one callback each)."""
        body = await request.json() if await request.body() else {}
        blocks = max(1, int(body.get("blocks", 1)))
        moved = []
        for tx in chain.transfers.values():
            # Payouts stop at confirmed; deposits are reported a while longer (a platform may count more).
            final = tx.status == "confirmed" and (tx.kind == "withdrawal" or tx.confirmations >= 30)
            if tx.status in PAYOUT_FAILED or final:
                continue
            tx.confirmations += blocks
            if tx.confirmations >= CONFIRMED_AT[tx.currency]:
                tx.status = "confirmed"
            moved.append(callback(tx).event_id)
        return {"callbacks": moved}

    @router.post("/control/drop/{tx_id}")
    async def drop(tx_id: str) -> dict[str, Any]:
        tx = chain.transfers.get(tx_id)
        if tx is None or tx.kind != "deposit":
            raise HTTPException(404, "no such transfer")
        tx.status = "cancelled"
        return {"event_id": callback(tx).event_id}

    @router.post("/control/fail/{foreign_id}")
    async def fail(foreign_id: str, request: Request) -> dict[str, Any]:
        """A payout fails after the processor took it: `{status: failed | cancelled | dropped, reason?}` (the
        processor could not send it, cancelled it, or the chain dropped it; a confirmed one may be dropped too, as
        a deep reorganisation would). Asked again, the same failure is reported again under a new event id."""
        body = await request.json() if await request.body() else {}
        status = str(body.get("status") or "failed")
        if status not in PAYOUT_FAILED:
            raise HTTPException(422, f"a payout fails as one of {sorted(PAYOUT_FAILED)}")
        tx = chain.transfers.get(chain.payouts.get(foreign_id, ""))
        if tx is None:
            raise HTTPException(404, "no such withdrawal")
        tx.status, tx.reason = status, str(body.get("reason") or status)[:200]
        return {"event_id": callback(tx).event_id}

    @router.get("/control/transfers")
    async def transfers() -> list[dict[str, Any]]:
        return [asdict(tx) for tx in chain.transfers.values()]

    @router.get("/control/webhooks")
    async def webhooks(reference: str | None = None) -> list[dict[str, Any]]:
        return [asdict(d) for d in chain.deliveries if reference in (None, d.reference)]

    return router
