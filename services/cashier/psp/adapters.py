"""The three demo PSP adapters, each speaking its PSP's own dialect over HTTP (httpx, with timeouts).

- cardpay: flat JSON in minor units; statuses captured / requires_action / declined / pending.
- swiftpay: nested JSON with decimal strings; states COMPLETED / AUTH_REQUIRED / REJECTED / PROCESSING.
- bankwire: camelCase JSON, bank transfers in and out; results ok / redirect / refused / waiting.
All three sign webhooks the same way (HMAC-SHA256, `X-PSP-Signature`), each with its own secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from core.money import format_amount
from services.cashier.psp import (
    AnswerStatus,
    DepositRequest,
    InvalidSignature,
    Notice,
    NoticeKind,
    PayoutRequest,
    PspAdapter,
    PspAnswer,
    PspDeclined,
    PspTechnicalFailure,
    WebhookEvent,
    parse_json,
    verify_hmac,
)

WEBHOOK_STATUSES: dict[str, AnswerStatus] = {
    "succeeded": "succeeded",
    "declined": "declined",
    "pending": "pending",
    "requires_action": "requires_action",
    "refunded": "refunded",
}

# 4xx answers that say nothing about the payment itself (our credentials, a conflict, rate limits, a
# request timeout): the outcome is unknown, so they are technical failures, never declines.
TECHNICAL_4XX = frozenset({401, 403, 408, 409, 429})


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    """A nested object of a PSP's answer: absent is empty, anything but an object is unreadable."""
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise PspTechnicalFailure(f"{what}: unexpected answer")
    return value


_NOTICES: dict[str, NoticeKind] = {kind: kind for kind in ("chargeback", "chargeback_reversed", "payout_returned")}


def _notice(event: Mapping[str, Any]) -> Notice | None:
    """The demo PSPs' chargeback, reversal and return notices: `status` names the notice, `notice` holds the
    PSP's id of the chargeback (or return), its amount in minor units and its reason code. Anything malformed
    raises KeyError, TypeError or ValueError (a signed body that is no event)."""
    kind = _NOTICES.get(str(event["status"]))
    if kind is None:
        return None
    details = event["notice"]
    if not isinstance(details, Mapping):
        raise TypeError("a notice is an object")
    amount = int(details.get("amount") or event["amount"])
    if amount <= 0:
        raise ValueError("a notice's amount is positive")
    reason = details.get("reason")
    return Notice(
        kind, str(details["id"])[:100], amount, str(event["currency"])[:8], str(reason)[:64] if reason else None
    )


