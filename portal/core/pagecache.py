"""Rendered public pages, kept per process, and fingerprinted static assets.

A guide page (list, item, checklist, contacts) is the same for every anonymous visitor of a region in one language
and mode: it is rendered once and kept, keyed by the catalog's data version (the hash of its data files), the
region, the language, elder mode, the day and the address with its query. A visitor with a session cookie (logged
in, or with a message waiting to be shown) always gets a freshly rendered page. Each answer carries an ``ETag``;
a browser that sends it back in ``If-None-Match`` gets ``304 Not Modified`` without the page being rendered.

The page's CSP nonce is not frozen into the kept copy: it is rendered with a placeholder that each answer
replaces with the request's own fresh nonce.

Static files are linked as ``/static/app.css?v=<hash of the file>``: a changed file gets a new address, so the
answer to a fingerprinted address may be kept by browsers and proxies for a year.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request

from . import clock

NONCE_PLACEHOLDER = "csp-nonce-placeholder-5b1f0c"
MAX_PAGES = 1024
STATIC_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Kept:
    body: str | bytes
    etag: str

    @classmethod
    def of(cls, body: str | bytes) -> Kept:
        return cls(body, hashlib.sha256(body.encode() if isinstance(body, str) else body).hexdigest()[:32])


class KeptAnswers:
    """Answers (or page fragments: ``core.fragments``) kept per process by key, the least recently used dropped
    beyond ``size``; thread-safe."""

    def __init__(self, size: int):
        self.size = size
        self._kept: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
            return kept

    def put(self, key: tuple, kept: Any) -> None:
        with self._lock:
            self._kept[key] = kept
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def held_keys(self) -> list[tuple]:
        with self._lock:
            return list(self._kept)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


def conditional(kept: Kept, make: Callable[[], Response]) -> Response:
    """``make()``'s answer with the ETag of ``kept``; ``304 Not Modified`` (no body) for a client that sends it back
    in ``If-None-Match``. Asked again each time (``no-cache``): the answer is the same for everyone."""
    response = Response(status=304) if kept.etag in request.if_none_match else make()
    response.set_etag(kept.etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


_pages = KeptAnswers(MAX_PAGES)


def clear() -> None:
    _pages.clear()


def _key() -> tuple | None:
    """The page's key, or None when this request must be rendered for the visitor alone."""
    if request.method != "GET" or current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        return None
    from .web import select_locale

    catalog = current_app.extensions["portal_catalog"]
    return (getattr(catalog, "version", ""), current_app.config["PORTAL_REGION"], select_locale(),
            g.get("elder_mode", False), clock.today().isoformat(), request.full_path)


def _answer(kept: Kept) -> Response:
    response = conditional(kept, lambda: Response(kept.body.replace(NONCE_PLACEHOLDER, g.get("csp_nonce", "")),
                                                  mimetype="text/html"))
    response.vary.add("Cookie")
    return response


def public_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Keep the rendered page of ``view`` for anonymous visitors (see the module's docstring)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = _key()
        if key is None:
            return view(*args, **kwargs)
        kept = _pages.get(key)
        if kept is None:
            nonce = g.get("csp_nonce", "")
            g.csp_nonce = NONCE_PLACEHOLDER
            try:
                response = current_app.make_response(view(*args, **kwargs))
            finally:
                g.csp_nonce = nonce
            if response.status_code != 200 or response.mimetype != "text/html":
                return response
            kept = Kept.of(response.get_data(as_text=True))
            _pages.put(key, kept)
        return _answer(kept)

    return wrapper


# --- static files ------------------------------------------------------------------------------------------

_fingerprints: dict[str, str] = {}


def fingerprint(static_folder: str, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256 (read once per process), or None for a missing file."""
    known = _fingerprints.get(filename)
    if known is None:
        path = Path(static_folder, filename)
        if not path.is_file():
            return None
        known = _fingerprints[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return known


def init_app(app: Flask) -> None:
    @app.url_defaults
    def _fingerprinted(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values and app.static_folder:
            version = fingerprint(app.static_folder, values.get("filename", ""))
            if version:
                values["v"] = version

    @app.after_request
    def _static_cache(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            version, filename = request.args.get("v"), (request.view_args or {}).get("filename", "")
            if version and version == fingerprint(app.static_folder or "", filename):
                response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
        return response
