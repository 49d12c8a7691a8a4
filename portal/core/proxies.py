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

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger("portal")

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
        self._warned = False

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        hops = int(self.app.config.get("PORTAL_PROXY_HOPS") or 0)
        if hops <= 0:
            if not self._warned and "HTTP_X_FORWARDED_FOR" in environ:
                self._warned = True  # once per process: a hint to the operator, not a log line per request
                log.warning("a request came with X-Forwarded-For but PORTAL_PROXY_HOPS is 0: the header is ignored and "
                            "the client is taken to be %s. Behind a reverse proxy, set PORTAL_PROXY_HOPS to the "
                            "number of proxies, or every client shares the proxy's rate limits",
                            environ.get("REMOTE_ADDR"))
            return self.inner(environ, start_response)
        fixer = self._fixers.get(hops)
        if fixer is None:
            fixer = self._fixers[hops] = ProxyFix(self.inner, x_for=hops, x_proto=hops, x_host=hops)
        return fixer(environ, start_response)


def init_app(app: Flask) -> None:
    app.wsgi_app = TrustedProxies(app)  # type: ignore[method-assign]
