"""What a file is, from its bytes alone; racing uploads of the same bytes; production without a key ring."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.settings import Settings
from services.kyc.documents_intake import sniff
from services.kyc.documents_vault import StorageDown, key_ring
from tests.kyc_documents.conftest import document_rows, events_of, pdf, png, stored_objects, upload


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "image/heic"),
        (b"GIF89a", None),
        (b"\x00\x00\x00\x18ftypisom", None),  # an MP4 video
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),  # scriptable: never accepted
        (b" %PDF-1.7", None),  # the signature must open the file
    ],
)
def test_the_type_is_read_from_the_signature(head: bytes, kind: str | None) -> None:
    assert sniff(head + b"\x00" * 32) == kind


async def test_racing_uploads_of_the_same_bytes_make_one_document(rt: Any, client: Any, make_player: Any) -> None:
    player = await make_player()
    content = pdf(3)
    answers = await asyncio.gather(*(upload(client, player.token, content) for _ in range(4)))
    assert all(answer["errors"] == [] for answer in answers)
    assert len({answer["document"]["id"] for answer in answers}) == 1
    assert len(await document_rows(rt)) == 1
    assert len(stored_objects(rt)) == 1  # the losers' objects are removed
    assert len(await events_of(rt, "kyc.document_uploaded")) == 1
    assert (await upload(client, player.token, png()))["document"]["id"] != answers[0]["document"]["id"]


def test_production_stores_nothing_without_a_key_ring(tmp_path: Any) -> None:
    production = Settings(env="production", data_dir=tmp_path)
    with pytest.raises(StorageDown, match="KYC_DOCUMENT_KEYS"):
        key_ring(production)
    assert list(tmp_path.iterdir()) == []  # no development key was made
    broken = Settings(env="production", data_dir=tmp_path, kyc_document_keys={"k1": "dG9vIHNob3J0"})
    with pytest.raises(StorageDown, match="not 32"):
        key_ring(broken)
