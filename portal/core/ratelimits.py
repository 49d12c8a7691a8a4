"""Rate limits (S4): the counting limiter, its ``memory://`` storage, and the answer when Redis stops answering.

The portal counts attempts itself (``accounts.operations.throttle``) through Flask-Limiter's storage and strategy;
no route carries a limit of the extension's own, so the extension's per-request hooks are not installed
(``CountingLimiter``). When the storage (Redis) stops answering: 503 with ``Retry-After``, in the user's language,
never a 500. The limits are checked before anything else a request does, so a refused request has changed nothing.
Redis is given short timeouts (portal/config.py), so a Redis that hangs costs a request two seconds, not a worker.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from functools import partial
from typing import Any, NoReturn

from flask import Flask, g, render_template
from flask_limiter import Limiter
from limits.errors import StorageError
from limits.storage import MemoryStorage

from .translation import gettext as _
from .web import error_envelope, is_api_request

log = logging.getLogger("portal")
RETRY_AFTER_SECONDS = 30


class SweptMemoryStorage(MemoryStorage):
    """``memory://`` (development, tests, a single process) without a thread per hit: the library's own storage
    starts a ``threading.Timer`` to purge expired counters after nearly every hit; here expired counters are purged
    inline, at most once a ``SWEEP_SECONDS`` and by one thread at a time (another hit meanwhile does not wait), so
    memory holds only the counters of the last moments whatever the number of keys. Counting is unchanged (a counter
    past its expiry reads as zero whether or not it was purged yet). The library calls the hook before it takes the
    key's lock (``incr``, ``decr``, ``acquire_entry``), so a sweep holds no key's lock while it takes each in turn.
    The sweep is this class's own, not the library's timer function: that one fails with ``KeyError`` when a hit
    purges a key it is looking at (harmless in its own thread, a 500 inside a request). Registered for the
    ``memory`` scheme when this module is imported, before the limiter is bound (portal/__init__.py)."""

    STORAGE_SCHEME = ["memory"]  # noqa: RUF012 (the library's registry reads this class attribute)
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the one the library starts at creation
        self.swept_at = time.monotonic()
        self.sweeping = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        del state["sweeping"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.timer.cancel()
        self.sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # the library's private hook, called on every hit
        now = time.monotonic()
        if now - self.swept_at < self.SWEEP_SECONDS or not self.sweeping.acquire(blocking=False):
            return
        try:
            self.swept_at = now
            self.sweep()
        finally:
            self.sweeping.release()

    def sweep(self) -> None:
        """Drop the expired counters and moving-window entries, and the keys left with none."""
        now = time.time()
        for key, expires in list(self.expirations.items()):
            if expires <= now:
                with self.locks[key]:
                    if self.expirations.get(key, now + 1) <= now:  # not started again meanwhile
                        self.storage.pop(key, None)
                        self.expirations.pop(key, None)
                self.locks.pop(key, None)
        for key in list(self.events):
            with self.locks[key]:
                entries = self.events.get(key) or []
                live = entries[:bisect.bisect_left(entries, -now, key=lambda entry: -entry.expiry)]
                if live:
                    self.events[key] = live
                else:
                    self.events.pop(key, None)
            if key not in self.events:
                self.locks.pop(key, None)


class CountingLimiter(Limiter):
    """Flask-Limiter for its configured storage (``RATELIMIT_STORAGE_URI``) and strategy only, which ``throttle``
    counts through. The extension's three hooks on every request (resolving the route's limits, adding their
    headers, a teardown) are removed after binding: no route has limits of the extension's own, so they did nothing
    but cost about a fifth of a light request. A route decorator would therefore silently not limit: it is refused.
    """

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        if not self.enabled:
            return  # nothing was installed
        before, after = app.before_request_funcs.get(None, []), app.after_request_funcs.get(None, [])
        teardown = app.teardown_request_funcs.get(None, [])
        ours = [f for f in after if isinstance(f, partial) and f.args[:1] == (self,)]
        if self._check_request_limit not in before or len(ours) != 1 or self._Limiter__release_context not in teardown:
            raise RuntimeError("Flask-Limiter installs its request hooks differently: review CountingLimiter")
        before.remove(self._check_request_limit)
        after.remove(ours[0])
        teardown.remove(self._Limiter__release_context)

    def limit(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        raise TypeError("routes are not limited by decorators here: call accounts.operations.throttle in the view")

    shared_limit = limit


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
