"""Access tokens: short-lived ES256 JWTs with issuer, audience, expiry and key id.

The algorithm is pinned to ES256 on both sides: a token claiming `none`, an HMAC algorithm (the
HS/RS confusion attack that signs with the public key as a secret) or any other algorithm is
refused before its signature is looked at. Keys live as PEM files named `<kid>.pem` in the key
folder (kids are UTC timestamps); the newest signs and every one present verifies, so rotating
(adding a key) logs nobody out, and retiring a key (deleting its file after one access-token
lifetime) is safe. Every process re-reads the folder once a minute, and at once (at most every 10 s)
when a token names a kid it has not loaded, so replicas sharing the folder follow a rotation or a
retirement without a restart.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.clock import clock

ALGORITHM = "ES256"
LEEWAY_SECONDS = 10


class InvalidToken(Exception):
    """The token is malformed, expired, forged or signed by a key we do not hold."""


@dataclass(frozen=True)
class AccessClaims:
    subject_type: str  # "player" | "staff"
    subject_id: uuid.UUID
    session_id: uuid.UUID
    brand_id: uuid.UUID | None
    expires_at: datetime
    scope: str = "full"  # "withdrawal": a self-excluded player's session that can only take money out


MISS_RELOAD_SECONDS = 10.0  # an unknown kid re-reads the folder at most this often
REFRESH_SECONDS = 60.0  # and the folder is re-read this often anyway (new signer, retired keys)
VERIFIED_CACHE_SIZE = 10_000  # verified tokens remembered per process (cleared when full)


class KeyRing:
    def __init__(self, keys: dict[str, ec.EllipticCurvePrivateKey], folder: Path | None = None) -> None:
        if not keys:
            raise ValueError("the JWT key ring is empty")
        self._folder = folder
        self._last_reload = time.monotonic()
        self._use(keys)

    def _use(self, keys: dict[str, ec.EllipticCurvePrivateKey]) -> None:
        self._private = keys
        self._public = {kid: key.public_key() for kid, key in keys.items()}
        # Tokens whose signature was checked, by their SHA-256 (32 bytes where the token is ~500, held
        # for every live subscription's token), with the key that checked it, their claims and expiry:
        # a token comes with every request of its session, and the ECDSA check is most of a cheap
        # request's CPU. Re-reading the keys makes new key objects, so every token is checked again
        # after it. The session's revocation is not remembered here: services/auth.py asks every time.
        self._verified: dict[tuple[bytes, str, str], tuple[Any, dict[str, Any], float]] = {}
        self.active_kid = max(keys)  # kids are UTC timestamps: the newest signs

    def _reload(self, *, older_than: float) -> None:
        """Re-read the shared key folder if the last read is older than `older_than` seconds."""
        if self._folder is None or time.monotonic() - self._last_reload < older_than:
            return
        self._last_reload = time.monotonic()
        keys = _read_keys(self._folder)
        if keys:  # an emptied folder (operator error) keeps the keys we have rather than lock everyone out
            self._use(keys)

    @classmethod
    def load(cls, folder: Path, *, create_if_empty: bool) -> KeyRing:
        keys = _read_keys(folder)
        if not keys:
            if not create_if_empty:
                raise RuntimeError(f"no JWT signing keys in {folder}: run `croupier keys rotate`")
            kid = generate_key(folder)
            keys = {kid: _load_private_key(folder / f"{kid}.pem")}
        return cls(keys, folder)

    def issue(self, claims: dict[str, Any], *, issuer: str, audience: str, ttl: timedelta) -> str:
        self._reload(older_than=REFRESH_SECONDS)
        now = clock.now()
        payload = {
            **claims,
            "iss": issuer,
            "aud": audience,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            payload, self._private[self.active_kid], algorithm=ALGORITHM, headers={"kid": self.active_kid}
        )

    def verify(self, token: str, *, issuer: str, audience: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm not accepted")
        kid = str(header.get("kid"))
        self._reload(older_than=MISS_RELOAD_SECONDS if kid not in self._public else REFRESH_SECONDS)
        key = self._public.get(kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        remembered = (hashlib.sha256(token.encode()).digest(), issuer, audience)
        verified = self._verified.get(remembered)
        if verified is not None and verified[0] is key:  # same key object: not retired or re-read since
            return self._in_time(verified[1])
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub"],
                    "verify_iat": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        claims = self._in_time(claims)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._forget_expired()
        self._verified[remembered] = (key, claims, float(claims["exp"]))
        return claims

    def _forget_expired(self) -> None:
        """Full: the expired tokens go; if that frees less than a quarter, everything does (each token
        is then verified again once), so a full memory is not scanned on every new token."""
        now = clock.now().timestamp() - LEEWAY_SECONDS
        self._verified = {token: entry for token, entry in self._verified.items() if entry[2] >= now}
        if len(self._verified) > VERIFIED_CACHE_SIZE * 3 // 4:
            self._verified.clear()

    @staticmethod
    def _in_time(claims: dict[str, Any]) -> dict[str, Any]:
        # PyJWT would check `exp` and `nbf` against the wall clock; the platform clock may be ahead (tests, demo).
        now = clock.now().timestamp()
        try:
            expires, not_before = float(claims["exp"]), float(claims.get("nbf", 0))
        except (TypeError, ValueError) as exc:
            raise InvalidToken("malformed time claims") from exc
        if expires + LEEWAY_SECONDS < now:
            raise InvalidToken("token expired")
        if not_before - LEEWAY_SECONDS > now:
            raise InvalidToken("token not yet valid")
        return claims

    def public_jwks(self) -> dict[str, Any]:
        """The verifying keys as a JWK set, for other services that check our tokens."""
        from jwt.algorithms import ECAlgorithm

        keys = []
        for kid, public in sorted(self._public.items()):
            jwk: dict[str, Any] = ECAlgorithm.to_jwk(public, as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"})
        return {"keys": keys}


def generate_key(folder: Path) -> str:
    """Write a new signing key to the folder and return its kid (it becomes the active one)."""
    folder.mkdir(parents=True, exist_ok=True)
    kid = clock.now().strftime("%Y%m%dT%H%M%S%fZ")
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = folder / f"{kid}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return kid


def _read_keys(folder: Path) -> dict[str, ec.EllipticCurvePrivateKey]:
    if not folder.is_dir():
        return {}
    return {path.stem: _load_private_key(path) for path in sorted(folder.glob("*.pem"))}


def _load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise RuntimeError(f"{path} is not an EC private key")
    return key


def parse_access_claims(claims: dict[str, Any]) -> AccessClaims:
    try:
        subject_type, _, subject_id = str(claims["sub"]).partition(":")
        if subject_type not in ("player", "staff") or claims.get("typ") != "access":
            raise InvalidToken("not an access token")
        brand = claims.get("brand")
        return AccessClaims(
            subject_type=subject_type,
            subject_id=uuid.UUID(subject_id),
            session_id=uuid.UUID(str(claims["sid"])),
            brand_id=uuid.UUID(brand) if brand else None,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=clock.now().tzinfo),
            scope=str(claims.get("scope") or "full"),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidToken("malformed claims") from exc
