"""Signals: what a player's requests and details say about who they are, normalised so that the same
person's variants compare equal.

A signal is a (kind, value) pair. The strong kinds identify a person or their instrument (a device, a
card, a payment account, a mailbox, a phone number): two accounts sharing one are linked
(services/risk/clusters.py). The weak kinds (an IP address and its network, a user agent, an email
domain, a card's BIN) are recorded for the rules and the lists, but a café's Wi-Fi or a bank's BIN links
no one.

Normalisation:
- email: lower-cased; the plus-tag dropped (`ann+casino@x` is `ann@x`); for Gmail the dots of the local
  part dropped and googlemail.com read as gmail.com (services/rg/matching.py's `email_key`, one rule);
- email domain: the domain of the normalised email; disposable when the `disposable-email-domains`
  package's list (kept up to date on PyPI from the community list) names it;
- phone: E.164 through `phonenumbers`, read in the player's country when written nationally; a number
  it cannot read gives no signal;
- IP network: the /24 of an IPv4 address, the /64 of an IPv6 one (what one household or one mobile
  customer usually holds);
- device id: the frontend's `X-Device-Id` header, 8 to 128 characters of letters, digits and `._:-`
  (anything else is ignored: a malformed header must not lock a player out, nor fill the table).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from disposable_email_domains import blocklist as _disposable

from services.rg.matching import email_key

DEVICE_ID = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")
DEVICE_HEADER = "x-device-id"
MAX_VALUE = 320


class SignalKind(StrEnum):
    DEVICE = "device"
    CARD_FINGERPRINT = "card_fingerprint"
    PAYMENT_ACCOUNT = "payment_account"
    EMAIL = "email"
    PHONE = "phone"
    IP = "ip"
    IP_NETWORK = "ip_network"
    USER_AGENT = "user_agent"
    EMAIL_DOMAIN = "email_domain"
    CARD_BIN = "card_bin"


STRONG = frozenset(
    {SignalKind.DEVICE, SignalKind.CARD_FINGERPRINT, SignalKind.PAYMENT_ACCOUNT, SignalKind.EMAIL, SignalKind.PHONE}
)


@dataclass(frozen=True)
class Signal:
    kind: SignalKind
    value: str

    @property
    def strong(self) -> bool:
        return self.kind in STRONG


def device_id(raw: str | None) -> str | None:
    value = (raw or "").strip()
    return value if DEVICE_ID.match(value) else None


def email(raw: str) -> str:
    return email_key(raw)[:MAX_VALUE]


def email_domain(raw: str) -> str:
    return email(raw).rpartition("@")[2]


def is_disposable(domain: str) -> bool:
    """The domain or any parent of it (`x.mailinator.com`) is a disposable-mail provider."""
    parts = domain.lower().split(".")
    return any(".".join(parts[i:]) in _disposable for i in range(len(parts) - 1))


def phone(raw: str | None, country: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def ip_address(raw: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((raw or "").strip()))
    except ValueError:
        return None


def ip_network(raw: str | None) -> str | None:
    address = ip_address(raw)
    if address is None:
        return None
    prefix = 24 if ipaddress.ip_address(address).version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def card_bin(raw: str | None) -> str | None:
    digits = (raw or "").strip()
    return digits if digits.isdigit() and 6 <= len(digits) <= 8 else None


def mask(kind: str, value: str) -> str:
    """What staff see of a shared value: enough to tell two apart, not enough to reuse it."""
    if kind == SignalKind.EMAIL:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind == SignalKind.PHONE:
        return f"{value[:3]}***{value[-2:]}"
    if kind in (SignalKind.CARD_FINGERPRINT, SignalKind.DEVICE, SignalKind.PAYMENT_ACCOUNT):
        return f"…{value[-6:]}"
    return value


@dataclass(frozen=True)
class Observed:
    """What one request said about the player (the inline part: the flow inserts it in its transaction)."""

    device_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    card_bin: str | None = None
    card_fingerprint: str | None = None


def of_request(
    *, ip: str | None, user_agent: str | None, device: str | None, card: CardFacts | None = None
) -> Observed:
    return Observed(
        device_id=device_id(device),
        ip=ip_address(ip),
        user_agent=(user_agent or "").strip()[:512] or None,
        card_bin=card.bin if card else None,
        card_fingerprint=card.fingerprint if card else None,
    )


@dataclass(frozen=True)
class CardFacts:
    """What the PSP's vault says about a card token: never the number, only its BIN and fingerprint."""

    bin: str | None
    fingerprint: str | None
    last4: str | None = None


def signals_of(
    observed: Observed,
    *,
    email_address: str | None = None,
    phone_number: str | None = None,
    country: str | None = None,
    payment_account: str | None = None,
) -> list[Signal]:
    """Every signal of one observation and the player's details at that time."""
    found: list[Signal] = []

    def add(kind: SignalKind, value: str | None) -> None:
        if value:
            found.append(Signal(kind, value[:MAX_VALUE]))

    add(SignalKind.DEVICE, observed.device_id)
    add(SignalKind.IP, observed.ip)
    add(SignalKind.IP_NETWORK, ip_network(observed.ip))
    add(SignalKind.USER_AGENT, observed.user_agent)
    add(SignalKind.CARD_BIN, observed.card_bin)
    add(SignalKind.CARD_FINGERPRINT, observed.card_fingerprint)
    add(SignalKind.PAYMENT_ACCOUNT, payment_account)
    if email_address:
        add(SignalKind.EMAIL, email(email_address))
        add(SignalKind.EMAIL_DOMAIN, email_domain(email_address))
    add(SignalKind.PHONE, phone(phone_number, country))
    return found
