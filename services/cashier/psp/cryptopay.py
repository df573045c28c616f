"""The crypto processor's adapter (`cryptopay`, shaped like CoinsPaid and NOWPayments): an address per player
and asset, rates, address screening, payouts, and callbacks signed with an HMAC of their raw body.

- Addresses: `POST /cryptopay/v2/addresses/take` with our `foreign_id` (the player) and the currency: the
  processor answers the same address for the same pair, however often it is asked.
- Rates: `GET /cryptopay/v2/rates?from=BTC&to=EUR`: the value of one unit; the platform locks it in a quote.
- Screening: `POST /cryptopay/v2/screening` rates an address's on-chain exposure (sanctions, stolen funds,
  mixers); a payout to a high or severe one is declined before anything is sent.
- Payouts: `POST /cryptopay/v2/withdrawals` with our attempt id as `foreign_id` (sent twice, paid once);
  `processing` until the chain confirms it (a callback), `confirmed`; or `cancelled`, `failed` (by the
  processor) or `dropped` (from the chain), each a decline.
- Callbacks: `X-Processing-Signature: <hex HMAC-SHA512 of the raw body>` under the merchant's secret. A
  deposit callback reports a transfer to a player's address and its confirmations so far (the platform counts
  them: services/cashier/crypto/deposits.py); a withdrawal callback reports a payout by our `foreign_id`.
There is no timestamp in the signature (as with CoinsPaid): a replayed callback is a duplicate event id, or
an older view of a transfer that never moves it back.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.money import MAX_MINOR_UNITS
from services.cashier.crypto import assets
from services.cashier.psp import (
    AnswerStatus,
    ChainTransfer,
    DepositRequest,
    InvalidSignature,
    MalformedWebhook,
    PayoutRequest,
    PspAnswer,
    PspDeclined,
    PspTechnicalFailure,
    WebhookEvent,
    parse_json,
)
from services.cashier.psp.adapters import DemoHttpAdapter

# Screening fails closed: only a level the processor names low or medium (any case) is paid to; high, severe, a
# level spelt another way ("Severe", "HIGH_RISK") or one we do not know is refused.
ACCEPTED_RISK = frozenset({"low", "medium"})


@dataclass(frozen=True)
class TakenAddress:
    address: str
    network: str
    processor_ref: str


@dataclass(frozen=True)
class Screening:
    risk_level: str  # low | medium | high | severe
    categories: tuple[str, ...]

    @property
    def refused(self) -> bool:
        return self.risk_level.strip().lower() not in ACCEPTED_RISK

    def summary(self) -> dict[str, Any]:
        return {"risk_level": self.risk_level, "categories": list(self.categories)}


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()


class CryptoPay(DemoHttpAdapter):
    name = "cryptopay"
    deposit_methods = frozenset({"crypto"})
    payout_methods = frozenset({"crypto"})
    deposit_path = "/cryptopay/v2/invoices"  # never called: crypto deposits arrive at the player's address
    payout_path = "/cryptopay/v2/withdrawals"
    STATUSES: dict[str, AnswerStatus] = {
        "processing": "pending",
        "confirmed": "succeeded",
        "cancelled": "declined",
        "failed": "declined",  # the processor could not send it
        "dropped": "declined",  # the chain dropped it before it confirmed
    }

    async def create_deposit(self, request: DepositRequest) -> PspAnswer:
        answer = PspAnswer("declined", decline_reason="crypto deposits arrive at the player's address")
        raise PspDeclined(answer.decline_reason or "", answer)

    async def create_payout(self, request: PayoutRequest) -> PspAnswer:
        """Screen the destination, then pay. The request is in the asset (services/cashier/crypto/withdrawals.py
        turns a fiat withdrawal into its quote's amount of the asset); anything else has no locked rate."""
        destination = assets.split_token(request.destination_token)
        if destination is None or destination[0].code != request.currency:
            answer = PspAnswer("declined", decline_reason="no_locked_rate")
            raise PspDeclined("no_locked_rate", answer)
        asset, address = destination
        screening = await self.screen(asset.code, address)
        if screening.refused:
            reason = f"address_screening:{','.join(screening.categories) or screening.risk_level}"[:200]
            answer = PspAnswer("declined", decline_reason=reason, raw={"screening": screening.summary()})
            raise PspDeclined(reason, answer)
        return await super().create_payout(request)

    def payout_body(self, request: PayoutRequest) -> dict[str, Any]:
        found = assets.split_token(request.destination_token)
        assert found is not None
        asset, address = found
        return {
            "foreign_id": request.reference,
            "currency": asset.code,
            "amount": assets.to_chain(asset, request.amount),
            "address": address,
        }

    def parse(self, data: dict[str, Any]) -> PspAnswer:
        try:
            status = self.STATUSES[str(data["status"])]
        except KeyError as exc:
            raise PspTechnicalFailure("cryptopay: unknown status") from exc
        return PspAnswer(
            status,
            psp_reference=str(data.get("txid") or data.get("id") or "")[:100] or None,
            decline_reason=data.get("reason"),
            raw=data,
        )

    async def get_status(self, reference: str) -> PspAnswer | None:
        status_code, data = await self._call("GET", f"{self.payout_path}/{reference}")
        if status_code == 404:
            return None
        if status_code >= 400:
            raise PspTechnicalFailure(f"cryptopay: status poll refused (HTTP {status_code})")
        return self._parsed(data)

    async def refund(self, reference: str) -> PspAnswer:
        raise PspTechnicalFailure("cryptopay: a chain transfer cannot be refunded")

    async def take_address(self, foreign_id: str, currency: str) -> TakenAddress:
        status_code, data = await self._call(
            "POST", "/cryptopay/v2/addresses/take", {"foreign_id": foreign_id, "currency": currency}
        )
        if status_code >= 400:
            raise PspTechnicalFailure(f"cryptopay: address refused (HTTP {status_code})")
        try:
            return TakenAddress(str(data["address"]), str(data["network"]), str(data["id"]))
        except KeyError as exc:
            raise PspTechnicalFailure("cryptopay: unexpected answer") from exc

    async def rate(self, asset: str, currency: str) -> str:
        status_code, data = await self._call("GET", f"/cryptopay/v2/rates?from={asset}&to={currency}")
        if status_code >= 400 or "rate" not in data:
            raise PspTechnicalFailure(f"cryptopay: no rate for {asset}/{currency} (HTTP {status_code})")
        return str(data["rate"])

    async def screen(self, asset: str, address: str) -> Screening:
        status_code, data = await self._call("POST", "/cryptopay/v2/screening", {"currency": asset, "address": address})
        if status_code >= 400:
            raise PspTechnicalFailure(f"cryptopay: screening refused (HTTP {status_code})")
        categories = data.get("categories") or []
        return Screening(str(data.get("risk_level") or "severe"), tuple(str(c)[:40] for c in categories)[:10])

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """A callback signed under our secret, its values checked before anything is written: a signed body
        with an absurd value (a negative or huge amount, more decimals than the asset has, an unknown currency,
        non-numeric confirmations, a field longer than we keep) is refused with MalformedWebhook (HTTP 400),
        never truncated or half-applied."""
        given = headers.get("x-processing-signature") or ""
        if not hmac.compare_digest(signature(self.secret, body).encode(), given.encode()):
            raise InvalidSignature("signature does not match")
        data = parse_json(body)
        event_id, kind = _text(data, "id", 100), _text(data, "type", 16)
        status = _text(data, "status", 16)
        if kind == "deposit":
            tx = data.get("transaction")
            if not isinstance(tx, Mapping):
                raise MalformedWebhook("a deposit callback carries its transaction as an object", field="transaction")
            if status not in DEPOSIT_STATUSES:
                raise MalformedWebhook(f"unknown deposit status {status[:16]!r}", field="status")
            asset = _asset(tx, "transaction.currency")
            transfer = ChainTransfer(
                processor_tx_id=_text(tx, "id", 100, field="transaction.id"),
                asset=asset.code,
                address=_text(tx, "address", 128, field="transaction.address"),
                amount=_amount(asset, tx.get("amount"), "transaction.amount"),
                txid=_text(tx, "txid", 128, field="transaction.txid", required=False),
                confirmations=_count(tx.get("confirmations"), "transaction.confirmations"),
                dropped=status == "cancelled",
                sender=_sender(asset, tx),
            )
            return WebhookEvent(event_id, f"deposit.{status}", "", "pending", None, 0, None, data, None, transfer)
        if kind != "withdrawal":
            raise MalformedWebhook(f"unknown callback type {kind[:16]!r}", field="type")
        if status not in self.STATUSES:
            raise MalformedWebhook(f"unknown withdrawal status {status[:16]!r}", field="status")
        reference = _text(data, "foreign_id", 100)
        txid = _text(data, "txid", 128, required=False)
        sequence = _count(data.get("sequence", 0), "sequence")
        if data.get("fee") is not None:  # checked here, booked with the payout (services/cashier/crypto/fees.py)
            _amount(_asset(data, "currency"), data["fee"], "fee", zero=True)
        return WebhookEvent(
            event_id=event_id,
            event_type=f"withdrawal.{status}",
            reference=reference,
            status=self.STATUSES[status],
            psp_reference=(txid or str(data.get("id") or ""))[:100] or None,
            sequence=sequence,
            decline_reason=_text(data, "reason", 200, required=False),
            payload=data,
        )


DEPOSIT_STATUSES = frozenset({"confirming", "confirmed", "cancelled"})
MAX_CONFIRMATIONS = 10**6  # a chain's age in blocks is far below it; the column is an INTEGER


def _text(data: Mapping[str, Any], key: str, limit: int, *, field: str | None = None, required: bool = True) -> str:
    """A string field (a number is taken as its text) no longer than the column that keeps it."""
    value = data.get(key)
    name = field or key
    if value is None or value == "":
        if required:
            raise MalformedWebhook(f"{name} is missing", field=name)
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise MalformedWebhook(f"{name} is not a string", field=name)
    text = str(value)
    if len(text) > limit:
        raise MalformedWebhook(f"{name} is longer than {limit} characters", field=name)
    return text


def _sender(asset: assets.Asset, tx: Mapping[str, Any]) -> str | None:
    """The address the coins came from (a refund goes there): in the network's format, when reported."""
    text = _text(tx, "from_address", 128, field="transaction.from_address", required=False)
    if text and not asset.address.match(text):
        raise MalformedWebhook(
            f"transaction.from_address is not a {asset.network} address", field="transaction.from_address"
        )
    return text or None


def _asset(data: Mapping[str, Any], field: str) -> assets.Asset:
    code = data.get(field.rsplit(".", 1)[-1])
    if not isinstance(code, str) or code not in assets.ASSETS:
        raise MalformedWebhook(f"{field} is not an asset we take", field=field)
    return assets.ASSETS[code]


def _amount(asset: assets.Asset, value: Any, field: str, *, zero: bool = False) -> Decimal:
    """An amount of `asset` as the chain writes it: a decimal string (or number), positive (or zero for a fee),
    with no more decimals than the chain has, and no more than the ledger can hold."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or len(str(value)) > 64:
        raise MalformedWebhook(f"{field} is not an amount", field=field)
    try:
        amount = assets.chain_amount(asset, str(value), zero=zero)
    except ValueError as exc:
        raise MalformedWebhook(f"{field} is not an amount of {asset.code}", field=field) from exc
    if assets.to_ledger(asset, amount)[0] > MAX_MINOR_UNITS:
        raise MalformedWebhook(f"{field} is more {asset.code} than the ledger holds", field=field)
    return amount


def _count(value: Any, field: str) -> int:
    """A whole, non-negative count (confirmations, a sequence): an integer or a string of digits."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise MalformedWebhook(f"{field} is not a whole number", field=field)
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 7 or int(text) > MAX_CONFIRMATIONS:
        raise MalformedWebhook(f"{field} is not a count between 0 and {MAX_CONFIRMATIONS}", field=field)
    return int(text)
