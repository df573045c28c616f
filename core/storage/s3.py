"""Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, moto's server in the tests) through boto3.
Credentials come from the usual AWS variables; `endpoint_url` points at a server other than AWS."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from core.storage import ObjectMissing, StorageUnavailable, StoredObject, check_name


class S3Store:
    backend = "s3"

    def __init__(self, bucket: str, prefix: str, *, endpoint_url: str | None = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix
        # Few retries, short time-outs: an upload waits on this, and a refusal beats a hung request.
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url, config=config)

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{check_name(name)}" if self.prefix else check_name(name)

    async def put(self, name: str, data: bytes) -> None:
        await asyncio.to_thread(self._call, "put_object", Bucket=self.bucket, Key=self._key(name), Body=data)

    async def get(self, name: str) -> bytes:
        answer = await asyncio.to_thread(self._call, "get_object", Bucket=self.bucket, Key=self._key(name))
        body: bytes = await asyncio.to_thread(answer["Body"].read)
        return body

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._call, "delete_object", Bucket=self.bucket, Key=self._key(name))

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        start = self._key(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        pages = self._call("get_paginator", "list_objects_v2").paginate(Bucket=self.bucket, Prefix=start)
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    yield StoredObject(item["Key"][strip:], item["LastModified"])
        except Exception as exc:
            raise StorageUnavailable(f"cannot list s3://{self.bucket}/{start}: {exc}") from exc

    def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(*args, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404"):
                raise ObjectMissing(f"no object {kwargs.get('Key')}") from exc
            raise StorageUnavailable(f"s3 {operation}: {code}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"s3 {operation}: {exc}") from exc
