"""National self-exclusion registers (GAMSTOP, ROFUS, Spelpaus): one interface, answers Y / N / P.

Y: the person is self-excluded now (refuse registration and login to play). N: not registered.
P: previously excluded, no longer (allowed; the RG team gets a flag to look at the account).
A register that cannot answer fails closed: the caller refuses rather than guesses.

`ListRegister` is the demo implementation, backed by a list of emails (setting RG_DEMO_REGISTER,
`email:Y,other@example.com:P`). A real connector implements `SelfExclusionRegister.check` with the
register's API and is put in `connectors()` under its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol


class RegisterAnswer(StrEnum):
    EXCLUDED = "Y"
    NOT_REGISTERED = "N"
    PREVIOUSLY_EXCLUDED = "P"


@dataclass(frozen=True)
class Person:
    email: str
    date_of_birth: date
    first_name: str | None
    last_name: str | None
    country: str


class RegisterUnavailable(Exception):
    """The register did not answer."""


class SelfExclusionRegister(Protocol):
    @property
    def name(self) -> str: ...

    async def check(self, person: Person) -> RegisterAnswer: ...


@dataclass(frozen=True)
class ListRegister:
    name: str
    entries: dict[str, RegisterAnswer]

    async def check(self, person: Person) -> RegisterAnswer:
        return self.entries.get(person.email.lower(), RegisterAnswer.NOT_REGISTERED)


def parse_entries(spec: str) -> dict[str, RegisterAnswer]:
    """`a@example.com:Y, b@example.com:P` → {email: answer}; a bare email means Y."""
    entries: dict[str, RegisterAnswer] = {}
    for item in spec.split(","):
        email, _, answer = item.strip().partition(":")
        if email:
            entries[email.lower()] = RegisterAnswer(answer.strip().upper() or "Y")
    return entries


def connectors(demo_list: str, names: tuple[str, ...]) -> list[SelfExclusionRegister]:
    entries = parse_entries(demo_list)
    return [ListRegister(name, entries) for name in names]
