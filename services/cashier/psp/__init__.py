"""The PSP adapter interface: what the cashier asks of a payment service provider.

An adapter turns the cashier's requests into one PSP's HTTP dialect and its answers back into
`PspAnswer`. Two kinds of failure, kept apart because the cashier reacts differently:
- `PspTechnicalFailure` (timeout, 5xx, unreachable, unreadable answer): we do not know what
  happened; the cascade may try the next PSP after checking the status of this attempt.
- `PspDeclined` (card refused, account closed): a hard answer; the cascade stops.
Adapters never see card data: deposits carry a PSP vault token, payouts a destination token.
Our attempt id is the merchant reference, so a PSP that is asked twice charges once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from core import json_body

AnswerStatus = Literal["succeeded", "pending", "requires_action", "declined", "refunded"]


class PspTechnicalFailure(Exception):
    """The PSP did not answer usably; the outcome at the PSP is unknown."""


class PspDeclined(Exception):
    def __init__(self, reason: str, answer: PspAnswer) -> None:
        super().__init__(reason)
        self.reason = reason
        self.answer = answer


class InvalidSignature(Exception):
    """A webhook whose HMAC does not verify (or is too old): refused with 401."""


class MalformedWebhook(Exception):
    """A signed webhook whose body is not an acceptable JSON object (nested too deep, a NUL character in a
    string, not JSON at all), or whose values make no sense (a negative amount, an unknown currency): refused
    with 400 before anything is written. `field` names the offending value, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DepositRequest:
    reference: str  # our attempt id: the PSP's idempotency key for this charge
    amount: int  # minor units
    currency: str
    method: str
    token: str | None  # the PSP vault token (never a card number)
    return_url: str
    three_ds: bool = False  # challenge the card (3-D Secure) whatever the PSP's own rules (adapters with forces_3ds)


@dataclass(frozen=True)
class PayoutRequest:
    reference: str
    amount: int
    currency: str
    method: str
    destination_token: str | None


@dataclass(frozen=True)
class PspAnswer:
    status: AnswerStatus
    psp_reference: str | None = None
    redirect_url: str | None = None
    decline_reason: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)  # the PSP's answer, kept on the attempt


NoticeKind = Literal["chargeback", "chargeback_reversed", "payout_returned"]


@dataclass(frozen=True)
class Notice:
    """A PSP's word about a transaction that had succeeded: a chargeback of a deposit, its reversal (the
    operator won the dispute), or a paid withdrawal the bank sent back (services/cashier/chargebacks.py)."""

    kind: NoticeKind
    notice_id: str  # the PSP's id of the chargeback (a reversal names the chargeback it reverses) or return
    amount: int  # minor units, positive (a chargeback may be partial)
    currency: str
    reason: str | None = None


@dataclass(frozen=True)
class ChainTransfer:
    """A crypto processor's word about a transfer to a player's deposit address: its confirmations so far, or
    that it was dropped from the chain (services/cashier/crypto/deposits.py counts and credits)."""

    processor_tx_id: str
    asset: str
    address: str
    amount: Decimal  # the chain's amount, exactly
    txid: str | None
    confirmations: int
    dropped: bool = False
    sender: str | None = None  # the address the coins came from (where a refund goes), when the processor says


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    event_type: str
    reference: str  # our attempt id
    status: AnswerStatus
    psp_reference: str | None
    sequence: int
    decline_reason: str | None
    payload: Mapping[str, Any]
    notice: Notice | None = None  # a chargeback, its reversal or a returned payout: not an attempt's outcome
    transfer: ChainTransfer | None = None  # a crypto deposit seen on chain: no attempt of ours yet


class PspAdapter(ABC):
    """One PSP. `name` is its code in routing rules, ledger clearing accounts and webhook URLs."""

    name: str
    deposit_methods: frozenset[str]
    payout_methods: frozenset[str]
    forces_3ds: bool = False  # honours DepositRequest.three_ds (a risk restriction routes only to these)

    @abstractmethod
    async def create_deposit(self, request: DepositRequest) -> PspAnswer:
        """Charge; raises PspDeclined or PspTechnicalFailure."""

    @abstractmethod
    async def create_payout(self, request: PayoutRequest) -> PspAnswer:
        """Pay out; raises PspDeclined or PspTechnicalFailure."""

    @abstractmethod
    async def get_status(self, reference: str) -> PspAnswer | None:
        """The PSP's view of our reference; None if it never heard of it; raises PspTechnicalFailure."""

    @abstractmethod
    async def refund(self, reference: str) -> PspAnswer:
        """Give a charge back (a late success the cascade had already replaced)."""

    @abstractmethod
    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Check the signature and parse the event; raises InvalidSignature."""


def verify_hmac(
    secret: str, body: bytes, header: str | None, *, tolerance_seconds: int, now: float | None = None
) -> None:
    """`X-PSP-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, within the tolerance."""
    if not header:
        raise InvalidSignature("missing signature")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        stamp = int(parts["t"])
        given = parts["v1"].encode("utf-8")
        skew = abs(int(now if now is not None else time.time()) - stamp)
    except (KeyError, ValueError, UnicodeError, OverflowError) as exc:  # any unreadable header is a bad signature
        raise InvalidSignature("malformed signature header") from exc
    if skew > tolerance_seconds:
        raise InvalidSignature("signature timestamp outside the tolerance")
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, given):
        raise InvalidSignature("signature does not match")


def parse_json(body: bytes) -> dict[str, Any]:
    """A signed webhook's body through the JSON gate (core/json_body.py); raises MalformedWebhook."""
    try:
        return json_body.parse_object(body)
    except json_body.BodyRefused as exc:
        raise MalformedWebhook(str(exc)) from exc
