"""The Casbin enforcer and the per-(roles, brand) decision cache.

Every field resolution asks one question: may these roles, in this brand, read `Type.field` (or
write `Mutation.name`)? Asking Casbin each time would cost a policy evaluation per field, so the
answer for all of the schema's coordinates is computed once per (roles, brand) and kept as a
frozenset; a check is then a set lookup. One `Authorizer` per process; `reload()` re-reads the
policy and drops the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

import casbin

HERE = Path(__file__).parent
MODEL_PATH = HERE / "model.conf"
POLICY_PATH = HERE / "policy.csv"
ALL_BRANDS = "*"


def action_for(type_name: str) -> str:
    return "write" if type_name == "Mutation" else "read"


class Authorizer:
    def __init__(self, coordinates: Iterable[str], *, model: Path = MODEL_PATH, policy: Path = POLICY_PATH) -> None:
        self.coordinates = frozenset(coordinates)
        self._model = model
        self._policy = policy
        self._lock = threading.Lock()
        self._cache: dict[tuple[frozenset[str], str], frozenset[str]] = {}
        self.enforcer = casbin.Enforcer(str(model), str(policy))

    def reload(self) -> None:
        with self._lock:
            self.enforcer = casbin.Enforcer(str(self._model), str(self._policy))
            self._cache = {}

    def enforce(self, role: str, brand: str, coordinate: str) -> bool:
        type_name = coordinate.partition(".")[0]
        return bool(self.enforcer.enforce(role, brand, coordinate, action_for(type_name)))

    def allowed(self, roles: frozenset[str], brand: str = ALL_BRANDS) -> frozenset[str]:
        """The coordinates these roles may use in this brand (a union over the roles)."""
        key = (roles, brand)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        decided = frozenset(
            coordinate
            for coordinate in self.coordinates
            if any(self.enforce(role, brand, coordinate) for role in roles)
        )
        with self._lock:
            self._cache[key] = decided
        return decided
