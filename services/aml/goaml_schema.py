"""The published FIU goAML schema a SAR/STR draft must satisfy before it leaves the platform.

The file in services/aml/xsd/ is kept exactly as the FIU distributes it (its README names the source);
its ECMAScript-flavoured patterns are read here the way the FIU's own validator reads them. Loading it
costs about a second of CPU, once per process, on the first export.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

XSD_FILE = Path(__file__).with_name("xsd") / "goAMLSchema-5.0.2-uae-fiu.xsd"

# ECMAScript anchors around a whole pattern: XSD patterns are anchored already and read `^`/`$` literally.
_ANCHORED = re.compile(r'(<xs:pattern value=")\^(.*?)\$(" ?/>)')
# `9-+` inside a class is a range in XSD (an error: '+' < '9'); a trailing '-' is the literal ECMAScript meant.
_EMAIL_CLASS = ("[_a-zA-Z0-9-+]", "[_a-zA-Z0-9+-]")


def xsd_text() -> str:
    text = XSD_FILE.read_text(encoding="utf-8")
    text = _ANCHORED.sub(r"\1\2\3", text)
    return text.replace(*_EMAIL_CLASS)


@cache
def schema() -> Any:
    import xmlschema  # (only an export needs it)

    return xmlschema.XMLSchema11(xsd_text(), base_url=str(XSD_FILE.parent))


def problems(document: bytes) -> list[str]:
    """What the FIU's schema says is wrong with a report (empty: valid)."""
    return [f"{error.path}: {error.reason}" for error in schema().iter_errors(document.decode())]
