"""The event catalogue: every type of business fact the platform emits, with its version and the JSON
Schema of its data (docs/events.md describes them; docs/events/*.json are the published schemas,
generated from here by `croupier events schemas` and checked in: a test fails when they drift).

An event travels in a CloudEvents-style envelope (`envelope`): `id` (the outbox sequence number, as a
string), `type`, `source`, `time`, `subject`, `brand`, `schemaVersion`, `data`. `emit` refuses a type
that is not in the catalogue; with `validate_on_emit` (the test suite sets it) it also refuses data
that its schema rejects, so every event a test causes is checked against the published contract.

Rules every type follows: amounts are integers in minor units with their currency beside them; ids
are strings; no personal data (names, e-mail, phone, addresses, IP addresses) — events leave the
platform. A change that breaks a consumer (a field removed or retyped) is a new version of the type.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from core.catalogue import (
    affiliate_fraud,
    affiliate_plans,
    affiliate_postbacks,
    affiliate_runs,
    affiliates,
    aml,
    aml_cases,
    aml_monitoring,
    bonuses,
    cashier,
    closed_loop,
    crypto,
    disputes,
    free_rounds,
    games,
    jackpots,
    kyc,
    kyc_documents,
    money,
    payment_routing,
    players,
    privacy,
    responsible_gambling,
    risk,
    tournaments,
)
from core.catalogue.fragments import EventType

__all__ = ["CATALOGUE", "EventType", "UnknownEventType", "envelope", "schema_document"]

SOURCE = "urn:croupier"
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "events"
SCHEMA_BASE = "https://croupier.dev/events/"

CATALOGUE: dict[str, EventType] = {
    t.name: t
    for t in (
        *money.TYPES,
        *players.TYPES,
        *cashier.TYPES,
        *crypto.TYPES,
        *disputes.TYPES,
        *closed_loop.TYPES,
        *bonuses.TYPES,
        *responsible_gambling.TYPES,
        *games.TYPES,
        *free_rounds.TYPES,
        *kyc.TYPES,
        *kyc_documents.TYPES,
        *aml_cases.TYPES,
        *aml.TYPES,
        *aml_monitoring.TYPES,
        *privacy.TYPES,
        *risk.TYPES,
        *payment_routing.TYPES,
        *tournaments.TYPES,
        *jackpots.TYPES,
        *affiliate_fraud.TYPES,
        *affiliate_runs.TYPES,
        *affiliates.TYPES,
        *affiliate_plans.TYPES,
        *affiliate_postbacks.TYPES,
    )
}

validate_on_emit = False  # the test suite turns it on: every emitted event is checked against its schema


class UnknownEventType(ValueError):
    pass


class InvalidEvent(ValueError):
    pass


def event_type(name: str) -> EventType:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownEventType(f"{name!r} is not in the event catalogue (core/catalogue)") from None


def envelope(
    *,
    event_id: int,
    type_: str,
    time: datetime,
    subject: str,
    brand: str | None,
    schema_version: int,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The event as it leaves the outbox (the stream, NATS JetStream, replays)."""
    return {
        "specversion": "1.0",
        "id": str(event_id),
        "type": type_,
        "source": SOURCE,
        "time": time.isoformat(),
        "subject": subject,
        "brand": brand,
        "schemaVersion": schema_version,
        "datacontenttype": "application/json",
        "data": data,
    }


def schema_document(t: EventType) -> dict[str, Any]:
    """The JSON Schema of a whole event of type `t`: the envelope with `data` as the type defines it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}{t.name}.v{t.version}.json",
        "title": t.name,
        "description": t.summary,
        "type": "object",
        "required": ["specversion", "id", "type", "source", "time", "subject", "schemaVersion", "data"],
        "additionalProperties": False,
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "pattern": "^[0-9]+$", "description": "the outbox sequence number"},
            "type": {"const": t.name},
            "source": {"type": "string"},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string", "description": "what the event is about, e.g. player:<id>"},
            "brand": {"type": ["string", "null"], "format": "uuid"},
            "schemaVersion": {"const": t.version},
            "datacontenttype": {"const": "application/json"},
            "data": t.data,
        },
    }


def schema_file(t: EventType) -> Path:
    return SCHEMA_DIR / f"{t.name}.v{t.version}.json"


def schema_text(t: EventType) -> str:
    return json.dumps(schema_document(t), indent=2, sort_keys=True) + "\n"


@functools.cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    document = schema_document(CATALOGUE[name])
    return Draft202012Validator(document, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(event: dict[str, Any]) -> list[str]:
    """What is wrong with an enveloped event by its type's schema (empty: valid)."""
    name = event.get("type")
    if not isinstance(name, str) or name not in CATALOGUE:
        return [f"unknown type {name!r}"]
    return [f"{'/'.join(map(str, e.absolute_path)) or '.'}: {e.message}" for e in _validator(name).iter_errors(event)]


def check_data(name: str, data: dict[str, Any]) -> EventType:
    """The type of an event about to be emitted; with `validate_on_emit`, its data checked too."""
    t = event_type(name)
    if validate_on_emit:
        sample = envelope(
            event_id=0,
            type_=name,
            time=datetime.fromisoformat("2000-01-01T00:00:00+00:00"),
            subject="-",
            brand=None,
            schema_version=t.version,
            data=data,
        )
        found = problems(json.loads(json.dumps(sample)))  # as a consumer will read it (JSON types only)
        if found:
            raise InvalidEvent(f"{name} does not match its schema: {'; '.join(found)}")
    return t
