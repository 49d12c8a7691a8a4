"""When the rate-limit storage (Redis) stops answering: 503 with ``Retry-After``, in the user's language, never a 500.

The limits are checked before anything else a request does (S4), so a refused request has changed nothing. Redis
is given short timeouts (portal/config.py), so a Redis that hangs costs a request two seconds, not a worker.
"""

from __future__ import annotations

import logging

from flask import Flask, g, render_template
from flask_babel import gettext as _
from limits.errors import StorageError

from .web import error_envelope, is_api_request

log = logging.getLogger("portal")
RETRY_AFTER_SECONDS = 30


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
