"""Message templates: marketing's sources in the database, rendered in Jinja2's sandbox.

- One template per (brand, key, language): a subject, an HTML body and a text body. Saving replaces the
  sources and bumps `version` (audited); a source that does not compile in the sandbox is refused with the
  part and line, so a broken template never reaches the sender.
- Rendering: the HTML body with autoescape (a player's name or a context value cannot inject markup), the
  subject and text body without (they are not HTML). The sandbox (immutable) refuses attribute access to
  internals (`__class__`, …), unsafe calls and changes to the dicts and lists it is given; an undefined name
  renders empty; `{% trans %}` and `_()` translate the platform's words (services/crm/i18n) into the template's
  language. A render is bounded in time (`RENDER_SECONDS`) and in the size one call may build: `*`/`**`, the
  widths of `center`, `indent` and of format specifications (`%`, `|format`, `str.format`), `replace` and `join`.
  What a template sees: `player` (`first_name`, `language`), `brand` (`code`, `name`), the message's own
  `context`, and `unsubscribe_url`.
- Language: the player's own if the brand has that template, else the brand's `default_language`; neither
  is a refusal the sender records (`TEMPLATE_MISSING`).
"""

from __future__ import annotations

import functools
import re
import string
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from babel.support import NullTranslations
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.ids import new_id
from models.brands import Brand
from models.crm_channels import CrmTemplate
from services import audit
from services.crm import i18n

KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$")
MAX_BODY = 100_000

RENDER_SECONDS = 1.0  # one message's three parts; a marketing email renders in milliseconds
MAX_REPEAT = 100_000  # the longest string or list `*` may build
_I18N = ["jinja2.ext.i18n"]


class _TooCostly(Exception):
    pass


_NUMBER = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[a-zA-Z%]")
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _width(value: Any) -> None:
    """Refuse a width (padding, indent) that would build a value longer than `MAX_REPEAT`."""
    if isinstance(value, int) and value > MAX_REPEAT:
        raise _TooCostly("a width too large")
    if isinstance(value, str) and len(value) > MAX_REPEAT:
        raise _TooCostly("an indent too long")


def _format_spec(spec: str, args: Any = ()) -> None:
    """Refuse a format specification whose width or precision is too large (`{:>100000000}`, `%0100000000d`),
    or taken from a value (`{:{w}}`, `%*d`) that is."""
    if "{" in spec:
        raise _TooCostly("a width from a value")
    for number in _NUMBER.findall(spec):
        _width(int(number))
    if "*" in spec:
        for arg in args if isinstance(args, tuple) else (args,):
            _width(arg)


def _percent(template: Any, args: Any) -> None:
    if isinstance(template, str):
        for spec in _PERCENT_SPEC.findall(template):
            _format_spec(spec, args)


def _size(length: int) -> None:
    if length > MAX_REPEAT:
        raise _TooCostly("a value too long")


def _replaced(value: Any, old: Any = "", new: Any = "", count: Any = None, *_: Any, **__: Any) -> None:
    """`replace` may multiply a string's length: refuse a result longer than `MAX_REPEAT`."""
    if isinstance(value, str) and isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        times = value.count(old) if old else len(value) + 1
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        _size(len(value) + times * (len(new) - len(old)))


def _joined(items: Any, separator: Any = "", *_: Any, **__: Any) -> None:
    if isinstance(separator, str) and isinstance(items, list | tuple | str):
        _size(sum(len(item) for item in items if isinstance(item, str)) + len(separator) * max(len(items) - 1, 0))


def _str_method(method: Any, args: tuple[Any, ...]) -> None:
    """The `str` methods that can build a long string from a short one, called from a template."""
    owner, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if isinstance(owner, str) and name in _PADDING_METHODS and args:
        _width(args[0])
    elif isinstance(owner, str) and name == "replace":
        _replaced(owner, *args)
    elif isinstance(owner, str) and name == "join" and args:
        _joined(list(args[0]) if isinstance(args[0], list | tuple) else args[0], owner)


