"""Demo CRM templates at Royal: `welcome` (English and German) and `reload` (English), for the demo's journeys
and the Messages screen. Safe to run twice (an existing template is kept as staff left it)."""

from __future__ import annotations

from sqlmodel import col, select

from authz.subjects import SYSTEM
from core.runtime import Runtime
from models.brands import Brand
from models.crm_channels import CrmTemplate
from services.crm.channels import templates

DEMO_TEMPLATES = [
    (
        "welcome",
        "en",
        "Welcome to {{ brand.name }}, {{ player.first_name }}",
        "<html><body><h1>Welcome, {{ player.first_name }}!</h1><p>{{ offer | default('Your account is ready.') }}</p>"
        '<p><a href="https://royal.example/lobby">Play now</a></p>'
        '<p style="font-size:small"><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>',
        "Welcome, {{ player.first_name }}! {{ offer | default('Your account is ready.') }}\n"
        "Unsubscribe: {{ unsubscribe_url }}",
    ),
    (
        "welcome",
        "de",
        "Willkommen bei {{ brand.name }}, {{ player.first_name }}",
        "<html><body><h1>Willkommen, {{ player.first_name }}!</h1><p>{{ offer | default('Ihr Konto ist bereit.') }}"
        '</p><p><a href="https://royal.example/lobby">Jetzt spielen</a></p></body></html>',
        "Willkommen, {{ player.first_name }}! {{ offer | default('Ihr Konto ist bereit.') }}",
    ),
    (
        "reload",
        "en",
        "A reload bonus for you",
        "<p>{{ player.first_name }}, {{ offer | default('a 50% reload bonus') }} is waiting.</p>",
        "{{ player.first_name }}, {{ offer | default('a 50% reload bonus') }} is waiting.",
    ),
]


async def seed_crm_templates(rt: Runtime) -> list[str]:
    lines = []
    async with rt.database.transaction() as db:
        brand_id = await db.scalar(select(Brand.id).where(col(Brand.code) == "royal"))
        if brand_id is None:
            return ["no royal brand: no CRM templates"]
        for key, language, subject, body_html, body_text in DEMO_TEMPLATES:
            exists = await db.scalar(
                select(CrmTemplate.id).where(
                    col(CrmTemplate.brand_id) == brand_id,
                    col(CrmTemplate.key) == key,
                    col(CrmTemplate.language) == language,
                )
            )
            if exists is None:
                await templates.save(
                    db,
                    SYSTEM,
                    brand_id=brand_id,
                    key=key,
                    language=language,
                    subject=subject,
                    body_html=body_html,
                    body_text=body_text,
                )
            lines.append(f"template {key} ({language}) at royal")
    return lines
