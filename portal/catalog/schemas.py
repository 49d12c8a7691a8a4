"""JSON shapes of the catalog API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .schema import Audience, Item


class ItemQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    part: str | None = Field(default=None, max_length=20)
    audience: Audience | None = None
    q: str | None = Field(default=None, max_length=100)


class ItemSummary(BaseModel):
    code: str
    name: dict[str, str | None]
    part: str
    audience: list[str]
    handling: str
    time_limit: dict[str, Any]
    online: bool = Field(description="filed online in this service (this deployment's switch, not the guide's)")
    online_is_addition: bool = Field(description="online filing is this service's addition to the published channels")


class ItemList(BaseModel):
    region: str
    count: int
    items: list[ItemSummary]


class ItemDetail(BaseModel):
    region: str
    item: dict[str, Any] = Field(
        description="the full catalog item, as in the region's data (see portal/catalog/schema.py)")


def public_item(item: Item) -> dict[str, Any]:
    """The item as the public reads it: the curation notes (``audit``) are for maintainers only."""
    data = item.model_dump(mode="json", exclude_none=True, exclude={"audit"})
    data["online_is_addition"] = item.online_is_addition
    return data


def summary(item: Item) -> ItemSummary:
    return ItemSummary(
        code=item.code,
        name=item.name.model_dump(),
        part=item.part,
        audience=[a.value for a in item.audience],
        handling=item.handling.type.value,
        time_limit=item.time_limit.model_dump(mode="json", exclude_none=True),
        online=bool(item.online), online_is_addition=item.online_is_addition,
    )
