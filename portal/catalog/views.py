"""Public 办事指南 pages of the deployment region: index, search, item, printable checklist, contacts."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup, escape

from ..core.pagecache import public_page
from ..core.quoting import quote_zh
from . import labels
from .flow import flow_svg
from .loader import Catalog
from .schema import Audience, Item, Text
from .search import search

bp = Blueprint("catalog", __name__, url_prefix="/guide")
MAX_QUERY = 100
NUMBERING = re.compile(r"^(?:[（(]?\d+(?:\.\d+)*[)）.、]?)")  # "7.2", "1.", "（3）" before a published sentence


def region_catalog() -> Catalog:
    return current_app.extensions["portal_catalog"]


def _item_or_404(code: str) -> Item:
    item = region_catalog().get(code)
    if item is None:
        abort(404)
    return item


@bp.app_template_filter("tr")
def translate_text(value: Text | None) -> Markup:
    """A catalog text in the page's language; the published Chinese, marked as quoted, when no gloss exists."""
    return quote_zh(labels.tr(value)) if value is not None else Markup("")


@bp.app_template_filter("squash")
def squash(value: str | None) -> str:
    """``value`` without whitespace (the seeds wrap lines anywhere): for comparing published texts."""
    return re.sub(r"\s+", "", value or "")


def _bare(text: str) -> str:
    """A published sentence for comparison: no whitespace, no list number before it, no full stop after it."""
    return NUMBERING.sub("", squash(text)).rstrip("。；;.")


@bp.app_context_processor
def _catalog_helpers() -> dict:
    return {"catalog_labels": labels, "time_limit_text": labels.time_limit_text, "footer_contacts": footer_contacts,
            "item_name": item_name}


def item_name(code: str | None, name_zh: str) -> Markup:
    """An item's name as lists and case pages show it: its English name with the published Chinese one beside it
    (marked as Chinese) on English pages; the Chinese name on Chinese pages and where the catalog lacks the item."""
    if not labels.is_english():
        return escape(name_zh)
    item = region_catalog().get(code) if code else None
    if item is None:
        return quote_zh(name_zh)
    return escape(item.name.en) + Markup(' <span class="hint">') + quote_zh(name_zh) + Markup("</span>")


def footer_contacts() -> list:
    """The general hotlines the region's own guide publishes (``in_footer`` in its data): none where it has none."""
    return [c for c in region_catalog().region.consultation if c.in_footer and c.phone]


@bp.get("/")
@public_page
def index():
    catalog = region_catalog()
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    audience = request.args.get("audience", "")
    audience = audience if audience in Audience.__members__ else ""
    items = search(catalog, query) if query else list(catalog.items)
    if audience:
        items = [i for i in items if audience in i.audience]
    # items handled inside the agency (nobody files them) are listed apart, under a collapsed heading
    groups = [(part, [i for i in items if i.part == part.id and not i.internal]) for part in catalog.region.parts]
    return render_template("catalog/index.html", region=catalog.region, query=query, audience=audience,
                           groups=[g for g in groups if g[1]], internal=[i for i in items if i.internal],
                           results=items if query else None, audiences=list(Audience))


@bp.get("/items/<code>")
@public_page
def item(code: str):
    item = _item_or_404(code)
    catalog = region_catalog()
    part = next(p for p in catalog.region.parts if p.id == item.part)
    can_file = "applications.start" in current_app.view_functions and item.online and not item.internal
    # a published text is printed once: a note that repeats a rule's text, or a channel text that repeats a step
    shown = {_bare(r.text.zh) for r in item.rules}
    notes = [n for n in item.notes if _bare(n.zh) not in shown]
    show_channel_text = item.channel_text is not None and squash(item.channel_text.zh) not in {
        squash(s.text.zh) for s in item.steps if s.text}
    return render_template("catalog/item.html", item=item, region=catalog.region, part=part, can_file=can_file,
                           notes=notes, show_channel_text=show_channel_text,
                           flow=flow_svg(item.steps, translate_text(item.name)))


@bp.get("/items/<code>/checklist")
@public_page
def checklist(code: str):
    return render_template("catalog/checklist.html", item=_item_or_404(code), region=region_catalog().region)


@bp.get("/contacts")
@public_page
def contacts():
    return render_template("catalog/contacts.html", region=region_catalog().region)
