"""When the rate-limit storage (Redis) stops answering: 503 with ``Retry-After``, in the user's language, never a 500.

The limits are checked before anything else a request does (S4), so a refused request has changed nothing. Redis
is given short timeouts (portal/config.py), so a Redis that hangs costs a request two seconds, not a worker.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, g, render_template
from flask_babel import gettext as _
from limits.errors import StorageError
from limits.storage import MemoryStorage

from .web import error_envelope, is_api_request

log = logging.getLogger("portal")
RETRY_AFTER_SECONDS = 30


class SweptMemoryStorage(MemoryStorage):
    """``memory://`` (development, tests, a single process) without a thread per hit: the library's own storage
    starts a ``threading.Timer`` to purge expired counters after nearly every hit; here expired counters are purged
    inline, at most once a ``SWEEP_SECONDS``. Counting is unchanged (a counter past its expiry reads as zero
    whether or not it was purged yet). Registered for the ``memory`` scheme when this module is imported, before
    the limiter is bound (portal/__init__.py)."""

    STORAGE_SCHEME = ["memory"]  # noqa: RUF012 (the library's registry reads this class attribute)
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the one the library starts at creation
        self.swept_at = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # the library's private hook, called on every hit
        now = time.monotonic()
        if now - self.swept_at >= self.SWEEP_SECONDS:
            self.swept_at = now
            self._MemoryStorage__expire_events()


def init_app(app: Flask) -> None:
    @app.errorhandler(StorageError)
    def _storage_unavailable(error: StorageError):
        from .db import db

        log.error("rate-limit storage unavailable (request %s): %r", g.get("request_id"), error.storage_error)
        if db.session.registry.has():
            db.session.rollback()
        message = _("The service is briefly unavailable. Please try again in a minute.")
        if is_api_request():
            response = error_envelope("service_unavailable", message, 503)
        else:
            response = app.make_response((render_template("errors/error.html", status=503, message=message), 503))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
