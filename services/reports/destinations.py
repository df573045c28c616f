"""Where scheduled exports go: a folder, or an S3-compatible bucket (`s3://bucket/prefix`)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from core.errors import DomainError, ErrorCode


class BadDestination(DomainError):
    code = ErrorCode.INVALID_INPUT


@dataclass(frozen=True)
class Destination:
    """`s3://bucket/prefix` or a folder (a path, or `file:///path`)."""

    url: str

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")

    def check(self) -> None:
        if self.is_s3:
            parsed = urlparse(self.url)
            if not parsed.netloc:
                raise BadDestination(f"{self.url!r} names no bucket (s3://bucket/prefix).", field="destination")
        elif "://" in self.url and not self.url.startswith("file://"):
            raise BadDestination(f"{self.url!r}: exports go to a folder or s3://bucket/prefix.", field="destination")
        elif self.url.startswith("file://") and urlparse(self.url).netloc not in ("", "localhost"):
            # file://exports/daily is the folder /daily on host "exports", not ./exports/daily
            raise BadDestination(f"{self.url!r}: a folder URL is file:///absolute/path.", field="destination")

    async def put(self, name: str, content: bytes, *, endpoint_url: str | None = None) -> str:
        """Store `content` as `name` under the destination; returns where it went."""
        self.check()
        if self.is_s3:
            return await asyncio.to_thread(self._put_s3, name, content, endpoint_url)
        return await asyncio.to_thread(self._put_file, name, content)

    def _put_file(self, name: str, content: bytes) -> str:
        folder = Path(urlparse(self.url).path if self.url.startswith("file://") else self.url)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        partial = target.with_name(f".{name}.partial")
        partial.write_bytes(content)
        os.replace(partial, target)  # a reader never sees half a file
        return str(target)

    def _put_s3(self, name: str, content: bytes, endpoint_url: str | None) -> str:
        import boto3

        parsed = urlparse(self.url)
        key = f"{parsed.path.strip('/')}/{name}".lstrip("/")
        boto3.client("s3", endpoint_url=endpoint_url).put_object(Bucket=parsed.netloc, Key=key, Body=content)
        return f"s3://{parsed.netloc}/{key}"
