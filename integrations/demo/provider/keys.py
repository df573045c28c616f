"""The demo provider's RSA key pair: it signs every wallet call (`X-Hub88-Signature`, base64 of an
RSA-SHA256 PKCS#1 v1.5 signature over the exact body bytes); the platform verifies with the public key
stored on the provider's row. The private key stays in the data folder (mode 0600)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGNATURE_HEADER = "X-Hub88-Signature"


def ensure_demo_provider_keys(data_dir: Path) -> tuple[Path, str]:
    """The key pair under `<data_dir>/demo-provider/`, created on first use: (private key path, public PEM)."""
    folder = Path(data_dir) / "demo-provider"
    private_path = folder / "private.pem"
    if not private_path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        partial = private_path.with_suffix(".tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        partial.replace(private_path)  # atomic: two processes starting at once agree on one key
    return private_path, public_pem(load_private_key(private_path))


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA private key")
    return key


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign(key: rsa.RSAPrivateKey, body: bytes) -> str:
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def signature_valid(public_key_pem: str, body: bytes, signature: str) -> bool:
    """What the platform does with a call: verify the raw bytes as received."""
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), body, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True
