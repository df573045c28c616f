"""Objects as files under one folder. A write goes to a hidden partial file first and is renamed into
place, so a reader (or a crash) never leaves half an object under its name."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from core.storage import ObjectMissing, StorageUnavailable, StoredObject, check_name

PARTIAL_PREFIX = ".partial-"


class LocalStore:
    backend = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        return self.folder / check_name(name)

    async def put(self, name: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, self._path(name), data)

    async def get(self, name: str) -> bytes:
        return await asyncio.to_thread(self._get, self._path(name))

    async def delete(self, name: str) -> None:
        path = self._path(name)
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot delete {name}: {exc.strerror}") from exc

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        root = self.folder / prefix if prefix else self.folder
        if not root.is_dir():
            return
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith(PARTIAL_PREFIX):
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                yield StoredObject(path.relative_to(self.folder).as_posix(), modified)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(PARTIAL_PREFIX + path.name)
            with open(partial, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())  # the row that names it commits after this returns
            os.replace(partial, path)
        except OSError as exc:
            raise StorageUnavailable(f"cannot write {path.name}: {exc.strerror}") from exc

    @staticmethod
    def _get(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise ObjectMissing(f"no object {path.name}") from exc
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {path.name}: {exc.strerror}") from exc
