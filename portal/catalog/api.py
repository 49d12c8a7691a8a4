"""Catalog API: the same data as the 办事指南 pages, for the mini-program."""

from __future__ import annotations

from typing import Any

from ..api import endpoint
from ..core.errors import NotFound
from ..core.translation import gettext as _
from .schemas import ItemDetail, ItemList, ItemQuery, ItemSummary, public_item, summary
from .search import search
from .views import region_catalog


@endpoint("/catalog/items", summary="List the region's service items (filter by part, audience, search text)",
          tags=("catalog",), auth=False, query=ItemQuery, response=ItemList)
def list_items(query: ItemQuery) -> ItemList:
    catalog = region_catalog()
    items = search(catalog, query.q) if query.q and query.q.strip() else list(catalog.items)
    if query.part:
        items = [i for i in items if i.part == query.part]
    if query.audience:
        items = [i for i in items if query.audience in i.audience]
    made = _summaries(catalog)
    return ItemList(region=catalog.region.id, count=len(items), items=[made[i.code] for i in items])


_SUMMARIES: list[tuple[Any, dict[str, ItemSummary]]] = []  # the last catalog's (a process serves one region)


def _summaries(catalog: Any) -> dict[str, ItemSummary]:
    """Every item's summary (both languages in it), made once per catalog: the mini-program lists the items at
    every start, and they change only with the catalog (a new catalog object)."""
    kept = _SUMMARIES[0] if _SUMMARIES else None
    if kept is not None and kept[0] is catalog:
        return kept[1]
    made = {i.code: summary(i) for i in catalog.items}
    _SUMMARIES[:] = [(catalog, made)]
    return made


@endpoint("/catalog/items/<code>", summary="One service item with everything the guide publishes",
          tags=("catalog",), auth=False, response=ItemDetail, errors=(404,))
def get_item(code: str) -> ItemDetail:
    catalog = region_catalog()
    item = catalog.get(code)
    if item is None:
        raise NotFound(_("There is no service item %(code)s in this region's guide.", code=code))
    return ItemDetail(region=catalog.region.id, item=public_item(item))
