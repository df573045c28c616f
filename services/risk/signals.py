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
- address: `street|place|country`, each part lower-cased, accents folded (`é` is `e`, `ß` is `ss`),
  punctuation replaced by spaces, runs of spaces made one, and the street-type and direction words
  written one way (`street` and `str` are `st`, `road` `rd`, `avenue` `ave`, `north` `n`, …: STREET_WORDS;
  a German compound `…strasse` is `… st`); the street is the address lines joined; the place is the
  postal code without spaces or hyphens, or the city (normalised as a street is) where no postal code is
  given; the country is the ISO code. `12 Baker Street` / `NW1 6XE` / GB and `12, baker st.` / `nw16xe`
  / GB are both `12 baker st|nw16xe|gb`. No first line, no signal;
- IP network: the /24 of an IPv4 address, the /64 of an IPv6 one (what one household or one mobile
  customer usually holds);
- device id: the frontend's `X-Device-Id` header, 8 to 128 characters of letters, digits and `._:-`
  (anything else is ignored: a malformed header must not lock a player out, nor fill the table).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
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
    ADDRESS = "address"
    IP = "ip"
    IP_NETWORK = "ip_network"
    USER_AGENT = "user_agent"
    EMAIL_DOMAIN = "email_domain"
    CARD_BIN = "card_bin"


STRONG = frozenset(
    {
        SignalKind.DEVICE,
        SignalKind.CARD_FINGERPRINT,
        SignalKind.PAYMENT_ACCOUNT,
        SignalKind.EMAIL,
        SignalKind.PHONE,
        SignalKind.ADDRESS,
    }
)

# One spelling per street-type and direction word (English, with common French, German, Spanish and
# Italian forms), after lower-casing and folding accents.
STREET_WORDS = {
    **dict.fromkeys(("street", "str", "strasse", "st"), "st"),
    **dict.fromkeys(("road", "rd"), "rd"),
    **dict.fromkeys(("avenue", "av", "ave", "avda", "avenida"), "ave"),
    **dict.fromkeys(("boulevard", "blvd", "bd", "boul"), "blvd"),
    **dict.fromkeys(("lane", "ln"), "ln"),
    **dict.fromkeys(("drive", "dr"), "dr"),
    **dict.fromkeys(("court", "ct"), "ct"),
    **dict.fromkeys(("place", "pl", "platz"), "pl"),
    **dict.fromkeys(("square", "sq"), "sq"),
    **dict.fromkeys(("terrace", "ter", "terr"), "ter"),
    **dict.fromkeys(("crescent", "cres"), "cres"),
    **dict.fromkeys(("close", "cl"), "cl"),
    **dict.fromkeys(("gardens", "gdns"), "gdns"),
    **dict.fromkeys(("highway", "hwy"), "hwy"),
    **dict.fromkeys(("parkway", "pkwy"), "pkwy"),
    **dict.fromkeys(("apartment", "apt", "flat"), "apt"),
    **dict.fromkeys(("suite", "ste"), "ste"),
    **dict.fromkeys(("number", "no", "nr"), "no"),
    **dict.fromkeys(("north", "n"), "n"),
    **dict.fromkeys(("south", "s"), "s"),
    **dict.fromkeys(("east", "e"), "e"),
    **dict.fromkeys(("west", "w"), "w"),
}
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_STRASSE = re.compile(r"(?<=[a-z])(strasse|str)$")  # German compounds: `hauptstrasse` is `haupt st`


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


def _folded(raw: str) -> str:
    """Lower-cased (`ß` is `ss`), accents folded (NFKD, combining marks dropped), punctuation made spaces."""
    decomposed = unicodedata.normalize("NFKD", raw.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def _street(raw: str) -> str:
    words: list[str] = []
    for word in _folded(raw).split():
        compound = _STRASSE.search(word)
        if compound and compound.start() > 2:
            words.append(word[: compound.start()])
            word = "st"
        words.append(STREET_WORDS.get(word, word))
    return " ".join(words)


def address(
    line1: str | None, line2: str | None, city: str | None, postal_code: str | None, country: str | None
) -> str | None:
    """The address's key (the module docstring gives the rule), or None without a first line."""
    street = _street(" ".join(part for part in (line1, line2) if part))
    if not street:
        return None
    place = _NOT_WORD.sub("", _folded(postal_code or "")) or _street(city or "")
    return f"{street}|{place}|{(country or '').lower()}"


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
    if kind == SignalKind.ADDRESS:  # the street's first 3 characters, the place's first 2, the country
        street, _, rest = value.partition("|")
        place, _, country = rest.partition("|")
        return f"{street[:3]}***|{place[:2]}***|{country}"
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
    postal_address: str | None = None,
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
    add(SignalKind.ADDRESS, postal_address)
    return found