def _bounded(filter_: Callable[..., Any], check: Callable[..., None]) -> Callable[..., Any]:
    @functools.wraps(filter_)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        check(*args, **kwargs)
        return filter_(*args, **kwargs)

    return bounded


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, refusing what would build a huge value in one call (the sandbox itself bounds
    only `range`): `*` and `**`, `%` and `str.format` with a huge width, and the padding filters."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters["center"] = _bounded(self.filters["center"], lambda value, width=80, **__: _width(width))
        self.filters["indent"] = _bounded(self.filters["indent"], lambda value, width=4, *_, **__: _width(width))
        self.filters["format"] = _bounded(self.filters["format"], lambda value, *args, **__: _percent(value, args))
        self.filters["replace"] = _bounded(
            self.filters["replace"], lambda eval_ctx, *args, **named: _replaced(*args, **named)
        )
        self.filters["join"] = _bounded(self.filters["join"], lambda eval_ctx, value, d="", *_, **__: _joined(value, d))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _str_method(__obj, args)
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sized, times in ((left, right), (right, left)):
                if isinstance(sized, str | list | tuple) and isinstance(times, int) and len(sized) * times > MAX_REPEAT:
                    raise _TooCostly("a repeated value too long")
        elif operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise _TooCostly("an exponent too large")
        elif operator == "%":
            _percent(left, right)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            for _, _, spec, _ in string.Formatter().parse(value.__self__):
                _format_spec(spec or "")
        return wrapped


