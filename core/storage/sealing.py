"""Encryption at rest: AES-256-GCM with a key ring (key id -> 32-byte key, one active).

A sealed object is `CKS1`, the key id's length (one byte) and the key id, a 12-byte random nonce, then
the ciphertext with GCM's 16-byte tag. The caller's associated data (a document's id) is authenticated
with it, so an object moved under another document's name, or any byte changed, fails to open
(`SealBroken`). Opening needs the key the object names to be still in the ring; sealing always uses the
active key, so rotation is: seal again with the new active key, then drop the old key once nothing
names it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"CKS1"
NONCE_BYTES = 12
KEY_BYTES = 32


class SealBroken(Exception):
    """The object was altered, belongs to something else, or names a key the ring no longer holds."""


class BadKeyRing(ValueError):
    pass


@dataclass(frozen=True)
class KeyRing:
    keys: Mapping[str, bytes]
    active: str

    @classmethod
    def parse(cls, encoded: Mapping[str, str], active: str | None) -> KeyRing:
        """From settings: key id -> base64 of 32 bytes; `active` names one of them (a lone key needs no name)."""
        keys: dict[str, bytes] = {}
        for key_id, value in encoded.items():
            if not key_id or len(key_id.encode()) > 64 or not key_id.replace("-", "").replace("_", "").isalnum():
                raise BadKeyRing(f"key id {key_id!r}: 1-64 letters, digits, '-' or '_'")
            try:
                raw = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise BadKeyRing(f"key {key_id!r} is not base64") from exc
            if len(raw) != KEY_BYTES:
                raise BadKeyRing(f"key {key_id!r} is {len(raw)} bytes, not {KEY_BYTES}")
            keys[key_id] = raw
        if active is None and len(keys) == 1:
            active = next(iter(keys))
        if active is None or active not in keys:
            raise BadKeyRing(f"the active key {active!r} is not in the ring {sorted(keys)}")
        return cls(keys, active)

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        key_id = self.active.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active]).encrypt(nonce, plaintext, associated)
        return MAGIC + bytes([len(key_id)]) + key_id + nonce + sealed

    def open(self, blob: bytes, associated: bytes) -> bytes:
        key_id, nonce, sealed = self._parts(blob)
        key = self.keys.get(key_id)
        if key is None:
            raise SealBroken(f"sealed with key {key_id!r}, which is no longer in the ring")
        try:
            return AESGCM(key).decrypt(nonce, sealed, associated)
        except InvalidTag as exc:
            raise SealBroken("the object fails its authentication tag (altered or misplaced)") from exc

    @staticmethod
    def key_of(blob: bytes) -> str:
        return KeyRing._parts(blob)[0]

    @staticmethod
    def _parts(blob: bytes) -> tuple[str, bytes, bytes]:
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 1:
            raise SealBroken("not a sealed object")
        length = blob[len(MAGIC)]
        start = len(MAGIC) + 1
        key_id = blob[start : start + length].decode(errors="replace")
        nonce = blob[start + length : start + length + NONCE_BYTES]
        sealed = blob[start + length + NONCE_BYTES :]
        if len(nonce) != NONCE_BYTES or len(sealed) < 16:
            raise SealBroken("a truncated sealed object")
        return key_id, nonce, sealed

    def signing_key(self, key_id: str, purpose: bytes) -> bytes | None:
        """A key for HMAC signatures derived from a ring key (never the encryption key itself)."""
        key = self.keys.get(key_id)
        return hmac.new(key, b"croupier/" + purpose, hashlib.sha256).digest() if key is not None else None


def new_key() -> str:
    """A fresh key, base64 (for KYC_DOCUMENT_KEYS)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()
