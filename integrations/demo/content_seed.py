"""Demo content at Royal: a welcome banner (English and German), a promotion page, a footer block, and — when a
demo segment exists already (crmseg's demo data) — a banner only its members see. Safe to run twice (an item
whose brand, kind and key exist is kept)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from authz.subjects import SYSTEM
from core.runtime import Runtime
from models.crm_content import ContentKind
from services.crm.content import items

DEMO_ITEMS: list[tuple[ContentKind, str, str, dict[str, Any]]] = [
    (
        ContentKind.BANNER,
        "home-top",
        "Welcome banner",
        {
            "default_language": "en",
            "translations": {
                "en": {"title": "Welcome to Royal", "body": "100 % up to 100.00 on your first deposit.",
                       "link_url": "/promotions/welcome-offer", "cta_label": "Claim"},
                "de": {"title": "Willkommen bei Royal", "body": "100 % bis 100,00 auf Ihre erste Einzahlung.",
                       "link_url": "/promotions/welcome-offer", "cta_label": "Sichern"},
            },
        },
    ),
    (
        ContentKind.PROMOTION,
        "welcome-offer",
        "Welcome offer page",
        {
            "default_language": "en",
            "translations": {
                "en": {"title": "Welcome offer", "body": "Deposit 10.00 or more with the code WELCOME100. Terms apply."}
            },
        },
    ),
    (
        ContentKind.BLOCK,
        "footer-rg",
        "Footer: play responsibly",
        {"default_language": "en", "translations": {"en": {"title": "Play responsibly", "body": "18+ only."}}},
    ),
]  # fmt: skip


async def seed_content(rt: Runtime) -> list[str]:
    async with rt.database.session() as db:
        royal = await db.scalar(text("SELECT id FROM brands WHERE code = 'royal'"))
        segment = await db.scalar(
            text("SELECT id FROM crm_segments WHERE brand_id = :b AND status = 'active' ORDER BY created_at LIMIT 1"),
            {"b": royal},
        )
    wanted = list(DEMO_ITEMS)
    if segment is not None:
        wanted.append(
            (
                ContentKind.BANNER,
                "home-top",
                "Segment banner",
                {
                    "segment_id": segment,
                    "priority": 10,
                    "default_language": "en",
                    "translations": {"en": {"title": "Just for you", "body": "A reload bonus this week."}},
                },
            )
        )
    lines = []
    for kind, key, name, content in wanted:
        async with rt.database.session() as db:
            exists = await db.scalar(
                text("SELECT 1 FROM content_items WHERE brand_id = :b AND kind = :k AND key = :key AND name = :n"),
                {"b": royal, "k": kind.value, "key": key, "n": name},
            )
        if exists:
            continue
        view = await items.create_item(rt, SYSTEM, brand_code="royal", kind=kind, key=key, name=name, content=content)
        await items.publish_item(rt, SYSTEM, item_id=view.item.id)
        lines.append(f"{kind.value} {key}: {name}, published")
    return lines or ["demo content already there"]
