"""Quiet hours on the player's wall clock: windows within a day and across midnight, zones east and west
of UTC, a daylight-saving change, and a zone the system does not know (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from services.crm.journeys.quiet import quiet_until

NIGHT = (time(21), time(9))


@pytest.mark.parametrize(
    ("now", "zone", "window", "until"),
    [
        # 22:30 UTC is 23:30 in Malta (winter, UTC+1): quiet until 09:00 Malta = 08:00 UTC the next day.
        (datetime(2026, 12, 7, 22, 30, tzinfo=UTC), "Europe/Malta", NIGHT, datetime(2026, 12, 8, 8, tzinfo=UTC)),
        # The same moment is 17:30 in New York: not quiet.
        (datetime(2026, 12, 7, 22, 30, tzinfo=UTC), "America/New_York", NIGHT, None),
        # 03:00 UTC is 04:00 in Malta: the morning part of the window, ending the same day.
        (datetime(2026, 12, 7, 3, tzinfo=UTC), "Europe/Malta", NIGHT, datetime(2026, 12, 7, 8, tzinfo=UTC)),
        # A window inside one day (13:00 to 14:00) in Tokyo (UTC+9).
        (
            datetime(2026, 12, 7, 4, 30, tzinfo=UTC),
            "Asia/Tokyo",
            (time(13), time(14)),
            datetime(2026, 12, 7, 5, tzinfo=UTC),
        ),
        (datetime(2026, 12, 7, 12, tzinfo=UTC), "Asia/Tokyo", (time(13), time(14)), None),
        # Spring forward in Malta (29 March 2026, 02:00 → 03:00): the end is 09:00 summer time, 07:00 UTC.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/Malta", NIGHT, datetime(2026, 3, 29, 7, tzinfo=UTC)),
        # An unknown zone is UTC.
        (datetime(2026, 12, 7, 22, tzinfo=UTC), "Mars/Olympus", NIGHT, datetime(2026, 12, 8, 9, tzinfo=UTC)),
    ],
)
def test_a_send_in_quiet_hours_waits_until_they_end_on_the_players_clock(
    now: datetime, zone: str, window: tuple[time, time], until: datetime | None
) -> None:
    assert quiet_until(now, zone, *window) == until


def test_the_end_of_the_window_is_not_quiet() -> None:
    assert quiet_until(datetime(2026, 12, 7, 8, tzinfo=UTC), "Europe/Malta", *NIGHT) is None  # 09:00 local
    assert quiet_until(datetime(2026, 12, 7, 20, tzinfo=UTC), "Europe/Malta", *NIGHT) is not None  # 21:00 local
