"""The back office's GraphQL documents, read from its own JavaScript (admin/**/*.js), so tests and
benchmarks run exactly what the screens send and cannot drift from them.

The client sends plain strings: template literals (`query = \\`query Profile(...) {...}\\``), constants
(`const QUEUE = \\`...\\``) and quoted strings (`client.query("{ brands { code name } }")`); a `gql` or
`graphql` tag would be read the same way. A small lexer walks each file (strings, template literals
with nested `${...}` code, comments, regular expression literals) and keeps every literal that is a
GraphQL document. What cannot be read is reported, never skipped: a literal that starts like an
operation but does not parse, an interpolation that is not a document constant of the same file, a
literal or constant handed to `client.query`/`mutate`/`subscribe` that is not a document, and a file
that talks GraphQL but yields none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from graphql import DocumentNode, GraphQLSyntaxError, OperationDefinitionNode, parse

ADMIN = Path(__file__).resolve().parents[2] / "admin"

_GRAPHQL_TAGS = {"gql", "graphql"}
_OTHER_TAGS = {"css", "html", "svg", "unsafeCSS"}  # lit templates: never GraphQL
_OPERATION = re.compile(r"^(?:(?:query|mutation|subscription)\b[^{]*\{|fragment\s+\w+\s+on\s)")
_REGEX_AFTER_WORDS = {
    "return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "instanceof",
    "yield", "await",
}  # fmt: skip
_BINDING = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)\s*=\s*$")  # `const NAME = ` or a class field `query = `
# Calls that send a document: the client's own methods and the ones a screen uses.
_CALL = re.compile(r"\b(?:client|this)\s*\.\s*(?:query|mutate|subscribe|request|_post|_send)\s*\(\s*")


@dataclass
class Literal:
    start: int  # offset of the opening quote or backtick
    end: int  # offset just past the closing one
    line: int
    tag: str | None
    quasis: list[str]  # the text parts (one more than the expressions)
    expressions: list[str]  # the source of each ${...}
    text_spans: list[tuple[int, int]]  # where the text parts lie in the file


class JsSyntaxError(ValueError):
    pass


class _Lexer:
    """Just enough of JavaScript's lexical grammar to find every string and template literal."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.i = 0
        self.literals: list[Literal] = []

    def line(self, offset: int) -> int:
        return self.src.count("\n", 0, offset) + 1

    def run(self) -> list[Literal]:
        self._code(in_template=False)
        return sorted(self.literals, key=lambda lit: lit.start)

    def _code(self, *, in_template: bool) -> None:
        """Code up to the end of the file, or up to the `}` that closes a template's `${`."""
        src, depth = self.src, 0
        prev = ""  # the last significant character, to tell a regex from a division
        word = ""  # the last identifier or keyword
        while self.i < len(src):
            c = src[self.i]
            if c in " \t\r\n":
                self.i += 1
            elif src.startswith("//", self.i):
                end = src.find("\n", self.i)
                self.i = len(src) if end < 0 else end
            elif src.startswith("/*", self.i):
                end = src.find("*/", self.i + 2)
                if end < 0:
                    raise JsSyntaxError(f"unterminated comment at line {self.line(self.i)}")
                self.i = end + 2
            elif c in "'\"":
                self._string(c)
                prev, word = c, ""
            elif c == "`":
                tag = word if prev == "w" and word not in _REGEX_AFTER_WORDS else None
                self._template(tag)
                prev, word = "`", ""
            elif c == "/" and (prev in ("", *"(,=:[!&|?{};+-*%<>~^") or (prev == "w" and word in _REGEX_AFTER_WORDS)):
                self._regex()
                prev, word = "/", ""
            elif c.isalnum() or c in "_$":
                start = self.i
                while self.i < len(src) and (src[self.i].isalnum() or src[self.i] in "_$"):
                    self.i += 1
                word = src[start : self.i]
                prev = "w" if not word[0].isdigit() else "0"
            else:
                if c == "{":
                    depth += 1
                elif c == "}":
                    if in_template and depth == 0:
                        return
                    depth -= 1
                prev, word = (")" if c in ")]" else c), ""
                self.i += 1
        if in_template:
            raise JsSyntaxError("unterminated ${ in a template literal")

    def _string(self, quote: str) -> None:
        start, src = self.i, self.src
        self.i += 1
        text: list[str] = []
        while True:
            if self.i >= len(src) or src[self.i] == "\n":
                raise JsSyntaxError(f"unterminated string at line {self.line(start)}")
            c = src[self.i]
            if c == "\\":
                text.append(_escape(src[self.i + 1]))
                self.i += 2
            elif c == quote:
                self.i += 1
                break
            else:
                text.append(c)
                self.i += 1
        self.literals.append(
            Literal(start, self.i, self.line(start), None, ["".join(text)], [], [(start + 1, self.i - 1)])
        )

    def _template(self, tag: str | None) -> None:
        start, src = self.i, self.src
        self.i += 1
        quasis: list[str] = []
        expressions: list[str] = []
        spans: list[tuple[int, int]] = []
        text: list[str] = []
        text_start = self.i
        while True:
            if self.i >= len(src):
                raise JsSyntaxError(f"unterminated template literal at line {self.line(start)}")
            c = src[self.i]
            if c == "\\":
                text.append(_escape(src[self.i + 1]))
                self.i += 2
            elif c == "`":
                spans.append((text_start, self.i))
                quasis.append("".join(text))
                self.i += 1
                break
            elif src.startswith("${", self.i):
                spans.append((text_start, self.i))
                quasis.append("".join(text))
                text = []
                self.i += 2
                code_start = self.i
                self._code(in_template=True)
                expressions.append(src[code_start : self.i].strip())
                self.i += 1  # the closing }
                text_start = self.i
            else:
                text.append(c)
                self.i += 1
        self.literals.append(Literal(start, self.i, self.line(start), tag, quasis, expressions, spans))

    def _regex(self) -> None:
        start, src = self.i, self.src
        self.i += 1
        in_class = False
        while True:
            if self.i >= len(src) or src[self.i] == "\n":
                raise JsSyntaxError(f"unterminated regular expression at line {self.line(start)}")
            c = src[self.i]
            if c == "\\":
                self.i += 2
                continue
            self.i += 1
            if c == "[":
                in_class = True
            elif c == "]":
                in_class = False
            elif c == "/" and not in_class:
                break
        while self.i < len(src) and src[self.i].isalpha():  # flags
            self.i += 1


