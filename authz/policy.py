"""The Casbin enforcer and the per-(roles, brand) decision cache.

Every field resolution asks one question: may these roles, in this brand, read `Type.field` (or
write `Mutation.name`)? Asking Casbin each time would cost a policy evaluation per field, so the
answer for all of the schema's coordinates is computed once per (roles, brand) and kept as a
frozenset; a check is then a set lookup. One `Authorizer` per process; `reload()` re-reads the
policy and drops the cache.

Computing that answer through `enforcer.enforce` would take seconds per role set (pycasbin evaluates
the matcher expression against every policy line, and compiles each glob anew, ≈ 4 ms a call), and it
runs inside a request on the event loop. So `allowed` applies the model's rule itself: each policy
pattern is compiled once and matched against all coordinates. The rule is the one in `model.conf`:
a role (with the roles it inherits) may use a coordinate when an allow line matches it — same action,
domain `*` or the brand — and no deny line does. tests/test_authz.py checks every decision against
Casbin's own enforcer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

import casbin
from casbin.util.builtin_operators import glob_match
from wcmatch import glob

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
        self._patterns: dict[tuple[str, str], frozenset[str]] = {}  # (glob, action) → coordinates
        self.enforcer = casbin.Enforcer(str(model), str(policy))

    def reload(self) -> None:
        with self._lock:
            self.enforcer = casbin.Enforcer(str(self._model), str(self._policy))
            self._cache = {}
            self._patterns = {}

    def enforce(self, role: str, brand: str, coordinate: str) -> bool:
        """One role's decision on one coordinate. A coordinate of the schema is looked up in the role's
        decisions (`allowed`, proved equal to Casbin's own enforcer coordinate by coordinate in
        tests/test_authz.py): Casbin's `enforce` walks every policy line per call, tens of milliseconds
        each, and the role-by-field tests ask thousands. Any other coordinate goes to Casbin itself."""
        if coordinate in self.coordinates:
            return coordinate in self.allowed(frozenset({role}), brand)
        type_name = coordinate.partition(".")[0]
        return bool(self.enforcer.enforce(role, brand, coordinate, action_for(type_name)))

    def allowed(self, roles: frozenset[str], brand: str = ALL_BRANDS) -> frozenset[str]:
        """The coordinates these roles may use in this brand (a union over the roles)."""
        key = (roles, brand)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        decided = frozenset().union(*(self._decide(role, brand) for role in roles))
        with self._lock:
            self._cache[key] = decided
        return decided

    def _decide(self, role: str, brand: str) -> frozenset[str]:
        """The coordinates one role may use in a brand, by the rule of model.conf."""
        roles = {role, *self.enforcer.get_implicit_roles_for_user(role)}
        allowed: set[str] = set()
        denied: set[str] = set()
        for subject, domain, pattern, action, effect in self.enforcer.get_policy():
            if subject not in roles or domain not in (ALL_BRANDS, brand):
                continue
            (allowed if effect == "allow" else denied).update(self._matching(pattern, action))
        return frozenset(allowed - denied)

    def _matching(self, pattern: str, action: str) -> frozenset[str]:
        key = (pattern, action)
        found = self._patterns.get(key)
        if found is None:
            candidates = [c for c in self.coordinates if action_for(c.partition(".")[0]) == action]
            found = self._patterns[key] = frozenset(_glob_filter(candidates, pattern))
        return found


def _glob_filter(coordinates: list[str], pattern: str) -> list[str]:
    """Casbin's `globMatch` over many names with one compilation of the pattern. Coordinates hold no
    "/", so Casbin's rewriting of "**" and "*/" never applies; patterns that use them go through
    Casbin's own function, one name at a time."""
    if "/" in pattern or "**" in pattern:
        return [c for c in coordinates if glob_match(c, pattern)]
    return [str(c) for c in glob.globfilter(coordinates, pattern, flags=glob.GLOBSTAR | glob.BRACE)]
