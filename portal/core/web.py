"""Request plumbing shared by every page: request ids, locale, elder mode, security headers, errors."""

from __future__ import annotations

import base64
import logging
import os
import re
from typing import Any

from flask import Flask, current_app, g, has_request_context, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .errors import DomainError
from .translation import gettext as _

log = logging.getLogger("portal")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9\-]{8,64}$")
LOCALES = ("zh_Hans_CN", "en")


def select_locale() -> str:
    """The interface language: an explicit choice (cookie) wins; Chinese is the default.

    The API also honours Accept-Language, since the mini-program sends the phone's language.
    """
    if not has_request_context():  # commands and background jobs speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get("lang")
    if chosen in LOCALES:
        return chosen
    if request.path.startswith("/api/"):
        best = request.accept_languages.best_match(["zh", "en"], default="zh")
        return "en" if best == "en" else "zh_Hans_CN"
    return "zh_Hans_CN"


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def error_envelope(code: str, message: str, status: int, fields: dict | None = None):
    body: dict = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def _http_error_message(error: HTTPException) -> str:
    messages = {
        400: _("The request could not be understood. Please check what you entered and try again."),
        401: _("Please log in first."),
        403: _("You are not allowed to do this."),
        404: _("The page or record you asked for does not exist, or you may not see it."),
        405: _("This address does not accept that kind of request."),
        413: _("What you sent is too large."),
        415: _("The request body must be JSON (Content-Type: application/json)."),
        429: _("Too many attempts. Please wait a moment and try again."),
    }
    return messages.get(error.code or 500, _("Something went wrong on our side. Please try again later."))


DRAIN_MAX_BYTES = 64 * 1024 * 1024  # above any body the reverse proxy lets through (deploy/nginx: 33 MiB)


def _drain_body() -> None:
    """Read and drop the rest of a refused body before answering 413.

    Answering while the client (or nginx, which forwards the whole body) is still sending makes the server close a
    half-read connection; the sender then sees a reset, and nginx answers 502 instead of our message. A body of
    known length up to ``DRAIN_MAX_BYTES`` is read to its end (nothing is kept); a longer or unknown one is not read,
    and the connection is closed after the answer.
    """
    length = request.content_length
    stream = request.environ.get("wsgi.input")
    if stream is None or length is None or length > DRAIN_MAX_BYTES:
        return
    remaining = length
    try:
        while remaining > 0:
            chunk = stream.read(min(remaining, 1024 * 1024))
            if not chunk:
                break
            remaining -= len(chunk)
    except (OSError, ValueError):  # the client went away: nothing left to answer
        return


class KeptSerializerSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signing serializer made once per set of keys instead of at every
    request (Flask builds it in ``open_session`` even when the request has no cookie). A changed ``SECRET_KEY`` or
    ``SECRET_KEY_FALLBACKS`` gets a serializer of its own."""

    def __init__(self) -> None:
        self._kept: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        try:
            return self._kept[keys]
        except KeyError:
            serializer = self._kept[keys] = super().get_signing_serializer(app)
            return serializer
        except TypeError:  # a key that cannot be a dict key: made afresh, as Flask does
            return super().get_signing_serializer(app)


# Content-Security-Policy of every page: scripts and styles only from here, inline ones only with the page's nonce
CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
# set on every response, replacing a view's own value
FIXED_HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                 ("Permissions-Policy", "geolocation=(), microphone=(), camera=(self)"),
                 ("Cross-Origin-Opener-Policy", "same-origin"))
HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")


def _is_staff() -> bool:
    from flask_login import current_user

    return bool(current_user and current_user.is_authenticated and getattr(current_user, "kind", None) == "staff")


def init_app(app: Flask) -> None:
    app.session_interface = KeptSerializerSessions()

    @app.before_request
    def _request_context() -> None:
        fresh = os.urandom(24)  # one read of the system's randomness for both (as secrets.token_* do each)
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID_RE.match(incoming) else fresh[:8].hex()
        g.csp_nonce = base64.urlsafe_b64encode(fresh[8:]).rstrip(b"=").decode("ascii")
        g.elder_mode = request.cookies.get("elder") == "1"

    @app.context_processor
    def _template_globals() -> dict:
        from .translation import locale_name

        locale = locale_name()
        return {
            "csp_nonce": lambda: g.get("csp_nonce", ""),
            # elder mode is for the public: staff pages are desktop tools and offer no toggle (base.html)
            "elder_mode": g.get("elder_mode", False) and not _is_staff(),
            "current_locale": locale,
            "html_lang": "en" if locale.startswith("en") else "zh-Hans",
            "portal_region": app.config["PORTAL_REGION"],
            "is_development": app.config["PORTAL_ENV"] == "development",
        }

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        present = {name.lower() for name, _value in headers}
        # a route's own policy (e.g. ``sandbox`` on uploaded files) is kept beside this one: browsers enforce both
        added = [("Content-Security-Policy", CSP.format(nonce=g.get("csp_nonce", "")))]
        fixed = (*FIXED_HEADERS, HSTS) if app.config["PORTAL_ENV"] == "production" else FIXED_HEADERS
        if "request_id" in g:
            fixed = (*fixed, ("X-Request-ID", g.request_id))
        for name, value in fixed:
            if name.lower() in present:
                headers[name] = value
            else:
                added.append((name, value))
        if "referrer-policy" not in present:
            added.append(("Referrer-Policy", "same-origin"))
        if "cache-control" not in present and request.endpoint != "static":
            # pages and answers may hold personal data: never kept by browsers or proxies
            added.append(("Cache-Control", "no-store"))
        headers.extend(added)  # one pass (setting each name in turn searched the list every time)
        return response

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        from .db import db

        if db.session.registry.has():
            db.session.rollback()  # whatever the failed operation flushed is not kept (S19); committed work stays
        if is_api_request():
            fields = getattr(error, "fields", None)
            return error_envelope(error.code, error.message or error.code, error.status, fields)
        return render_template("errors/error.html", status=error.status, message=error.message), error.status

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        message = _("This form has expired or was not sent from this site. Please reload the page and try again.")
        if is_api_request():
            return error_envelope("csrf_failed", message, 400)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge):
        # the limit of this request (a route may have its own, e.g. uploads), else the app's
        limit_mb = (request.max_content_length or app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
        message = _("What you sent is larger than %(limit)s MB.", limit=limit_mb)
        _drain_body()
        if is_api_request():
            return error_envelope("too_large", message, 413)
        return render_template("errors/error.html", status=413, message=message), 413

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        message = _http_error_message(error)
        status = error.code or 500
        if is_api_request():
            code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                    415: "unsupported_media_type", 429: "rate_limited"}.get(status, "bad_request")
            response = error_envelope(code, message, status)
        else:
            response = app.make_response((render_template("errors/error.html", status=status, message=message),
                                          status))
        if status == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error (request %s)", g.get("request_id"))
        from .db import db

        if db.session.registry.has():
            db.session.rollback()  # a failed statement leaves the session unusable for the page below (S19)
        message = _("Something went wrong on our side. Nothing you entered was saved; please try again later.")
        if is_api_request():
            return error_envelope("internal_error", message, 500)
        return render_template("errors/error.html", status=500, message=message), 500

    from . import failures

    failures.init_app(app, fallback=_unexpected)  # 503 (database or disk down) and 409 (a race lost)
