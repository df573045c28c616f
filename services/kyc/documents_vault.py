"""Where KYC documents' bytes live: the configured object store and key ring, as one `Vault` per runtime.

Object names are `kyc/<player id>/<document id>/<key id>`: the key id in the name means re-encrypting a
file (rotation) writes a new object beside the old one, and the row is switched to it in a transaction,
so a crash at any step leaves the row naming an object that opens. What a crash can leave behind is an
object no row names (an upload whose row never committed, a rotation's old or half-done object):
`sweep` deletes those once they are older than a grace period (`croupier kyc sweep`).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import select

from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.logging import get_logger
from core.runtime import Runtime
from core.settings import Settings
from core.storage import ObjectStore, StorageUnavailable, store_for
from core.storage.sealing import BadKeyRing, KeyRing, new_key
from models.kyc_documents import KycDocument

log = get_logger(__name__)
PREFIX = "kyc"
DEV_KEY_FILE = "kyc-document-keys.json"


class StorageDown(DomainError):
    code = ErrorCode.DOCUMENT_STORAGE_UNAVAILABLE


@dataclass(frozen=True)
class Vault:
    store: ObjectStore
    keys: KeyRing

    @staticmethod
    def object_name(player_id: uuid.UUID, document_id: uuid.UUID, key_id: str) -> str:
        return f"{PREFIX}/{player_id}/{document_id}/{key_id.lower()}"

    async def put(self, player_id: uuid.UUID, document_id: uuid.UUID, content: bytes) -> tuple[str, str]:
        """Seal and store `content`; returns (object name, key id)."""
        sealed = self.keys.seal(content, associated_data(document_id))
        name = self.object_name(player_id, document_id, self.keys.active)
        try:
            await self.store.put(name, sealed)
        except StorageUnavailable as exc:
            log.warning("kyc_storage_unavailable", operation="put", error=str(exc))
            raise StorageDown("The document store is unavailable; try again later.") from exc
        return name, self.keys.active

    async def discard(self, name: str) -> None:
        """Best effort: an object left behind is the sweeper's."""
        try:
            await self.store.delete(name)
        except StorageUnavailable as exc:
            log.warning("kyc_storage_orphan", object=name, error=str(exc))


def associated_data(document_id: uuid.UUID) -> bytes:
    return b"kyc-document:" + str(document_id).encode()


_vaults: dict[tuple[object, ...], Vault] = {}


def vault_of(rt: Runtime) -> Vault:
    """The vault the settings describe (built once per configuration: a boto3 client is not free)."""
    settings = rt.settings
    config = (
        settings.kyc_document_storage,
        settings.s3_endpoint_url,
        str(settings.data_dir),
        tuple(sorted(settings.kyc_document_keys.items())),
        settings.kyc_document_active_key,
        settings.is_production,
    )
    vault = _vaults.get(config)
    if vault is None:
        location = settings.kyc_document_storage or str(settings.data_dir / "kyc-documents")
        vault = _vaults[config] = Vault(store_for(location, endpoint_url=settings.s3_endpoint_url), key_ring(settings))
    return vault


def key_ring(settings: Settings) -> KeyRing:
    if settings.kyc_document_keys:
        try:
            return KeyRing.parse(settings.kyc_document_keys, settings.kyc_document_active_key)
        except BadKeyRing as exc:
            raise StorageDown(f"KYC_DOCUMENT_KEYS: {exc}") from exc
    if settings.is_production:
        raise StorageDown("KYC_DOCUMENT_KEYS is not set: production stores no document unencrypted or with a dev key.")
    return _development_ring(settings.data_dir / DEV_KEY_FILE)


def _development_ring(path: Path) -> KeyRing:
    """One key made on first use and kept beside the other development data (never in production)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        partial.write_text(json.dumps({"active": "dev1", "keys": {"dev1": new_key()}}))
        partial.chmod(0o600)
        try:
            partial.rename(path) if not path.exists() else partial.unlink()
        except OSError:
            partial.unlink(missing_ok=True)
    stored = json.loads(path.read_text())
    return KeyRing.parse(stored["keys"], stored["active"])


@dataclass(frozen=True)
class SweepReport:
    checked: int
    deleted: list[str]


async def sweep(rt: Runtime, *, older_than: timedelta = timedelta(hours=1), dry_run: bool = False) -> SweepReport:
    """Delete the objects no document row names, older than `older_than` (younger ones may belong to an
    upload or a rotation still under way)."""
    vault = vault_of(rt)
    objects = await asyncio.to_thread(lambda: list(vault.store.list(PREFIX)))
    cutoff: datetime = clock.now() - older_than
    async with rt.database.session() as db:
        named = set((await db.scalars(select(KycDocument.object_key))).all())
    orphans = [o.name for o in objects if o.name not in named and o.modified_at < cutoff]
    if not dry_run:
        for name in orphans:
            await vault.store.delete(name)
    return SweepReport(len(objects), orphans)
