"""The crypto processor's adapter (`cryptopay`, shaped like CoinsPaid and NOWPayments): an address per player
and asset, rates, address screening, payouts, and callbacks signed with an HMAC of their raw body.

- Addresses: `POST /cryptopay/v2/addresses/take` with our `foreign_id` (the player) and the currency: the
  processor answers the same address for the same pair, however often it is asked.
- Rates: `GET /cryptopay/v2/rates?from=BTC&to=EUR`: the value of one unit; the platform locks it in a quote.
- Screening: `POST /cryptopay/v2/screening` rates an address's on-chain exposure (sanctions, stolen funds,
  mixers); a payout to a high or severe one is declined before anything is sent.
- Payouts: `POST /cryptopay/v2/withdrawals` with our attempt id as `foreign_id` (sent twice, paid once);
  `processing` until the chain confirms it (a callback), `confirmed`, or `cancelled`.
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
from typing import Any

from core.errors import DomainError
from services.cashier.crypto import assets
from services.cashier.psp import (
    AnswerStatus,
    ChainTransfer,
    DepositRequest,
    InvalidSignature,
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
        given = headers.get("x-processing-signature") or ""
        if not hmac.compare_digest(signature(self.secret, body).encode(), given.encode()):
            raise InvalidSignature("signature does not match")
        data = parse_json(body)
        try:
            event_id, kind, status = str(data["id"])[:100], str(data["type"]), str(data["status"])
            if kind == "deposit":
                tx = data["transaction"]
                if not isinstance(tx, Mapping):
                    raise TypeError("a transaction is an object")
                asset = assets.asset(str(tx["currency"]))
                transfer = ChainTransfer(
                    processor_tx_id=str(tx["id"])[:100],
                    asset=asset.code,
                    address=str(tx["address"])[:128],
                    amount=assets.chain_amount(asset, str(tx["amount"])),
                    txid=str(tx.get("txid") or "")[:128] or None,
                    confirmations=max(0, int(tx["confirmations"])),
                    dropped=status == "cancelled",
                )
                return WebhookEvent(
                    event_id, f"deposit.{status}"[:64], "", "pending", None, 0, None, data, None, transfer
                )
            if kind != "withdrawal":
                raise ValueError(f"unknown callback type {kind!r}")
            answer = self.parse(data)
            return WebhookEvent(
                event_id=event_id,
                event_type=f"withdrawal.{status}"[:64],
                reference=str(data["foreign_id"]),
                status=answer.status,
                psp_reference=answer.psp_reference,
                sequence=int(data.get("sequence") or 0),
                decline_reason=answer.decline_reason,
                payload=data,
            )
        except (KeyError, TypeError, ValueError, PspTechnicalFailure, DomainError) as exc:  # DomainError: an asset
            raise InvalidSignature("signed, but not a cryptopay callback") from exc
