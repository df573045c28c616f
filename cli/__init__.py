"""`croupier`: serve, migrate, seed demo data, manage staff, verify the books, run operations.

One module per group of commands; each registers itself on `cli.base.app` when imported here.
"""

from cli import (
    affiliate_fraud,
    affiliates,
    aml,
    aml_cases,
    aml_monitoring,
    books,
    crm_messages,
    crm_segments,
    demo,
    events,
    exports,
    i18n,
    jackpots,
    kyc,
    kyc_documents,
    operations,
    privacy,
    providers,
    reports,
    risk,
    run,
    staff,
    tournaments,
)
from cli.base import app

__all__ = [
    "affiliate_fraud",
    "affiliates",
    "aml",
    "aml_cases",
    "aml_monitoring",
    "app",
    "books",
    "crm_messages",
    "crm_segments",
    "demo",
    "events",
    "exports",
    "i18n",
    "jackpots",
    "kyc",
    "kyc_documents",
    "operations",
    "privacy",
    "providers",
    "reports",
    "risk",
    "run",
    "staff",
    "tournaments",
]
