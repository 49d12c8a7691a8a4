"""Catalog API: the same data as the 办事指南 pages, for the mini-program."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from ..api import endpoint
from ..core.errors import NotFound
from ..core.pagecache import Kept, KeptAnswers, conditional
from ..core.translation import gettext as _
from .schemas import ItemDetail, ItemList, ItemQuery, public_item, summary
from .search import search
from .views import region_catalog


@endpoint("/catalog/items", summary="List the region's service items (filter by part, audience, search text)",
          tags=("catalog",), auth=False, query=ItemQuery, response=ItemList, also=(304,))
def list_items(query: ItemQuery) -> Response:
    catalog = region_catalog()
    searched = bool(query.q and query.q.strip())

    def listing() -> ItemList:
        items = search(catalog, query.q) if searched else list(catalog.items)
        if query.part:
            items = [i for i in items if i.part == query.part]
        if query.audience:
            items = [i for i in items if query.audience in i.audience]
        return ItemList(region=catalog.region.id, count=len(items), items=[summary(i) for i in items])

    if searched:  # what people type: answered afresh, not kept
        return _answer(_json(listing()))
    return _answer(_kept(catalog, ("list", query.part, query.audience and query.audience.value), listing))


@endpoint("/catalog/items/<code>", summary="One service item with everything the guide publishes",
          tags=("catalog",), auth=False, response=ItemDetail, errors=(404,), also=(304,))
def get_item(code: str) -> Response:
    catalog = region_catalog()
    item = catalog.get(code)
    if item is None:
        raise NotFound(_("There is no service item %(code)s in this region's guide.", code=code))
    return _answer(_kept(catalog, ("item", code), lambda: ItemDetail(region=catalog.region.id,
                                                                     item=public_item(item))))


# --- answers kept per catalog ---------------------------------------------------------------------------------
# The catalog's answers are the same for every caller (both languages are in them) and change only with the catalog:
# each is serialised once per catalog and process, and sent with an ETag, so a mini-program that asks again with
# ``If-None-Match`` gets ``304 Not Modified`` and nothing to download. Searches are answered afresh.

MAX_KEPT = 1024  # the catalog's items and its few lists (parts × audiences)
_kept_answers = KeptAnswers(MAX_KEPT)


def _kept(catalog: Any, key: tuple, make) -> Kept:
    full = (id(catalog), getattr(catalog, "version", ""), *key)
    kept = _kept_answers.get(full)
    if kept is None:
        kept = _json(make())
        _kept_answers.put(full, kept)
    return kept


def _json(model) -> Kept:
    return Kept.of(current_app.json.response(model.model_dump(mode="json")).get_data())


def _answer(kept: Kept) -> Response:
    return conditional(kept, lambda: Response(kept.body, mimetype="application/json"))
