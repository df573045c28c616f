"""One person across the operator's brands: the match keys of an account, and the accounts that match.

An operator's time-out or self-exclusion covers every brand it runs (UKGC, Spelinspektionen and the
Danish and Norwegian regulators expect it across the licence). A person is recognised by any of:
- email: trimmed and lower-cased, a `+tag` dropped from the local part (every large mailbox provider
  delivers `ann+casino@x` to `ann@x`), and for Gmail (`gmail.com`, `googlemail.com`) the dots of the
  local part dropped too, since Gmail ignores them. Dots elsewhere are kept: other providers treat
  `a.nn@` and `ann@` as two mailboxes;
- name and date of birth: first and last name both present, accents and case folded, letters and
  digits only (so "Anne-Marie O'Neil" = "anne marie oneil"), with the same date of birth;
- phone: digits with the country calling code ("+44 7700 900123", "+44 (0)7700 900123", "0044 7700900123"
  and, for a GB player, "07700 900123" are one number); a number of fewer than 8 digits matches nothing.
(Once KYC exists, the verified identity document is a fourth key, added here.)
Matches are followed through: an account that matches any account of the person is theirs as well.

The keys are stored on the player (`match_email`, `match_name` + `date_of_birth`, `match_phone`, each
indexed by migration 0016) and kept in step wherever those details are set, so finding the matches is
three index probes per round (an account found brings its own keys: `matching_ids`), never a scan
of players.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from models.players import Player

GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
MIN_PHONE_DIGITS = 8
MAX_ROUNDS = 10  # links followed from one account to the next (a person's accounts are a handful)
# Calling codes of the countries the brands serve; a national number ("0…") of another country keeps
# its digits as given (it still matches the same number entered the same way).
CALLING_CODES = {
    "AT": "43", "BE": "32", "CA": "1", "CH": "41", "CY": "357", "CZ": "420", "DE": "49", "DK": "45",
    "EE": "372", "ES": "34", "FI": "358", "FR": "33", "GB": "44", "GR": "30", "HU": "36", "IE": "353",
    "IS": "354", "IT": "39", "LT": "370", "LU": "352", "LV": "371", "MT": "356", "NL": "31", "NO": "47",
    "NZ": "64", "PL": "48", "PT": "351", "RO": "40", "SE": "46", "SI": "386", "SK": "421", "US": "1",
}  # fmt: skip
# Where the leading 0 is part of the number itself, not a trunk prefix dropped from abroad.
KEEPS_LEADING_ZERO = frozenset({"IT"})


def email_key(email: str) -> str:
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return email.strip().lower()
    local = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), GMAIL_DOMAINS[0]
    return f"{local}@{domain}"


def _folded(value: str | None) -> str:
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


def name_key(first_name: str | None, last_name: str | None) -> str | None:
    first, last = _folded(first_name), _folded(last_name)
    return f"{first}|{last}"[:220] if first and last else None


# Calling codes longest first, to find the one an international number starts with.
_KNOWN_CODES = sorted(set(CALLING_CODES.values()), key=len, reverse=True)
_CODES_KEEPING_ZERO = frozenset(CALLING_CODES[c] for c in KEEPS_LEADING_ZERO)


def _without_trunk_zero(number: str) -> str:
    """`+44 (0)7700 900123`: the national trunk 0 written after a known calling code is not dialled."""
    code = next((c for c in _KNOWN_CODES if number.startswith(c)), None)
    if code is None or code in _CODES_KEEPING_ZERO or not number[len(code) :].startswith("0"):
        return number
    return code + number[len(code) + 1 :]


def phone_key(phone: str | None, country: str) -> str | None:
    raw = (phone or "").strip()
    digits = re.sub(r"[^0-9]", "", raw)
    if raw.startswith("+"):
        number = _without_trunk_zero(digits)
    elif digits.startswith("00"):
        number = _without_trunk_zero(digits[2:])
    elif country.upper() in CALLING_CODES:
        national = digits if country.upper() in KEEPS_LEADING_ZERO else digits.removeprefix("0")
        number = CALLING_CODES[country.upper()] + national
    else:
        number = digits
    return number[:32] if len(number) >= MIN_PHONE_DIGITS else None


@dataclass(frozen=True)
class Identity:
    """What identifies a person across brands: the match keys of one account, or of a registration form."""

    email: str | None
    name: str | None
    date_of_birth: date
    phone: str | None

    @classmethod
    def of(
        cls,
        *,
        email: str,
        first_name: str | None,
        last_name: str | None,
        date_of_birth: date,
        phone: str | None,
        country: str,
    ) -> Identity:
        return cls(email_key(email), name_key(first_name, last_name), date_of_birth, phone_key(phone, country))

    @classmethod
    def of_player(cls, player: Player) -> Identity:
        return cls.of(
            email=player.email,
            first_name=player.first_name,
            last_name=player.last_name,
            date_of_birth=player.date_of_birth,
            phone=player.phone,
            country=player.country,
        )


def store_keys(player: Player) -> None:
    """Set the player's match keys from their details (call wherever email, name, phone or birth date are set)."""
    identity = Identity.of_player(player)
    player.match_email, player.match_name, player.match_phone = identity.email, identity.name, identity.phone


def _conditions(identity: Identity) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if identity.email:
        found.append(col(Player.match_email) == identity.email)
    if identity.name:
        found.append(and_(col(Player.match_name) == identity.name, col(Player.date_of_birth) == identity.date_of_birth))
    if identity.phone:
        found.append(col(Player.match_phone) == identity.phone)
    return found


async def matching_ids(db: AsyncSession, identity: Identity, *, besides: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Every account of this person, in every brand (not `besides`, the account asking), ordered by id.

    Matching is followed through: an account that matches one of the person's accounts is theirs too (her
    royal account and her northstar account share a phone, her vega account has the northstar email), so
    an exclusion reaches all three at once, not the third only at its next login. Each round is one
    statement over the keys found in the last; the person's own accounts are few, so it ends quickly."""
    found: set[uuid.UUID] = set()
    frontier = [identity]
    for _ in range(MAX_ROUNDS):
        conditions = [condition for one in frontier for condition in _conditions(one)]
        if not conditions:
            break
        rows = (
            await db.execute(
                select(
                    col(Player.id),
                    col(Player.match_email),
                    col(Player.match_name),
                    col(Player.date_of_birth),
                    col(Player.match_phone),
                ).where(or_(*conditions), col(Player.id).not_in(list(found)) if found else true())
            )
        ).all()
        found.update(row.id for row in rows)
        frontier = [Identity(row.match_email, row.match_name, row.date_of_birth, row.match_phone) for row in rows]
    if besides is not None:
        found.discard(besides)
    return sorted(found)
