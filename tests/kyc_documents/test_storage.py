"""Where the bytes live: an S3-compatible bucket (moto's real HTTP server, started here) as well as a folder,
always sealed with AES-GCM; keys rotate with `croupier kyc rotate-keys` (resumable, idempotent) while every
key still in the ring reads; `croupier kyc sweep` removes objects no document names."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from core import processes
from core.clock import clock
from core.storage.sealing import KeyRing, new_key
from services.kyc.documents_vault import sweep
from tests.cli_process import run_async
from tests.conftest import S3_CREDENTIALS
from tests.kyc_documents.conftest import QUEUE, document_rows, pdf, png, stored_objects, upload


@pytest.fixture
def settings_back(rt: Any) -> Iterator[Any]:
    """The document settings a test changes, restored after it."""
    settings = rt.settings
    names = ("kyc_document_storage", "s3_endpoint_url", "kyc_document_keys", "kyc_document_active_key")
    saved = {name: getattr(settings, name) for name in names}
    yield settings
    for name, value in saved.items():
        setattr(settings, name, value)


async def content_of(gql: Any, client: Any, token: str) -> list[tuple[int, bytes]]:
    """What a KYC officer's content links serve, for every pending document."""
    edges = (await gql(QUEUE, token=token))["data"]["kycDocuments"]["edges"]
    answers = [await client.get(edge["node"]["contentUrl"]) for edge in edges]
    return [(answer.status_code, answer.content) for answer in answers]


async def test_documents_in_an_s3_bucket_are_sealed_and_read_back(
    rt: Any, client: Any, gql: Any, make_player: Any, make_staff: Any, s3_server: str, settings_back: Any
) -> None:
    bucket = boto3.client("s3", endpoint_url=s3_server)
    bucket.create_bucket(Bucket="kyc")
    settings_back.kyc_document_storage, settings_back.s3_endpoint_url = "s3://kyc/documents", s3_server
    player = await make_player()
    content = pdf(pages=2)
    document = (await upload(client, player.token, content))["document"]
    [row] = await document_rows(rt)
    assert row.storage_backend == "s3"
    [listed] = bucket.list_objects_v2(Bucket="kyc")["Contents"]
    assert listed["Key"] == f"documents/{row.object_key}"
    sealed = bucket.get_object(Bucket="kyc", Key=listed["Key"])["Body"].read()
    assert sealed.startswith(b"CKS1")
    assert b"%PDF" not in sealed
    assert stored_objects(rt) == []  # nothing in the local folder
    assert (await upload(client, player.token, content))["document"]["id"] == document["id"]
    assert len(bucket.list_objects_v2(Bucket="kyc")["Contents"]) == 1
    officer = await make_staff("kyc_officer")
    assert await content_of(gql, client, officer.token) == [(200, content)]
    # An object no row names (a crash between storing and committing) is swept once old enough.
    orphan = f"documents/kyc/{player.uuid}/00000000-0000-0000-0000-000000000000/dev1"
    bucket.put_object(Bucket="kyc", Key=orphan, Body=b"CKS1 left behind")
    assert (await sweep(rt)).deleted == []  # too young: it may be an upload under way
    clock.advance(timedelta(hours=2))
    report = await sweep(rt)
    assert report.deleted == [orphan.removeprefix("documents/")]
    assert [o["Key"] for o in bucket.list_objects_v2(Bucket="kyc")["Contents"]] == [listed["Key"]]


async def test_an_unreachable_bucket_refuses_the_upload_with_a_code(
    rt: Any, client: Any, make_player: Any, settings_back: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    settings_back.kyc_document_storage = "s3://kyc/documents"
    settings_back.s3_endpoint_url = f"http://127.0.0.1:{processes.free_port()}"  # nobody listens
    player = await make_player()
    payload = await upload(client, player.token, png())
    assert [e["code"] for e in payload["errors"]] == ["DOCUMENT_STORAGE_UNAVAILABLE"]
    assert await document_rows(rt) == []


async def croupier_kyc(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return await run_async("kyc", *args, env={**os.environ, **env})  # a warm forked CLI (tests/cli_process.py)


async def test_rotation_moves_every_document_to_the_active_key_resumably(
    rt: Any, client: Any, gql: Any, make_player: Any, make_staff: Any, settings_back: Any
) -> None:
    old, new = new_key(), new_key()
    settings_back.kyc_document_keys, settings_back.kyc_document_active_key = {"k1": old}, "k1"
    player = await make_player()
    files = [png(shade=1), pdf(2), png(shade=3)]
    for content in files:
        await upload(client, player.token, content)
    assert {row.key_id for row in await document_rows(rt)} == {"k1"}
    officer = await make_staff("kyc_officer")

    # The new key joins the ring as the active one: new files use it, old ones still read.
    settings_back.kyc_document_keys, settings_back.kyc_document_active_key = {"k1": old, "k2": new}, "k2"
    served = await content_of(gql, client, officer.token)
    assert sorted(body for _, body in served) == sorted(files)

    # A run stopped after its first document (a crash, an operator's ^C) ...
    from services.kyc.documents_rotation import RotationReport, rotate

    class Stopped(Exception):
        pass

    def stop(report: RotationReport) -> None:
        raise Stopped

    with pytest.raises(Stopped):
        await rotate(rt, progress=stop)
    assert sorted(row.key_id for row in await document_rows(rt)) == ["k1", "k1", "k2"]
    # ... is finished by running the command again, which reports its progress; a third run finds nothing.
    ring = {"KYC_DOCUMENT_KEYS": json.dumps({"k1": old, "k2": new}), "KYC_DOCUMENT_ACTIVE_KEY": "k2"}
    done = await croupier_kyc("rotate-keys", "--batch", "1", env=ring)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "2/2" in done.stdout
    assert "2 document(s) re-encrypted, 0 failed, 0 left" in done.stdout
    again = await croupier_kyc("rotate-keys", env=ring)
    assert "0 document(s) re-encrypted, 0 failed, 0 left" in again.stdout, again.stdout
    rows = await document_rows(rt)
    assert {row.key_id for row in rows} == {"k2"}
    objects = stored_objects(rt)
    assert len(objects) == 3  # the old objects are gone
    assert {KeyRing.key_of(path.read_bytes()) for path in objects} == {"k2"}
    assert all(path.name == "k2" for path in objects)

    # The old key can leave the ring: everything reads with the new one alone.
    settings_back.kyc_document_keys, settings_back.kyc_document_active_key = {"k2": new}, None
    assert sorted(body for _, body in await content_of(gql, client, officer.token)) == sorted(files)
    # A ring without the file's key refuses to serve it (never garbage).
    settings_back.kyc_document_keys = {"k1": old}
    assert {status for status, _ in await content_of(gql, client, officer.token)} == {409}
