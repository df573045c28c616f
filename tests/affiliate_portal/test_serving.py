"""The partner portal is served by the platform at /portal/, like the back office at /admin/: its page, and
every module it loads, from this server only (the back office's lit, GraphQL client and ui.js under /admin)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ADMIN = Path(__file__).resolve().parents[2] / "admin"
IMPORT = re.compile(r"""^\s*import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["'];""", re.MULTILINE)


def import_map(page: str) -> dict[str, str]:
    found = re.search(r'<script type="importmap">(.*?)</script>', page, re.DOTALL)
    assert found, "the page maps lit's bare names (no bundler)"
    imports: dict[str, str] = json.loads(found.group(1))["imports"]
    return imports


async def test_the_portal_page_is_served_at_portal(client: Any) -> None:
    page = await client.get("/portal/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<cp-app></cp-app>" in page.text
    assert "://" not in page.text  # nothing from a CDN: every address is this server's

    bare = await client.get("/portal")
    assert bare.status_code in (301, 307, 308)
    assert bare.headers["location"].endswith("/portal/")


async def test_every_module_the_portal_imports_is_served(client: Any) -> None:
    """The page's import map and every import of admin/portal/*.js resolve to a script this server serves."""
    if not (ADMIN / "node_modules" / "lit").is_dir():
        pytest.skip("admin/node_modules (npm install in admin/, as scripts/test.sh does)")
    page = (await client.get("/portal/")).text
    mapped = import_map(page)
    wanted = {"/portal/app.js", *(target for target in mapped.values() if not target.endswith("/"))}
    for source in sorted((ADMIN / "portal").glob("*.js")):
        for target in IMPORT.findall(source.read_text(encoding="utf-8")):
            if target.startswith("./"):
                wanted.add(f"/portal/{target[2:]}")
            elif target.startswith("/"):
                wanted.add(target)
            else:  # a bare name: the import map must know it (a prefix entry for "lit/…")
                assert target in mapped or any(target.startswith(p) for p in mapped if p.endswith("/")), target
    assert {"/admin/graphql-client.js", "/admin/app/ui.js", "/admin/app/login.js"} <= wanted
    for path in sorted(wanted):
        answer = await client.get(path)
        assert answer.status_code == 200, path
        assert "javascript" in answer.headers["content-type"], path
