"""`croupier`: serve, migrate, seed demo data, manage staff, verify the books, run operations.

One module per group of commands; each registers itself on `cli.base.app` when imported here.
"""

from cli import aml_monitoring, books, demo, events, exports, operations, providers, reports, run, staff
from cli.base import app

__all__ = [
    "aml_monitoring",
    "app",
    "books",
    "demo",
    "events",
    "exports",
    "operations",
    "providers",
    "reports",
    "run",
    "staff",
]
