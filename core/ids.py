"""Time-ordered identifiers (UUIDv7): index-friendly and sortable by creation."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Collection

from uuid6 import uuid7


def new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid7().bytes)


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


def uuid_of(value: str, types: Collection[str]) -> uuid.UUID | None:
    """The UUID in `value`: a bare one, or a Relay global id (base64 of `Type:uuid`) of one of `types`."""
    raw = parse_uuid(value)
    if raw is not None:
        return raw
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, _, node_id = decoded.partition(":")
    return parse_uuid(node_id) if type_name in types else None
