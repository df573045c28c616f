"""One injectable clock, so expiries, cooling-off periods and time-outs are testable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        """Move time forward (tests and demo only)."""
        self._offset += delta

    def reset(self) -> None:
        self._offset = timedelta()


clock = Clock()


def utc(value: datetime | None) -> datetime | None:
    """A time given without an offset (GraphQL's DateTime, a CLI option, a date as printed) read as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
