"""Parts of a page rendered once per process for the values they show (a queue's rows).

A fragment is a pure function of its key: the key holds every value the part's template reads (the row itself, the
day, the language, the address prefix), so a kept copy is never stale for what it says. What the template reads
beyond its key — whether a date is estimated (the calendar may learn a year's holidays during the day) — is why a
kept copy lives at most ``KEPT_SECONDS``, as ``calendar.engine.kept_for_display`` keeps the same answers.

A fragment that quoted Chinese on an English page (``core.quoting``) says so again each time it is reused, so the
page's foot still explains it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

from flask import Flask, current_app, g, request
from markupsafe import Markup, escape

from .pagecache import KeptAnswers
from .translation import locale_name

KEPT_SECONDS = 60.0
MAX_FRAGMENTS = 8192  # about 600 bytes each: a few MiB per process at most

_kept = KeptAnswers(MAX_FRAGMENTS)  # key → (when rendered, the markup, whether it quoted Chinese)


def clear() -> None:
    _kept.clear()


def fragment(key: Hashable, render: Callable[[], Markup]) -> Markup:
    """``render()``'s markup for ``key`` in the request's language and address prefix, with the catalog it names
    items from, kept for reuse."""
    catalog = current_app.extensions.get("portal_catalog")
    full = (key, locale_name(), request.script_root, getattr(catalog, "version", ""))
    now = time.monotonic()
    kept = _kept.get(full)
    if kept is not None and now - kept[0] < KEPT_SECONDS:
        if kept[2]:
            g.quoted_chinese = True
        return kept[1]
    before = g.pop("quoted_chinese", None)
    markup = escape(render())  # a macro's markup as it is; plain text escaped, never trusted
    quoted = bool(g.get("quoted_chinese"))
    if before or quoted:
        g.quoted_chinese = True
    _kept.put(full, (now, markup, quoted))
    return markup


def kept(key: Hashable, macro: Callable[..., Markup], *args) -> Markup:
    """For templates: ``macro(*args)``, kept as the fragment of ``key`` — which must hold every value the macro shows
    (``args`` themselves, when they are plain values)."""
    return fragment(key, lambda: macro(*args))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["kept"] = kept
