"""What a provider signs its wallet calls with, checked before it is stored.

- An RSA public key (Hub88): PEM (`PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`), RSA, at least 2048 bits.
  It is stored re-encoded as SubjectPublicKeyInfo PEM, so its fingerprint (SHA-256 of the DER
  encoding, lowercase hex: `openssl pkey -pubin -outform DER | sha256sum`) is stable. A private key
  pasted by mistake is refused without being stored or echoed.
- An HMAC secret (SoftSwiss-style) never reaches the database: a provider names an entry of
  `PROVIDER_SECRETS` (`secret_ref`), which must exist on this server when it is set. No fingerprint of
  a secret is recorded anywhere: any function of it lets a weak secret be guessed offline.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.errors import DomainError, ErrorCode

MIN_RSA_BITS = 2048
MAX_PEM_CHARS = 16_384  # an 8192-bit key is about 1.5 KB of PEM; anything far larger is not a key
SECRET_REF_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


@dataclass(frozen=True)
class PublicKey:
    pem: str  # canonical SubjectPublicKeyInfo PEM
    fingerprint: str  # SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex
    bits: int


def _refuse(message: str, field: str) -> DomainError:
    return DomainError(message, field=field, code=ErrorCode.INVALID_PUBLIC_KEY)


def parse_public_key(text: str, *, field: str = "publicKeyPem") -> PublicKey:
    """The key in `text`, or a refusal saying what is wrong with it (never quoting it)."""
    if len(text) > MAX_PEM_CHARS:
        raise _refuse(f"That is not a public key: longer than {MAX_PEM_CHARS} characters.", field)
    stripped = text.strip()
    if "PRIVATE KEY-----" in stripped:
        raise _refuse(
            "That is a private key: give the provider's public key (keep the private key with the provider).",
            field,
        )
    if not stripped.startswith("-----BEGIN ") or "-----END " not in stripped:
        raise _refuse(
            'Not a PEM public key: expected "-----BEGIN PUBLIC KEY-----" … "-----END PUBLIC KEY-----".', field
        )
    try:
        key = serialization.load_pem_public_key(stripped.encode())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise _refuse("Not a PEM public key: its content does not decode.", field) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise _refuse(
            f"Not an RSA key ({type(key).__name__.removesuffix('PublicKey') or 'other'}): Hub88 signs with RSA.", field
        )
    if key.key_size < MIN_RSA_BITS:
        raise _refuse(f"The RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are required.", field)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return PublicKey(pem=pem, fingerprint=hashlib.sha256(der).hexdigest(), bits=key.key_size)


def describe_public_key(pem: str | None) -> PublicKey | None:
    """A stored key's fingerprint and size (None when none is set or it no longer parses)."""
    if not pem:
        return None
    try:
        return parse_public_key(pem)
    except DomainError:
        return None


def check_secret_ref(ref: str, secrets: dict[str, str], *, field: str = "secretRef") -> str:
    """The reference, trimmed, if it names a configured secret."""
    ref = ref.strip()
    if not SECRET_REF_PATTERN.fullmatch(ref):
        raise DomainError(
            "A secret reference is the name of a PROVIDER_SECRETS entry: 1–64 letters, digits, '_', '.', ':' or '-'.",
            field=field,
        )
    if not secrets.get(ref):
        raise DomainError(
            f"PROVIDER_SECRETS has no entry {ref!r} on this server: add the secret to the settings first.",
            field=field,
            code=ErrorCode.NOT_FOUND,
        )
    return ref


def secret_for(secrets: dict[str, str], code: str, ref: str | None) -> str | None:
    """The HMAC secret that signs a provider's calls: its referenced entry, else the one named after it."""
    return secrets.get(ref or code) or None
