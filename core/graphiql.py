"""GraphiQL with no CDN: its page loads React and GraphiQL from this server.

The scripts come from npm packages pinned in admin/package.json (graphiql, react, react-dom, their UMD
builds), which scripts/install.sh installs into admin/node_modules with the back office's modules;
the server already serves that folder under /admin. Without them the page would stay on "Loading…",
so the caller falls back to strawberry's own page (which fetches them from a CDN).
"""

from __future__ import annotations

from pathlib import Path

PAGE = Path(__file__).resolve().parent / "graphiql.html"
# What the page loads, relative to the node_modules folder.
ASSETS = (
    "graphiql/graphiql.min.js",
    "graphiql/graphiql.min.css",
    "react/umd/react.production.min.js",
    "react-dom/umd/react-dom.production.min.js",
)


def graphiql_page(node_modules: Path, served_at: str, *, csrf_header: str) -> str | None:
    """The page, with its assets at `served_at` (the URL of `node_modules`), or None when any is missing."""
    if not all((node_modules / asset).is_file() for asset in ASSETS):
        return None
    return PAGE.read_text().replace("@ASSETS@", served_at.rstrip("/")).replace("@CSRF_HEADER@", csrf_header)