def _escape(c: str) -> str:
    return {"n": "\n", "t": "\t", "r": "\r"}.get(c, c)


@dataclass(frozen=True)
class Document:
    file: str  # relative to admin/, e.g. "app/player.js"
    line: int
    text: str
    binding: str | None  # the constant or class field it is assigned to, if any
    ast: DocumentNode = field(compare=False, repr=False)

    @property
    def operations(self) -> list[OperationDefinitionNode]:
        return [d for d in self.ast.definitions if isinstance(d, OperationDefinitionNode)]

    @property
    def name(self) -> str | None:
        """The first operation's name (None for an anonymous one)."""
        ops = self.operations
        return ops[0].name.value if ops and ops[0].name else None

    @property
    def kind(self) -> str:
        ops = self.operations
        return ops[0].operation.value if ops else "fragment"

    @property
    def variables(self) -> set[str]:
        return {v.variable.name.value for op in self.operations for v in op.variable_definitions or ()}

    @property
    def label(self) -> str:
        return f"{self.file}:{self.line}:{self.name or self.binding or 'anonymous'}"


@dataclass
class AdminDocuments:
    documents: list[Document]
    problems: list[str]
    files: list[str]  # every admin source file read

    def named(self, name: str) -> Document:
        found = [d for d in self.documents if d.name == name]
        if len(found) != 1:
            raise LookupError(f"{len(found)} back-office documents are named {name!r}")
        return found[0]

    def in_file(self, file: str) -> list[Document]:
        return [d for d in self.documents if d.file == file]


def sources() -> list[Path]:
    """Every JavaScript file of the back office (its own, not its npm packages)."""
    return sorted(p for p in ADMIN.rglob("*.js") if "node_modules" not in p.relative_to(ADMIN).parts)


