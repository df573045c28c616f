"""The catalogues' upkeep (`croupier i18n …`): extract the player-facing messages of the code into
`croupier.pot`, merge them into each language's `.po`, compile the `.mo` files read at run time, and check
that the template is current (a test runs the check, so a new message cannot be forgotten)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from services.crm.i18n import DOMAIN, LOCALES

ROOT = Path(__file__).resolve().parents[3]
# Where player-facing texts come from: the services' refusals, the errors of core, the resolvers.
SOURCES = ("core", "services", "resolvers")
# A refusal's message is the first argument of these; `_`/`N_` mark any other literal.
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "DomainError": (1,),
    "NotFound": (1,),
    "_": None,
    "N_": None,
}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
TEMPLATE = LOCALES / f"{DOMAIN}.pot"


def _messages(root: Path) -> Iterator[tuple[str, str, int]]:
    for folder in SOURCES:
        # Babel prints a line for every f-string message it skips: those stay English (the module docstring).
        with contextlib.redirect_stderr(io.StringIO()):
            found = list(
                extract_from_dir(
                    root / folder,
                    method_map=METHODS,
                    keywords=KEYWORDS,
                    options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
                    strip_comment_tags=True,
                )
            )
        for filename, lineno, message, _comments, _context in found:
            if isinstance(message, str) and message.strip():
                yield message, f"{folder}/{filename}", lineno


def extract(root: Path = ROOT) -> Catalog:
    catalog = Catalog(project="Croupier", domain=DOMAIN, fuzzy=False)
    for message, filename, lineno in _messages(root):
        catalog.add(message, locations=[(filename, lineno)])
    return catalog


def _pot_text(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # No dates and no line numbers: the template changes only when a message does.
    write_po(buffer, catalog, omit_header=True, no_location=False, include_lineno=False, sort_output=True, width=0)
    return buffer.getvalue()


def write_template(root: Path = ROOT) -> int:
    catalog = extract(root)
    TEMPLATE.write_bytes(_pot_text(catalog))
    return len(catalog)


def template_is_current(root: Path = ROOT) -> bool:
    return TEMPLATE.exists() and TEMPLATE.read_bytes() == _pot_text(extract(root))


def languages() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def update(language: str | None = None) -> list[str]:
    """Merge the template into each language's catalogue (a new language gets an empty one)."""
    template = _read(TEMPLATE)
    done = []
    for code in [language] if language else languages():
        path = LOCALES / code / "LC_MESSAGES" / f"{DOMAIN}.po"
        catalog = _read(path, code) if path.exists() else Catalog(locale=code.replace("-", "_"), domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(
                handle,
                catalog,
                omit_header=False,
                include_lineno=False,
                sort_output=True,
                width=0,
                ignore_obsolete=True,
            )
        done.append(code)
    return done


def compile_all() -> list[tuple[str, int]]:
    """Compile each `.po` to its `.mo`; returns (language, translated messages)."""
    compiled = []
    for code in languages():
        path = LOCALES / code / "LC_MESSAGES" / f"{DOMAIN}.po"
        catalog = _read(path, code)
        with path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        compiled.append((code, sum(1 for m in catalog if m.id and m.string and not m.fuzzy)))
    return compiled
