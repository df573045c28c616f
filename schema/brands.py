"""Brand types."""

from __future__ import annotations

import strawberry
from strawberry import relay

from models import brands as m


@strawberry.type
class Brand(relay.Node):
    id: relay.NodeID[str]
    code: str
    name: str
    minimum_age: int
    default_currency: str
    countries: list[str]
    currencies: list[str]

    @classmethod
    def from_model(cls, brand: m.Brand) -> Brand:
        return cls(
            id=str(brand.id),
            code=brand.code,
            name=brand.name,
            minimum_age=brand.minimum_age,
            default_currency=brand.default_currency,
            countries=list(brand.countries),
            currencies=list(brand.currencies),
        )