@cache
def admin_documents() -> AdminDocuments:
    documents: list[Document] = []
    problems: list[str] = []
    files = []
    for path in sources():
        file = path.relative_to(ADMIN).as_posix()
        files.append(file)
        found, trouble = _file_documents(file, path.read_text(encoding="utf-8"))
        documents.extend(found)
        problems.extend(f"{file}: {p}" for p in trouble)
    return AdminDocuments(documents, problems, files)


def _file_documents(file: str, source: str) -> tuple[list[Document], list[str]]:
    problems: list[str] = []
    try:
        literals = _Lexer(source).run()
    except JsSyntaxError as error:
        return [], [f"cannot read the file: {error}"]
    masked = list(source)  # the code with every literal's text blanked, to find calls and bindings
    for literal in literals:
        for a, b in literal.text_spans:
            masked[a:b] = " " * (b - a)
    code = "".join(masked)

    def line(offset: int) -> int:
        return source.count("\n", 0, offset) + 1

    def binding_of(literal: Literal) -> str | None:
        before = code[max(0, literal.start - 120) : literal.start]
        if literal.tag:  # `const Q = gql\`...\``
            before = before.rstrip()[: -len(literal.tag)]
        found = _BINDING.search(before)
        return found.group(1) if found else None

    bindings = {lit.start: binding_of(lit) for lit in literals}
    constants = {
        name: lit for lit in literals if (name := bindings[lit.start]) and (lit.tag is None or lit.tag in _GRAPHQL_TAGS)
    }
    # What the file sends as GraphQL: literals and constants as the first argument of a client call, and
    # the `query` class field a QueryElement sends.
    sent_literals: dict[int, int] = {}  # literal start -> line of the call
    sent_names: dict[str, int] = {}
    starts = {lit.start for lit in literals}
    for call in _CALL.finditer(code):
        at = call.end()
        if at in starts:
            sent_literals[at] = line(at)
        elif name := re.match(r"[A-Za-z_$][\w$]*", code[at:]):
            sent_names.setdefault(name.group(0), line(at))

    def text_of(literal: Literal, seen: frozenset[int] = frozenset()) -> str:
        parts = [literal.quasis[0]]
        for expression, quasi in zip(literal.expressions, literal.quasis[1:], strict=True):
            inner = constants.get(expression)
            if inner is None or inner.start in seen:
                raise ValueError(f"${{{expression}}} is not a document constant of this file")
            parts += [text_of(inner, seen | {literal.start}), quasi]
        return "".join(parts)

    documents: dict[int, Document] = {}
    unreadable: set[int] = set()
    for literal in literals:
        if literal.tag in _OTHER_TAGS:
            continue
        binding = bindings[literal.start]
        raw = "".join(literal.quasis).lstrip()
        sent = literal.start in sent_literals or binding == "query" or binding in sent_names
        # A GraphQL tag or an operation keyword says "document"; a bare `{ ... }` only when it is sent.
        if not (literal.tag in _GRAPHQL_TAGS or _OPERATION.match(raw) or (raw.startswith("{") and sent)):
            continue
        try:
            text = text_of(literal)
            ast = parse(text)
        except (ValueError, GraphQLSyntaxError) as error:
            reason = error.message if isinstance(error, GraphQLSyntaxError) else str(error)
            problems.append(f"line {literal.line}: not a readable GraphQL document: {reason}")
            unreadable.add(literal.start)
            continue
        documents[literal.start] = Document(file, literal.line, text, binding, ast)

    for start, at in sorted(sent_literals.items()):
        if start not in documents and start not in unreadable:
            problems.append(f"line {at}: a string sent as GraphQL is not a document")
    by_binding = {d.binding for d in documents.values()}
    for name, at in sent_names.items():
        if name.isupper() and name not in by_binding:  # a constant (UPPER_CASE) sent that is no document
            problems.append(f"line {at}: {name} is sent as GraphQL but is no document")
    if (sent_literals or sent_names) and not documents:
        problems.append("talks GraphQL but yields no document")
    return list(documents.values()), problems