class DemoHttpAdapter(PspAdapter):
    """What the three share: the HTTP call, its failure mapping, status polls, refunds, webhooks."""

    deposit_path: str
    payout_path: str

    def __init__(self, base_url: str, secret: str, *, timeout_seconds: float, webhook_tolerance_seconds: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.timeout = httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 5.0))
        self.webhook_tolerance_seconds = webhook_tolerance_seconds

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        try:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout) as client:
                response = await client.request(
                    method, path, json=body, headers={"authorization": f"Bearer {self.secret}"}
                )
        except httpx.TimeoutException as exc:
            raise PspTechnicalFailure(f"{self.name}: timeout") from exc
        except httpx.HTTPError as exc:
            raise PspTechnicalFailure(f"{self.name}: unreachable ({type(exc).__name__})") from exc
        if response.status_code >= 500:
            raise PspTechnicalFailure(f"{self.name}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise PspTechnicalFailure(f"{self.name}: unreadable answer (HTTP {response.status_code})") from exc
        if not isinstance(data, dict):
            raise PspTechnicalFailure(f"{self.name}: unexpected answer")
        return response.status_code, data

    def _answer(self, status_code: int, data: dict[str, Any]) -> PspAnswer:
        if status_code in TECHNICAL_4XX:
            raise PspTechnicalFailure(f"{self.name}: HTTP {status_code}")
        if status_code >= 400:  # our request was refused as such (bad token, bad credentials)
            detail = str(data.get("detail") or data.get("error") or f"HTTP {status_code}")
            answer = PspAnswer("declined", decline_reason=detail[:200], raw=data)
            raise PspDeclined(answer.decline_reason or "refused", answer)
        answer = self._parsed(data)
        if answer.status == "declined":
            raise PspDeclined(answer.decline_reason or "declined", answer)
        return answer

    def parse(self, data: dict[str, Any]) -> PspAnswer:
        raise NotImplementedError

    def _parsed(self, data: dict[str, Any]) -> PspAnswer:
        """`parse`, with any malformed answer a technical failure (never an unexpected exception)."""
        try:
            return self.parse(data)
        except (AttributeError, TypeError, ValueError) as exc:
            raise PspTechnicalFailure(f"{self.name}: unexpected answer") from exc

    def deposit_body(self, request: DepositRequest) -> dict[str, Any]:
        raise NotImplementedError

    def payout_body(self, request: PayoutRequest) -> dict[str, Any]:
        raise NotImplementedError

    async def create_deposit(self, request: DepositRequest) -> PspAnswer:
        return self._answer(*await self._call("POST", self.deposit_path, self.deposit_body(request)))

    async def create_payout(self, request: PayoutRequest) -> PspAnswer:
        return self._answer(*await self._call("POST", self.payout_path, self.payout_body(request)))

    async def get_status(self, reference: str) -> PspAnswer | None:
        status_code, data = await self._call("GET", f"/psp/{self.name}/status/{reference}")
        if status_code == 404:
            return None
        if status_code >= 400:
            raise PspTechnicalFailure(f"{self.name}: status poll refused (HTTP {status_code})")
        return self._parsed(data)

    async def refund(self, reference: str) -> PspAnswer:
        status_code, data = await self._call("POST", f"/psp/{self.name}/refunds/{reference}")
        if status_code >= 400:
            raise PspTechnicalFailure(f"{self.name}: refund refused (HTTP {status_code})")
        return self._parsed(data)

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        verify_hmac(self.secret, body, headers.get("x-psp-signature"), tolerance_seconds=self.webhook_tolerance_seconds)
        data = parse_json(body)
        try:
            event = data["data"]
            notice = _notice(event)
            # A notice speaks of a transaction that had succeeded (a chargeback proves the charge was taken).
            status = "succeeded" if notice is not None else WEBHOOK_STATUSES[str(event["status"])]
            return WebhookEvent(
                event_id=str(data["event_id"])[:100],
                event_type=str(data["type"])[:64],
                reference=str(event["reference"]),
                status=status,
                psp_reference=str(event.get("id") or "")[:100] or None,
                sequence=int(data.get("sequence") or 0),
                decline_reason=event.get("decline_reason"),
                payload=data,
                notice=notice,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidSignature(f"signed, but not a {self.name} event") from exc


class CardPay(DemoHttpAdapter):
    name = "cardpay"
    deposit_methods = frozenset({"card"})
    payout_methods = frozenset({"card"})
    forces_3ds = True  # `three_ds: "challenge"` (swiftpay and bankwire have no such request field)
    deposit_path = "/psp/cardpay/v1/charges"
    payout_path = "/psp/cardpay/v1/payouts"
    STATUSES: dict[str, AnswerStatus] = {
        "captured": "succeeded",
        "requires_action": "requires_action",
        "declined": "declined",
        "pending": "pending",
        "refunded": "refunded",
    }

    def deposit_body(self, request: DepositRequest) -> dict[str, Any]:
        return {
            "reference": request.reference,
            "amount": request.amount,
            "currency": request.currency,
            "card_token": request.token,
            "return_url": request.return_url,
            **({"three_ds": "challenge"} if request.three_ds else {}),
        }

    def payout_body(self, request: PayoutRequest) -> dict[str, Any]:
        return {
            "reference": request.reference,
            "amount": request.amount,
            "currency": request.currency,
            "card_token": request.destination_token,
        }

    def parse(self, data: dict[str, Any]) -> PspAnswer:
        try:
            status = self.STATUSES[str(data["status"])]
        except KeyError as exc:
            raise PspTechnicalFailure("cardpay: unknown status") from exc
        action = _mapping(data.get("action"), "cardpay")
        return PspAnswer(
            status,
            psp_reference=data.get("id"),
            redirect_url=action.get("redirect_url"),
            decline_reason=data.get("decline_reason"),
            raw=data,
        )


class SwiftPay(DemoHttpAdapter):
    name = "swiftpay"
    deposit_methods = frozenset({"card", "ewallet"})
    payout_methods = frozenset({"card", "ewallet"})
    deposit_path = "/psp/swiftpay/api/payments"
    payout_path = "/psp/swiftpay/api/payouts"
    STATES: dict[str, AnswerStatus] = {
        "COMPLETED": "succeeded",
        "AUTH_REQUIRED": "requires_action",
        "REJECTED": "declined",
        "PROCESSING": "pending",
        "REFUNDED": "refunded",
    }

    def deposit_body(self, request: DepositRequest) -> dict[str, Any]:
        return {
            "order_id": request.reference,
            "money": {"value": format_amount(request.amount, request.currency), "currency": request.currency},
            "source": {"type": "token", "token": request.token},
            "redirect": {"return_url": request.return_url},
        }

    def payout_body(self, request: PayoutRequest) -> dict[str, Any]:
        return {
            "order_id": request.reference,
            "money": {"value": format_amount(request.amount, request.currency), "currency": request.currency},
            "destination": {"token": request.destination_token},
        }

    def parse(self, data: dict[str, Any]) -> PspAnswer:
        payment = _mapping(data.get("payment"), "swiftpay")
        try:
            status = self.STATES[str(payment["state"])]
        except KeyError as exc:
            raise PspTechnicalFailure("swiftpay: unknown state") from exc
        links = _mapping(data.get("links"), "swiftpay")
        return PspAnswer(
            status,
            psp_reference=payment.get("id"),
            redirect_url=links.get("auth"),
            decline_reason=payment.get("reason"),
            raw=data,
        )


class BankWire(DemoHttpAdapter):
    name = "bankwire"
    deposit_methods = frozenset({"bank_transfer"})
    payout_methods = frozenset({"bank_transfer"})
    deposit_path = "/psp/bankwire/transfers/in"
    payout_path = "/psp/bankwire/transfers/out"
    RESULTS: dict[str, AnswerStatus] = {
        "ok": "succeeded",
        "redirect": "requires_action",
        "refused": "declined",
        "waiting": "pending",
        "returned": "refunded",
    }

    def deposit_body(self, request: DepositRequest) -> dict[str, Any]:
        return {
            "merchantRef": request.reference,
            "amountMinor": request.amount,
            "ccy": request.currency,
            "accountToken": request.token,
            "returnUrl": request.return_url,
        }

    def payout_body(self, request: PayoutRequest) -> dict[str, Any]:
        return {
            "merchantRef": request.reference,
            "amountMinor": request.amount,
            "ccy": request.currency,
            "accountToken": request.destination_token,
        }

    def parse(self, data: dict[str, Any]) -> PspAnswer:
        try:
            status = self.RESULTS[str(data["result"])]
        except KeyError as exc:
            raise PspTechnicalFailure("bankwire: unknown result") from exc
        return PspAnswer(
            status,
            psp_reference=data.get("transferId"),
            redirect_url=data.get("bankUrl"),
            decline_reason=data.get("refusal"),
            raw=data,
        )


# The crypto processor builds on DemoHttpAdapter above (the package imports this module first).
from services.cashier.psp.cryptopay import CryptoPay  # noqa: E402

ADAPTERS: dict[str, type[DemoHttpAdapter]] = {cls.name: cls for cls in (CardPay, SwiftPay, BankWire, CryptoPay)}