def _within(seconds: float, part: Callable[[], str]) -> str:
    """`part()` stopped when it runs longer than `seconds`: a trace function watches the template's own code
    (nested loops), on this thread only, while it renders."""
    deadline = time.monotonic() + seconds

    def line(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _TooCostly("rendering took too long")
        return line

    def call(frame: FrameType, event: str, arg: Any) -> Any:
        return line if frame.f_code.co_filename == "<template>" else None

    previous = sys.gettrace()
    sys.settrace(call)
    try:
        return part()
    finally:
        sys.settrace(
            previous
        )  # `{% trans %}`, `_()`: the platform's words in the template's language (services/crm/i18n)


@functools.cache
def _environment(autoescape: bool, language: str | None = None) -> ImmutableSandboxedEnvironment:
    """The sandbox (immutable: a template cannot change the message's context or the lists it sees), with the
    gettext of `language`'s catalogue."""
    environment = _Sandbox(autoescape=autoescape, extensions=_I18N)
    catalogue = i18n.translations(language) if language else NullTranslations()
    environment.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    return environment


_html = _environment(True)
_plain = _environment(False)


class TemplateMissing(DomainError):
    code = ErrorCode.NOT_FOUND


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str
    language: str


def _compile(env: ImmutableSandboxedEnvironment, source: str, field: str) -> None:
    try:  # compiled, not only parsed: an unknown filter or test is found here, not at every send
        env.compile(source)
    except TemplateSyntaxError as exc:
        raise DomainError(f"The {field} does not compile: {exc.message} (line {exc.lineno}).", field=field) from exc


def validate(key: str, language: str, subject: str, body_html: str, body_text: str) -> None:
    if not KEY.match(key):
        raise DomainError("A template key is lower-case letters, digits, '.', '_' or '-'.", field="key")
    if not LANGUAGE.match(language):
        raise DomainError("A language is a code such as en, de or pt-BR.", field="language")
    if not subject.strip() or len(subject) > 200:
        raise DomainError("A subject has 1 to 200 characters.", field="subject")
    if len(body_html) > MAX_BODY or len(body_text) > MAX_BODY:
        raise DomainError(f"A body has at most {MAX_BODY} characters.", field="bodyHtml")
    if not body_text.strip():
        raise DomainError("The text body is required (for SMS, push and mail clients without HTML).", field="bodyText")
    _compile(_plain, subject, "subject")
    _compile(_html, body_html, "bodyHtml")
    _compile(_plain, body_text, "bodyText")


async def save(
    db: AsyncSession,
    actor: Viewer,
    *,
    brand_id: uuid.UUID,
    key: str,
    language: str,
    subject: str,
    body_html: str,
    body_text: str,
) -> CrmTemplate:
    """Create or replace the template of (brand, key, language), audited."""
    validate(key, language, subject, body_html, body_text)
    found = await db.scalar(
        select(CrmTemplate)
        .where(
            col(CrmTemplate.brand_id) == brand_id, col(CrmTemplate.key) == key, col(CrmTemplate.language) == language
        )
        .with_for_update()
    )
    now = clock.now()
    before = _view(found) if found is not None else None
    if found is None:
        found = CrmTemplate(
            id=new_id(),
            brand_id=brand_id,
            key=key,
            language=language,
            subject=subject,
            body_html=body_html,
            body_text=body_text,
            updated_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        db.add(found)
    else:
        found.subject, found.body_html, found.body_text = subject, body_html, body_text
        found.version += 1
        found.updated_by, found.updated_at = actor.id, now
    await db.flush()
    await audit.append(
        db,
        actor=actor,
        action="crm.template_saved",
        target_type="crm_template",
        target_id=found.id,
        brand_id=brand_id,
        before=before,
        after=_view(found),
    )
    return found


def _view(template: CrmTemplate) -> dict[str, Any]:
    return {"key": template.key, "language": template.language, "version": template.version}


async def choose(db: AsyncSession, brand_id: uuid.UUID, key: str, language: str | None) -> CrmTemplate:
    """The template in `language`, else in the brand's default language (one statement)."""
    default = select(Brand.default_language).where(col(Brand.id) == brand_id).scalar_subquery()
    wanted = [default] if language is None else [language, default]
    rows = (
        await db.scalars(
            select(CrmTemplate).where(
                col(CrmTemplate.brand_id) == brand_id,
                col(CrmTemplate.key) == key,
                col(CrmTemplate.language).in_(wanted),
            )
        )
    ).all()
    for row in rows:
        if row.language == language:
            return row
    if rows:
        return rows[0]
    raise TemplateMissing(f"No template {key!r} in the player's language or the brand's default.", field="template")


def render(template: CrmTemplate, variables: dict[str, Any]) -> Rendered:
    """The three parts rendered; a template that fails at render time (a sandbox refusal, a type error in an
    expression) raises DomainError, which the sender records on the message."""
    plain, html = _environment(False, template.language), _environment(True, template.language)
    deadline = time.monotonic() + RENDER_SECONDS

    def part(environment: ImmutableSandboxedEnvironment, source: str) -> str:
        compiled = environment.from_string(source)
        return _within(deadline - time.monotonic(), lambda: compiled.render(variables))

    try:
        return Rendered(
            subject=" ".join(part(plain, template.subject).split())[:200],
            html=part(html, template.body_html),
            text=part(plain, template.body_text),
            language=template.language,
        )
    except Exception as exc:  # whatever a template's expression raises (a sandbox refusal, [].pop(), …)
        raise DomainError(f"The template {template.key!r} did not render: {type(exc).__name__}.") from exc


async def exists(db: AsyncSession, brand_id: uuid.UUID, key: str) -> bool:
    found = await db.scalar(
        select(CrmTemplate.id).where(col(CrmTemplate.brand_id) == brand_id, col(CrmTemplate.key) == key).limit(1)
    )
    return found is not None


def readable(viewer: Viewer, *, key: str | None = None) -> SelectOfScalar[CrmTemplate]:
    stmt = select(CrmTemplate)
    if viewer.brand_id is not None:
        stmt = stmt.where(col(CrmTemplate.brand_id) == viewer.brand_id)
    if key is not None:
        stmt = stmt.where(col(CrmTemplate.key) == key)
    return stmt.order_by(col(CrmTemplate.key), col(CrmTemplate.language))


async def get(db: AsyncSession, viewer: Viewer, template_id: uuid.UUID) -> CrmTemplate:
    found: CrmTemplate | None = await db.scalar(readable(viewer).where(col(CrmTemplate.id) == template_id))
    if found is None:
        raise NotFound("No such template.")
    return found
