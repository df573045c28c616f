"""Sanctions and PEP lists in the FollowTheMoney format (OpenSanctions' exports): entities as JSON lines,
read with the `followthemoney` library. A list is a file, or a folder whose `*.json` / `*.jsonl` files are
read in name order; its version is the SHA-256 of those bytes, so any change (an entity added, a name
corrected) is a new version, which `croupier aml rescreen` screens every player against.

Only what screening uses is kept: Person and Organization (and their parents LegalEntity, Company),
with their names (`name`, `alias`, `weakAlias`, `previousName`), birth dates, countries and topics.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from followthemoney import model

SAMPLE = Path(__file__).resolve().parent / "sample"
SCHEMATA = frozenset({"Person", "Organization", "Company", "LegalEntity"})
NAME_PROPS = ("name", "alias", "weakAlias", "previousName")


class ListError(ValueError):
    code = "SCREENING_LIST_INVALID"


@dataclass(frozen=True)
class Entity:
    id: str
    schema: str
    caption: str
    names: tuple[str, ...]
    birth_dates: tuple[str, ...]  # as listed: "1970", "1970-09" or "1970-09-09"
    countries: tuple[str, ...]  # ISO 3166 alpha-2, lower case
    topics: tuple[str, ...]  # "sanction", "role.pep", "crime", ...
    datasets: tuple[str, ...]

    def snapshot(self) -> dict[str, object]:
        """What an alert keeps of the entity (the list may change or go)."""
        return {
            "id": self.id,
            "schema": self.schema,
            "caption": self.caption,
            "names": list(self.names),
            "birth_dates": list(self.birth_dates),
            "countries": list(self.countries),
            "topics": list(self.topics),
            "datasets": list(self.datasets),
        }

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.snapshot(), sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ScreeningList:
    version: str
    source: str
    entities: tuple[Entity, ...]


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".json", ".jsonl") and p.is_file())
    if path.is_file():
        return [path]
    raise ListError(f"no screening list at {path}")


def _entities(lines: Iterator[tuple[str, str]]) -> Iterator[Entity]:
    for where, line in lines:
        if not line.strip():
            continue
        try:
            proxy = model.get_proxy(json.loads(line), cleaned=False)
        except (ValueError, TypeError, KeyError) as exc:
            raise ListError(f"{where}: not a FollowTheMoney entity ({exc})") from exc
        if proxy.schema.name not in SCHEMATA or proxy.id is None:
            continue
        names = tuple(
            dict.fromkeys(n for prop in NAME_PROPS if prop in proxy.schema.properties for n in proxy.get(prop))
        )
        if not names:
            continue
        yield Entity(
            id=proxy.id,
            schema=proxy.schema.name,
            caption=proxy.caption,
            names=names,
            birth_dates=tuple(proxy.get("birthDate", quiet=True)),
            countries=tuple(sorted({c.lower() for c in proxy.countries})),
            topics=tuple(proxy.get("topics", quiet=True)),
            datasets=tuple(json.loads(line).get("datasets") or ()),
        )


def load(path: Path | None) -> ScreeningList:
    files = _files(path or SAMPLE)
    digest = hashlib.sha256()
    lines: list[tuple[str, str]] = []
    for file in files:
        data = file.read_bytes()
        digest.update(data)
        text = data.decode("utf-8")
        lines.extend((f"{file.name}:{n}", line) for n, line in enumerate(text.splitlines(), 1))
    return ScreeningList(
        version=digest.hexdigest()[:16], source=str(path or SAMPLE), entities=tuple(_entities(iter(lines)))
    )
