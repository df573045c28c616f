"""The data of tracking (tracking.toml): how long a click can lead to an attribution, per brand, and how many
clicks an IP address may make. Read once per process; a change needs a restart, like the other TOML data."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

TRACKING_FILE = Path(__file__).with_name("tracking.toml")
SUB_ID_KEYS = tuple(f"sub{n}" for n in range(1, 6))


@dataclass(frozen=True)
class Tracking:
    window_days: int
    brand_windows: dict[str, int] = field(default_factory=dict)
    clicks_per_ip_per_minute: int = 60
    sub_id_max_length: int = 100

    def window(self, brand_code: str) -> timedelta:
        """The attribution window of a brand: its own, or the default."""
        return timedelta(days=self.brand_windows.get(brand_code, self.window_days))


@functools.cache
def tracking() -> Tracking:
    raw = tomllib.loads(TRACKING_FILE.read_text())
    attribution = raw["attribution"]
    clicks = raw.get("clicks", {})
    return Tracking(
        window_days=int(attribution["window_days"]),
        brand_windows={str(k): int(v) for k, v in attribution.get("brands", {}).items()},
        clicks_per_ip_per_minute=int(clicks.get("per_ip_per_minute", 60)),
        sub_id_max_length=int(clicks.get("sub_id_max_length", 100)),
    )


def printable(value: str | None) -> str:
    """Text without control characters (PostgreSQL refuses NUL; none belongs in a label or a user agent)."""
    return "".join(ch for ch in (value or "") if ch.isprintable()).strip()


def sub_ids_of(params: dict[str, str]) -> dict[str, str]:
    """The sub-ids of a click's query (`sub1` … `sub5`, trimmed, cut to length, empty ones dropped)."""
    limit = tracking().sub_id_max_length
    found: dict[str, str] = {}
    for key in SUB_ID_KEYS:
        value = printable(params.get(key))[:limit]
        if value:
            found[key] = value
    return found
