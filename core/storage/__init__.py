"""Pluggable object storage: a local folder (the default) or any S3-compatible bucket (boto3), behind one
small interface, and the sealing (AES-GCM) of what is stored (core/storage/sealing.py).

Names are relative paths of safe characters (`a-z0-9`, `-`, `_`, `.`, `/`); a store never sees a name
from a client. Every call is blocking I/O run in a thread, so the event loop never waits on a disk or a
bucket. A store failure is `StorageUnavailable` (the callers map it to a coded refusal, never a 500).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

_NAME = re.compile(r"[a-z0-9_][a-z0-9_.\-]*(/[a-z0-9_][a-z0-9_.\-]*)*")


class StorageUnavailable(Exception):
    """The store could not be reached or refused the operation."""


class ObjectMissing(StorageUnavailable):
    """No object of that name."""


@dataclass(frozen=True)
class StoredObject:
    name: str
    modified_at: datetime


class ObjectStore(Protocol):
    backend: str  # "file" or "s3": what a row records about where its object lives

    async def put(self, name: str, data: bytes) -> None: ...

    async def get(self, name: str) -> bytes: ...

    async def delete(self, name: str) -> None:
        """Remove the object; a missing one is not an error (deletes are retried by sweeps)."""

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Every object under `prefix` (blocking: call it from a thread)."""


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"not a safe object name: {name!r}")
    return name


def store_for(location: str, *, endpoint_url: str | None = None) -> ObjectStore:
    """`s3://bucket/prefix` or a folder (a path, or `file:///path`)."""
    if location.startswith("s3://"):
        from core.storage.s3 import S3Store

        parsed = urlparse(location)
        if not parsed.netloc:
            raise ValueError(f"{location!r} names no bucket (s3://bucket/prefix)")
        return S3Store(parsed.netloc, parsed.path.strip("/"), endpoint_url=endpoint_url)
    if "://" in location and not location.startswith("file://"):
        raise ValueError(f"{location!r}: a folder or s3://bucket/prefix")
    from core.storage.local import LocalStore

    return LocalStore(Path(urlparse(location).path if location.startswith("file://") else location))
