"""Password hashing with Argon2id. Hashing runs in a worker thread: it is deliberately slow.

The cost is argon2-cffi's default (RFC 9106's low-memory profile: 3 passes over 64 MiB) unless settings
lower it (`ARGON2_TIME_COST`, `ARGON2_MEMORY_KIB`, `ARGON2_PARALLELISM`; the test suite does, to spend its
CPU on what it tests). `configure` runs at start-up (core/runtime.py); production refuses a cost below
OWASP's floor (core/settings.py). A hash carries its own parameters, so hashes made at any cost verify.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so an unknown email costs the same time. Made at the
# first login, at the configured cost: not at import, where every process (each CLI command) paid a hash.
_dummy_hash: str | None = None


def configure(*, time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Hash new passwords at this cost from now on (the dummy too, so an unknown email costs the same)."""
    global _hasher, _dummy_hash
    if (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism) == (time_cost, memory_kib, parallelism):
        return
    _hasher, _dummy_hash = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism), None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:  # two threads may both make one: either will do
        _dummy_hash = _hasher.hash("croupier-dummy-password")
    return _dummy_hash


MIN_LENGTH = 10


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > 256:
        return "Use at most 256 characters."
    if password.isdigit() or password.isalpha():
        return "Mix letters with digits or symbols."
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)
