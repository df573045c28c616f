"""Verified access tokens are remembered per process (authz/jwt.py), and the memory never outlives what
made the token good: its expiry is checked on every use, and a retired key stops its tokens at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from authz import jwt as jwt_keys
from core.clock import clock

CLAIMS = {"sub": "player:x", "typ": "access"}


def test_a_remembered_token_still_expires(tmp_path: Path) -> None:
    jwt_keys.generate_key(tmp_path)
    ring = jwt_keys.KeyRing.load(tmp_path, create_if_empty=False)
    token = ring.issue(CLAIMS, issuer="i", audience="a", ttl=timedelta(minutes=5))
    assert ring.verify(token, issuer="i", audience="a")["sub"] == "player:x"
    assert ring.verify(token, issuer="i", audience="a")["sub"] == "player:x"  # from memory
    with pytest.raises(jwt_keys.InvalidToken):  # another audience is another question
        ring.verify(token, issuer="i", audience="elsewhere")
    try:
        clock.advance(timedelta(minutes=10))
        with pytest.raises(jwt_keys.InvalidToken, match="expired"):
            ring.verify(token, issuer="i", audience="a")
    finally:
        clock.reset()


def test_a_remembered_token_stops_when_its_key_is_retired(tmp_path: Path) -> None:
    old_kid = jwt_keys.generate_key(tmp_path)
    ring = jwt_keys.KeyRing.load(tmp_path, create_if_empty=False)
    token = ring.issue(CLAIMS, issuer="i", audience="a", ttl=timedelta(minutes=5))
    assert ring.verify(token, issuer="i", audience="a")["sub"] == "player:x"
    clock.advance(timedelta(seconds=1))
    try:
        jwt_keys.generate_key(tmp_path)
        (tmp_path / f"{old_kid}.pem").unlink()
        ring._last_reload -= jwt_keys.REFRESH_SECONDS  # the periodic re-read is due
        with pytest.raises(jwt_keys.InvalidToken, match="unknown signing key"):
            ring.verify(token, issuer="i", audience="a")
    finally:
        clock.reset()


def test_a_full_memory_forgets_expired_tokens_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Remembered by their hash, with their expiry: when the memory is full the expired ones go, and
    the live ones stay remembered (not verified again)."""
    monkeypatch.setattr(jwt_keys, "VERIFIED_CACHE_SIZE", 8)
    jwt_keys.generate_key(tmp_path)
    ring = jwt_keys.KeyRing.load(tmp_path, create_if_empty=False)
    short = [ring.issue(CLAIMS, issuer="i", audience="a", ttl=timedelta(seconds=30)) for _ in range(6)]
    long = [ring.issue(CLAIMS, issuer="i", audience="a", ttl=timedelta(hours=1)) for _ in range(2)]
    for token in short + long:
        ring.verify(token, issuer="i", audience="a")
    assert all(len(key[0]) == 32 for key in ring._verified)  # a SHA-256, not the token
    try:
        clock.advance(timedelta(minutes=5))
        fresh = ring.issue(CLAIMS, issuer="i", audience="a", ttl=timedelta(hours=1))
        ring.verify(fresh, issuer="i", audience="a")
        assert len(ring._verified) == 3  # the two long-lived and the new one
        with pytest.raises(jwt_keys.InvalidToken, match="expired"):
            ring.verify(short[0], issuer="i", audience="a")
    finally:
        clock.reset()
