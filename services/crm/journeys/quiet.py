"""Quiet hours in the player's own time zone: when a send due now may go, or until when it waits."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str | None) -> ZoneInfo:
    """The player's zone (`players.time_zone`); one the system does not know counts as UTC."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _inside(local: time, start: time, end: time) -> bool:
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window crosses midnight


def quiet_until(now: datetime, time_zone: str | None, start: time, end: time) -> datetime | None:
    """None when `now` is outside the quiet hours of the zone; else the moment (UTC) they end.

    Computed on the local wall clock, then turned back to UTC: across a DST change the end is the local
    `end` of that day as the zone has it (a nonexistent local time moves forward, fold 0)."""
    tz = zone(time_zone)
    local = now.astimezone(tz)
    if not _inside(local.timetz().replace(tzinfo=None), start, end):
        return None
    day = local.date()
    if start >= end and local.time() >= start:  # evening part of a window crossing midnight: ends tomorrow
        day += timedelta(days=1)
    ends = datetime.combine(day, end, tzinfo=tz)
    return ends.astimezone(UTC)
