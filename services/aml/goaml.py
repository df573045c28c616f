"""A SAR/STR draft as a goAML `report` (the UNODC format), for the FIU named in goaml.toml.

The draft is built from what the case holds: the reporting MLRO, the subject (the player, as a person),
the case's payments as transactions (an STR) or, with none, the subject's activity (a SAR), the reason
and action the MLRO wrote, and the report indicators of the case type. Names go through `latin`, the
FIU's character rule; amounts are decimal strings in the FIU's local currency. `goaml_schema.problems`
decides whether the result is valid: this module only builds.
"""

from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from anyascii import anyascii

from core.money import currency as currency_info

PROFILE_FILE = Path(__file__).with_name("goaml.toml")
COMMENT_LIMIT = 4000  # the FIU's comments_type takes more; a draft's narrative is the MLRO's to finish
# What XML 1.0 cannot hold (its `Char` production): control characters pasted into a summary or a reason are
# dropped, or the draft would not even parse.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@cache
def profile() -> dict[str, Any]:
    with PROFILE_FILE.open("rb") as f:
        return tomllib.load(f)


def latin(text: str | None, *, fallback: str = "Unknown", limit: int = 100) -> str:
    """A name within the FIU's characters: transliterated (Cyrillic, Greek, Arabic, Chinese, accents), then
    anything still outside the rule dropped; `fallback` when nothing is left (names are required)."""
    allowed = re.compile(f"[^{profile()['fiu']['name_characters']}]")
    ascii_text = anyascii(text or "").replace("`", "'")
    cleaned = " ".join(allowed.sub("", ascii_text).split())[:limit].strip()
    return cleaned or fallback


@dataclass(frozen=True)
class Reporter:
    first_name: str
    last_name: str
    email: str | None


@dataclass(frozen=True)
class Subject:
    player_id: str
    first_name: str | None
    last_name: str | None
    birthdate: date
    country: str
    email: str | None


@dataclass(frozen=True)
class ReportedPayment:
    payment_id: str
    kind: str  # deposit | withdrawal
    amount: int  # minor units of `currency`
    currency: str
    amount_local: int  # minor units of the FIU's local currency
    method: str
    at: datetime


@dataclass(frozen=True)
class SarDraft:
    case_id: str
    submitted_at: datetime
    reporter: Reporter
    subject: Subject
    reason: str
    action: str
    payments: Sequence[ReportedPayment]
    indicators: Sequence[str]
    rentity_id: int
    rentity_branch: str

    @property
    def report_code(self) -> str:
        return "STR" if self.payments else "SAR"


def _sql_date(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    return f"{value.isoformat()}T00:00:00"


def _decimal(minor: int, code: str) -> str:
    exponent = currency_info(code).exponent
    return str(Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = NOT_XML.sub("", text)
    return child


def _person(parent: ET.Element, tag: str, subject: Subject) -> None:
    person = _add(parent, tag)
    _add(person, "first_name", latin(subject.first_name))
    _add(person, "last_name", latin(subject.last_name))
    _add(person, "birthdate", _sql_date(subject.birthdate))
    _add(person, "nationality1", subject.country)
    _add(person, "residence", subject.country)
    _add(person, "comments", f"Player account {subject.player_id}")


def _transaction(report: ET.Element, payment: ReportedPayment, subject: Subject, entity: dict[str, Any]) -> None:
    t = _add(report, "transaction")
    _add(t, "transactionnumber", payment.payment_id)
    _add(t, "transaction_location", entity["transaction_location"])
    amount = f"{_decimal(payment.amount, payment.currency)} {payment.currency}"
    _add(t, "transaction_description", f"{payment.kind.capitalize()} of {amount} by {payment.method}")
    _add(t, "date_transaction", _sql_date(payment.at))
    _add(t, "transmode_code", entity["transmode_code"])
    _add(t, "transmode_comment", entity["transmode_comment"])
    _add(t, "amount_local", _decimal(payment.amount_local, entity["currency_code_local"]))
    parties = _add(t, "involved_parties")
    party = _add(parties, "party")
    _add(party, "role", "ACCNT")
    _person(party, "person", subject)
    _add(party, "funds_code", entity["funds_code"])
    _add(party, "country", subject.country)


def build(draft: SarDraft) -> bytes:
    """The goAML XML of the draft (UTF-8, no namespace: the FIU's schema has none)."""
    config = profile()
    entity, location = config["entity"], config["location"]
    report = ET.Element("report")
    _add(report, "rentity_id", str(draft.rentity_id))
    _add(report, "rentity_branch", draft.rentity_branch)
    _add(report, "submission_code", entity["submission_code"])
    _add(report, "report_code", draft.report_code)
    _add(report, "entity_reference", f"AML-{draft.case_id}")
    _add(report, "submission_date", _sql_date(draft.submitted_at))
    _add(report, "currency_code_local", entity["currency_code_local"])
    reporter = _add(report, "reporting_person")
    _add(reporter, "first_name", latin(draft.reporter.first_name))
    _add(reporter, "last_name", latin(draft.reporter.last_name))
    if draft.reporter.email:
        _add(reporter, "email", draft.reporter.email)
    address = _add(report, "location")
    for tag in ("address_type", "address", "city", "country_code", "state"):
        _add(address, tag, str(location[tag]))
    _add(report, "reason", draft.reason[:COMMENT_LIMIT])
    _add(report, "action", draft.action[:COMMENT_LIMIT])
    for payment in draft.payments:
        _transaction(report, payment, draft.subject, entity)
    activity = _add(report, "activity")
    parties = _add(activity, "report_parties")
    party = _add(parties, "report_party")
    _person(party, "person", draft.subject)
    _add(party, "reason", draft.reason[:COMMENT_LIMIT])
    indicators = _add(report, "report_indicators")
    for code in dict.fromkeys([*config["fiu"]["indicators"], *draft.indicators]):
        _add(indicators, "indicator", code)
    ET.indent(report)
    document: bytes = ET.tostring(report, encoding="utf-8", xml_declaration=True)
    return document
