"""A journey's definition: validated data (pydantic), stored as JSON in `crm_journeys.definition`.

    {"trigger": {"kind": "big_win", "min_amount": {"EUR": "500.00"}, "min_multiplier": 50},
     "entry_segment_id": null,
     "cap": {"max_entries": 1, "per_days": 30},
     "quiet_hours": {"start": "21:00", "end": "09:00"},
     "experiment_id": null,
     "steps": [{"kind": "send", "channel": "email", "template": "big-win", "product": "casino"},
               {"kind": "wait", "minutes": 1440},
               {"kind": "condition", "test": "has_not_deposited"},
               {"kind": "offer", "campaign_id": "…"}]}

Triggers: an event (`registered`, `first_deposit`, `big_win`: a win of at least an amount in the player's
currency or at least N times the round's stake) or time (`inactive`: no bet or deposit for N days;
`no_deposit`: registered N hours ago and not deposited). Steps: `wait`, `condition` (false ends the run),
and the actions `send`, `offer`, `tag`, `move_to_segment`. A send may pick its template by the A/B
variant of the journey's experiment (`variants`: variant → template).
"""

from __future__ import annotations

import re
import uuid
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import DomainError, ErrorCode
from models.crm import Channel

TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
TEMPLATE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
PRODUCTS = ("casino", "live_casino", "sports", "poker")
MAX_STEPS = 30
EVENT_TRIGGERS = {"registered": "player.registered", "first_deposit": "ledger.deposit", "big_win": "ledger.game_win"}
TIME_TRIGGERS = ("inactive", "no_deposit")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Registered(_Strict):
    kind: Literal["registered"]


class FirstDeposit(_Strict):
    kind: Literal["first_deposit"]


class BigWin(_Strict):
    kind: Literal["big_win"]
    min_amount: dict[str, str] = Field(default_factory=dict, max_length=20)  # currency → decimal string
    min_multiplier: float | None = Field(default=None, gt=1, le=100_000)

    @field_validator("min_amount")
    @classmethod
    def _amounts(cls, value: dict[str, str]) -> dict[str, str]:
        for currency, amount in value.items():
            if not re.fullmatch(r"[A-Z]{3,5}", currency):
                raise ValueError(f"{currency!r} is not a currency code")
            try:
                if Decimal(amount) <= 0:
                    raise ValueError(f"the amount for {currency} must be positive")
            except InvalidOperation as exc:
                raise ValueError(f"{amount!r} is not a decimal amount") from exc
        return value

    @model_validator(mode="after")
    def _some_threshold(self) -> BigWin:
        if not self.min_amount and self.min_multiplier is None:
            raise ValueError("a big win needs a minimum amount or a minimum multiple of the stake")
        return self


class Inactive(_Strict):
    kind: Literal["inactive"]
    days: int = Field(ge=1, le=365)


class NoDeposit(_Strict):
    kind: Literal["no_deposit"]
    hours: int = Field(ge=1, le=24 * 90)


Trigger = Annotated[Registered | FirstDeposit | BigWin | Inactive | NoDeposit, Field(discriminator="kind")]


class Wait(_Strict):
    kind: Literal["wait"]
    minutes: int = Field(ge=1, le=60 * 24 * 90)


class Condition(_Strict):
    kind: Literal["condition"]
    test: Literal["has_deposited", "has_not_deposited", "in_segment", "not_in_segment", "has_tag", "lacks_tag"]
    segment_id: uuid.UUID | None = None
    tag: str | None = None

    @model_validator(mode="after")
    def _operand(self) -> Condition:
        if self.test.endswith("segment") and self.segment_id is None:
            raise ValueError(f"{self.test} needs a segment_id")
        if self.test in ("has_tag", "lacks_tag") and (self.tag is None or not TAG.match(self.tag)):
            raise ValueError(f"{self.test} needs a tag (a-z, 0-9, - and _)")
        return self


class Send(_Strict):
    kind: Literal["send"]
    channel: Channel
    template: str
    product: Literal["casino", "live_casino", "sports", "poker"] = "casino"
    variants: dict[str, str] | None = Field(default=None, max_length=10)  # experiment variant → template

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        if not TEMPLATE.match(value):
            raise ValueError("a template key is lower case letters, digits, '.', '-' and '_' (at most 80)")
        return value

    @field_validator("variants")
    @classmethod
    def _variants(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for variant, template in (value or {}).items():
            if not 0 < len(variant) <= 40 or not TEMPLATE.match(template):
                raise ValueError("each variant names a template key")
        return value


class Offer(_Strict):
    kind: Literal["offer"]
    campaign_id: uuid.UUID
    product: Literal["casino", "live_casino", "sports", "poker"] = "casino"


class Tag(_Strict):
    kind: Literal["tag"]
    tag: str

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        if not TAG.match(value):
            raise ValueError("a tag is lower case letters, digits, '-' and '_' (at most 40)")
        return value


class MoveToSegment(_Strict):
    kind: Literal["move_to_segment"]
    segment_id: uuid.UUID


Step = Annotated[Wait | Condition | Send | Offer | Tag | MoveToSegment, Field(discriminator="kind")]


class Cap(_Strict):
    """How often one player may enter this journey: `max_entries` within `per_days` (null: ever)."""

    max_entries: int = Field(default=1, ge=1, le=1000)
    per_days: int | None = Field(default=None, ge=1, le=3650)


class QuietHours(_Strict):
    """Local times (the player's time zone) between which no email, SMS or push goes out; a window that
    crosses midnight (21:00 to 09:00) is the usual one."""

    start: time
    end: time

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end at the same time")
        return self


class Definition(_Strict):
    trigger: Trigger
    entry_segment_id: uuid.UUID | None = None
    cap: Cap = Cap()
    quiet_hours: QuietHours | None = QuietHours(start=time(21), end=time(9))
    experiment_id: uuid.UUID | None = None
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    @model_validator(mode="after")
    def _variants_need_experiment(self) -> Definition:
        if self.experiment_id is None and any(isinstance(s, Send) and s.variants for s in self.steps):
            raise ValueError("a send with variants needs the journey's experiment_id")
        return self

    @property
    def event_type(self) -> str | None:
        return EVENT_TRIGGERS.get(self.trigger.kind)


def parse(raw: Any) -> Definition:
    """The definition, or a DomainError naming the first problem's place (`definition.steps.1.minutes`)."""
    try:
        return Definition.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise DomainError(
            f"{where or 'definition'}: {first['msg']}",
            field=f"definition.{where}" if where else "definition",
            code=ErrorCode.INVALID_INPUT,
        ) from exc


def stored(definition: Definition) -> dict[str, Any]:
    return definition.model_dump(mode="json")
