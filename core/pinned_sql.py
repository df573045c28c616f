"""SQL files a migration installs, each pinned by the SHA-256 it was deployed with (sql/wallet/, sql/outbox/).

A deployed version never changes (a changed rule is a new file with the next version in its name and a new
migration), so a file that changed stops the migration instead of installing something else under the old name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from alembic import op

SQL = Path(__file__).resolve().parents[1] / "sql"


def install(folder: str, files: Mapping[str, str]) -> None:
    """Run each file of `sql/<folder>/` in order, after checking its SHA-256."""
    for name, deployed in files.items():
        source = (SQL / folder / name).read_bytes()
        if hashlib.sha256(source).hexdigest() != deployed:
            raise RuntimeError(f"sql/{folder}/{name} changed after it was deployed: put the change in a new version")
        op.execute(source.decode())
