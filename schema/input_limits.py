"""Every text input has a maximum length, checked before any resolver runs.

A `String` or `ID` argument or input field takes at most `DEFAULT_MAX_LENGTH` characters unless it
declares its own maximum with `text(...)` (which also says so in the field's description): the
columns a value is stored in (a name in `VARCHAR(100)`, an idempotency key in 200), or what a rule
allows (a note holds 2,000 characters). A `JSON` input takes at most `MAX_JSON_LENGTH` characters once
serialised, unless it declares its own maximum the same way (a provider's game list). The check is
one schema extension (`InputLimits`) over every field's arguments, walking
input objects and lists, so no resolver can forget it and no over-long text reaches the database
(where it would fail with INTERNAL, or be stored — and audited — as it is).

A mutation whose payload has `errors` refuses in the payload, as for any bad input: `INVALID_INPUT`
with the `field` (its path below `input`, e.g. `firstName` or `roles.brand`) and a message; any other
field refuses with a GraphQL error, `BAD_USER_INPUT` with `extensions.field`. The extension itself is
`schema.extensions.InputLimits`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)
from strawberry.types.base import has_object_definition

from core.errors import ApiError, ApiErrorCode, ErrorCode
from schema.base import UserError

MAX_LENGTH = "max_length"  # the metadata key of a declared maximum
DEFAULT_MAX_LENGTH = 255
MAX_JSON_LENGTH = 65_536
TEXT_SCALARS = ("String", "ID")
BACKREF = "strawberry-definition"  # where strawberry keeps a GraphQL element's definition

# Maxima shared by many inputs (the columns or rules behind them).
EMAIL = 254  # players.email, staff_users.email (RFC 5321)
PASSWORD = 256  # authz.passwords: a longer one is refused anyway
PERSON_NAME = 100  # players.first_name, last_name
PHONE = 32  # players.phone
ADDRESS_LINE = 200  # players.address_line1, address_line2
CITY = 100  # players.city
POSTAL_CODE = 16  # players.postal_code
IDEMPOTENCY_KEY = 200  # ledger and payment idempotency keys
REASON = 500  # why staff did something: payments.decision_reason, and every audit record's reason
NOTE = 2000  # a staff note, an RG intervention or resolution
PROMO_CODE = 40  # bonus_campaigns.promo_code
TITLE = 120  # staff display names, campaign names
PSP_TOKEN = 128  # payments.instrument_token
PUBLIC_KEY = 16_384  # a PEM public key (RSA 16,384 bits fits)
GAME_LIST = 4_000_000  # a provider's game list as JSON: 5,000 games at ~800 characters each
TOKEN = 2048  # a refresh token is hashed, never stored: anything up to a JWT's size is answered TOKEN_INVALID

_NOTHING: Any = dataclasses.MISSING


def text(max_length: int, *, description: str | None = None, default: Any = _NOTHING) -> Any:
    """An input field of at most `max_length` characters (said in its description)."""
    limit = f"At most {max_length} characters."
    return strawberry.field(
        description=f"{description.rstrip('.')}. {limit}" if description else limit,
        metadata={MAX_LENGTH: max_length},
        **({} if default is _NOTHING else {"default": default}),
    )


@dataclass(frozen=True, slots=True)
class TooLong:
    path: tuple[str, ...]
    maximum: int
    json: bool = False

    @property
    def field(self) -> str:
        """The path as payloads name fields: below `input` for a mutation's input, else from the argument."""
        return ".".join(self.path[1:] if self.path[0] == "input" and len(self.path) > 1 else self.path)

    @property
    def message(self) -> str:
        unit = "characters of JSON" if self.json else "characters"
        return f"`{self.field}` takes at most {self.maximum} {unit}."


@dataclass(frozen=True, slots=True)
class FieldPlan:
    arguments: tuple[tuple[str, GraphQLInputType, int], ...]  # (name, type, maximum) of text-bearing args
    payload: Any  # the payload class to refuse in (it has `errors`), or None


def maximum_of(element: GraphQLArgument | GraphQLInputField) -> int:
    """Its declared maximum, else the default of its scalar (text or JSON)."""
    definition = (element.extensions or {}).get(BACKREF)
    declared = getattr(definition, "metadata", None) or {}
    if MAX_LENGTH in declared:
        return int(declared[MAX_LENGTH])
    return MAX_JSON_LENGTH if get_named_type(element.type).name == "JSON" else DEFAULT_MAX_LENGTH


def carries_text(type_: GraphQLInputType, seen: frozenset[str] = frozenset()) -> bool:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    if isinstance(type_, GraphQLScalarType):
        return type_.name in (*TEXT_SCALARS, "JSON")
    if isinstance(type_, GraphQLInputObjectType) and type_.name not in seen:
        return any(carries_text(f.type, seen | {type_.name}) for f in type_.fields.values())
    return False


@functools.cache
def plan(schema: GraphQLSchema) -> dict[tuple[str, str], FieldPlan]:
    """Per (type, field): the arguments to check, and how to refuse. Fields without text arguments are
    left out, so the check costs one dictionary lookup for them."""
    plans: dict[tuple[str, str], FieldPlan] = {}
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            arguments = tuple(
                (name, argument.type, maximum_of(argument))
                for name, argument in field.args.items()
                if carries_text(argument.type)
            )
            if arguments:
                plans[(type_name, field_name)] = FieldPlan(arguments, _payload_class(field.extensions or {}))
    return plans


def _payload_class(extensions: Mapping[str, Any]) -> Any:
    definition = extensions.get(BACKREF)
    returned = getattr(definition, "type", None)
    if returned is None or not has_object_definition(returned):
        return None
    fields = {f.python_name for f in returned.__strawberry_definition__.fields}
    return returned if "errors" in fields else None


def too_long(value: Any, type_: GraphQLInputType, maximum: int, path: tuple[str, ...]) -> TooLong | None:
    """The first value longer than allowed in an argument's coerced value (input objects are dicts
    keyed by field name), or None."""
    if value is None:
        return None
    if isinstance(type_, GraphQLNonNull):
        return too_long(value, type_.of_type, maximum, path)
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return next((found for item in items if (found := too_long(item, type_.of_type, maximum, path))), None)
    if isinstance(type_, GraphQLScalarType):
        if type_.name in TEXT_SCALARS:
            return TooLong(path, maximum) if len(str(value)) > maximum else None
        if type_.name == "JSON" and len(json.dumps(value, default=str)) > maximum:
            return TooLong(path, maximum, json=True)
        return None
    if isinstance(type_, GraphQLInputObjectType) and isinstance(value, Mapping):
        for name, field in type_.fields.items():
            found = too_long(value.get(name), field.type, maximum_of(field), (*path, name))
            if found:
                return found
    return None


def first_too_long(field_plan: FieldPlan, arguments: Mapping[str, Any]) -> TooLong | None:
    for name, type_, maximum in field_plan.arguments:
        found = too_long(arguments.get(name), type_, maximum, (name,))
        if found:
            return found
    return None


def refuse(field_plan: FieldPlan, found: TooLong) -> Any:
    """The payload refusing the input, or (a field without a payload) the request error to raise."""
    if field_plan.payload is not None:
        error = UserError(code=ErrorCode.INVALID_INPUT, field=found.field, message=found.message)
        return field_plan.payload(errors=[error])
    raise ApiError(ApiErrorCode.BAD_USER_INPUT, found.message, field=found.field)
