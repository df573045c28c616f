"""Back-office player search: one box that finds a player by email, name, phone or id, as you type.

What the text looks like decides where it is looked for:
- a player's id (the Relay global id or the bare UUID): that player, exactly;
- text with an "@": an email prefix;
- a phone number (digits with "+", spaces, dashes, dots or brackets; at least 6 digits): the stored
  number's digits start with the typed ones (international form), or end with them once leading
  zeros are dropped (national form: "070 123 45 67" finds "+46 70 123 45 67");
- anything else: a name prefix (first or last name; two words: first and last name) or an email prefix.

Invariants:
- Each criterion needs permission to read the field it matches (a search on a field one may not
  read would reveal it a character at a time). The caller passes the fields the viewer may read;
  criteria on other fields are left out, and when none is left the search is refused.
- The brand scope is the list's (`readable_players`): a search never reaches another brand.
- Every criterion is an indexed prefix on a normalised expression (migration 0010), so a search
  stays an index lookup at a million players. The patterns are rendered into the SQL text
  (`literal_execute`): a prepared statement with `LIKE $1` may be planned once for any pattern, and
  such a generic plan cannot use a prefix index.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, String, and_, bindparam, func, or_
from sqlalchemy.orm import Mapped
from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.errors import DomainError, ErrorCode
from core.ids import uuid_of
from models.players import Player
from services.players import readable_players

MIN_PREFIX = 2  # one character matches a good part of every brand: no use to anyone typing
MIN_PHONE_DIGITS = 6
MAX_TEXT = 254
_PHONE_TEXT = re.compile(r"\+?[0-9 ()./-]+")


class SearchField(StrEnum):
    """What a search can match on; each needs permission to read the player field(s) behind it."""

    ID = "id"
    EMAIL = "email"
    NAME = "name"
    PHONE = "phone"


class SearchForbidden(DomainError):
    """The text can only match fields the viewer may not read."""

    code = ErrorCode.NOT_ALLOWED


@dataclass(frozen=True)
class Criteria:
    """How one search text is read (before permissions are applied)."""

    player_id: uuid.UUID | None = None
    email_prefix: str | None = None
    name_prefixes: tuple[str, ...] = ()
    phone_digits: str | None = None


def read_text(text: str) -> Criteria:
    """Decide where `text` is looked for (the module docstring's rules)."""
    text = " ".join(text.split())[:MAX_TEXT]
    player_id = uuid_of(text, ("Player",))
    if player_id is not None:
        return Criteria(player_id=player_id)
    if len(text) < MIN_PREFIX:
        raise DomainError(f"Type at least {MIN_PREFIX} characters.", field="filter.search")
    lowered = text.lower()
    if "@" in lowered:
        return Criteria(email_prefix=lowered)
    digits = re.sub(r"[^0-9]", "", text)
    if _PHONE_TEXT.fullmatch(text) and len(digits) >= MIN_PHONE_DIGITS:
        return Criteria(phone_digits=digits)
    words = tuple(lowered.split(" "))
    return Criteria(email_prefix=lowered if len(words) == 1 else None, name_prefixes=words[:2])


def _pattern(prefix: str) -> ColumnElement[str]:
    """`prefix%` with LIKE's wildcards escaped, rendered into the statement (see the docstring)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return bindparam(None, escaped + "%", type_=String, literal_execute=True)


def _starts(expression: ColumnElement[str] | Mapped[str], prefix: str) -> ColumnElement[bool]:
    return expression.like(_pattern(prefix), escape="\\")


def phone_digits() -> ColumnElement[str]:
    """The stored number's digits: the very expression migration 0010 indexes."""
    return func.regexp_replace(col(Player.phone), "[^0-9]", "", "g")


def _conditions(criteria: Criteria, readable: Collection[SearchField]) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if criteria.player_id is not None and SearchField.ID in readable:
        found.append(col(Player.id) == criteria.player_id)
    if criteria.email_prefix and SearchField.EMAIL in readable:
        found.append(_starts(col(Player.email), criteria.email_prefix))
    if criteria.name_prefixes and SearchField.NAME in readable:
        first, last = func.lower(col(Player.first_name)), func.lower(col(Player.last_name))
        if len(criteria.name_prefixes) == 1:
            (word,) = criteria.name_prefixes
            found.extend([_starts(first, word), _starts(last, word)])
        else:
            given, family = criteria.name_prefixes
            found.append(and_(_starts(first, given), _starts(last, family)))
    if criteria.phone_digits and SearchField.PHONE in readable:
        national = criteria.phone_digits.lstrip("0")
        found.append(_starts(phone_digits(), criteria.phone_digits))
        if len(national) >= MIN_PHONE_DIGITS:
            found.append(_starts(func.reverse(phone_digits()), national[::-1]))
    return found


def search(viewer: Viewer, text: str, readable: Collection[SearchField]) -> SelectOfScalar[Player]:
    """The players in the viewer's scope that `text` finds (paginate it like the player list)."""
    criteria = read_text(text)
    conditions = _conditions(criteria, readable)
    if not conditions:
        wanted = (
            "the player's id"
            if criteria.player_id
            else "email"
            if criteria.email_prefix and not criteria.name_prefixes
            else "phone"
            if criteria.phone_digits
            else "name or email"
        )
        raise SearchForbidden(f"Your role may not search players by {wanted}.", field="filter.search")
    return readable_players(viewer).where(or_(*conditions))
