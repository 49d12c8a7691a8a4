"""Behind reverse proxies: believe ``X-Forwarded-For``, ``-Proto`` and ``-Host`` only as far as trusted proxies set
them.

``PORTAL_PROXY_HOPS`` is the number of proxies in front of the app (nginx terminating HTTPS: 1; a load balancer
in front of nginx: 2). Each proxy appends the address it received the request from to ``X-Forwarded-For``, so
the client is the ``hops``-th value from the right; values further left were written by the client and are never
believed. With 0 (the default) no forwarded header is believed at all: the client is the connection's peer.

Werkzeug's ProxyFix does the work; afterwards ``request.remote_addr`` is the client everywhere that reads it: the
per-IP rate limits, the audit log and the staff session's address check. It leaves ``REMOTE_ADDR`` alone when a
header carries fewer values than there are hops (a request that did not come through every proxy).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask


class TrustedProxies:
    """WSGI middleware around the app: ProxyFix for the configured number of hops (read from the app's config
    on each request, so a test or an override after ``create_app`` takes effect)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.inner: WSGIApplication = app.wsgi_app
        self._fixers: dict[int, ProxyFix] = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        hops = int(self.app.config.get("PORTAL_PROXY_HOPS") or 0)
        if hops <= 0:
            return self.inner(environ, start_response)
        fixer = self._fixers.get(hops)
        if fixer is None:
            fixer = self._fixers[hops] = ProxyFix(self.inner, x_for=hops, x_proto=hops, x_host=hops)
        return fixer(environ, start_response)


def init_app(app: Flask) -> None:
    app.wsgi_app = TrustedProxies(app)  # type: ignore[method-assign]
