"""Failures answered as what they are, on pages and in the API alike.

- **The service cannot work right now** (503 with ``Retry-After``): the database is unreachable, timed out
  (connect, statement or lock timeout, pool exhausted) or out of space; a disk is full (ENOSPC) while storing a
  file. Nothing the user did is wrong and nothing was saved: they should try again in a moment.
- **Someone else changed it first** (409): a row's version moved between reading and writing (SQLAlchemy's
  ``StaleDataError``, at a flush or at the commit), or two requests raced to insert the same unique value (the
  same idempotency key, the same number). Reloading shows where things stand.

Anything else stays a 500 (a bug), logged with its traceback.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, render_template
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict
from .translation import gettext as _

log = logging.getLogger("portal")
FULL_DISK = frozenset({errno.ENOSPC, errno.EDQUOT})
UNIQUE_VIOLATION = "23505"  # SQLSTATE of PostgreSQL's unique_violation


def is_unavailable(error: BaseException) -> bool:
    """The database or the disk cannot serve this request now (not the request's fault, not a bug)."""
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError
                  | sa_exc.DisconnectionError):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OSError) and error.errno in FULL_DISK


def is_unique_violation(error: BaseException) -> bool:
    if not isinstance(error, sa_exc.IntegrityError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) == UNIQUE_VIOLATION:  # psycopg
        return True
    return "UNIQUE constraint failed" in str(original)  # sqlite3


def is_conflict(error: BaseException) -> bool:
    """Another request changed or created the same thing first. On SQLite (development) that includes "database
    is locked": a transaction that read before another's commit may not write after it."""
    if isinstance(error, sa_exc.OperationalError):
        return "database is locked" in str(error.orig)
    return isinstance(error, StaleDataError) or is_unique_violation(error)


def conflict_message() -> str:
    return _("Someone else changed this a moment ago, so what you sent was not saved. Reload the page to see "
             "where it stands, then try again if it is still needed.")


def unavailable_message() -> str:
    return _("The service is briefly unavailable. Nothing you sent was saved; please try again in a minute.")


def _rollback_quietly() -> None:
    from .db import db

    if not db.session.registry.has():
        return
    try:
        db.session.rollback()
    except Exception:  # a dead connection may fail to roll back too; the pool discards it
        log.warning("rollback after a failure failed too", exc_info=True)


@contextmanager
def conflict_on_race() -> Iterator[None]:
    """Inside it, a version conflict or a unique-constraint race (at a flush or at the commit) is rolled back and
    raised as ``Conflict``, for a view that answers the loser of a race itself (e.g. an idempotent replay)."""
    try:
        yield
    except (StaleDataError, sa_exc.IntegrityError, sa_exc.OperationalError) as error:
        if not is_conflict(error):
            raise
        _rollback_quietly()
        raise Conflict(conflict_message(), code="conflict") from error


def init_app(app: Flask, *, fallback: Callable[[Exception], Any]) -> None:
    """Register the 503 and 409 answers; any other database or OS error goes to ``fallback`` (the 500 answer)."""
    from .web import error_envelope, is_api_request

    def _page(status: int, message: str, *, database_down: bool = False):
        if database_down:  # the page must not touch the database again (the header would load the user from it)
            g._login_user = current_app.login_manager.anonymous_user()
        return render_template("errors/error.html", status=status, message=message), status

    def _answer(error: Exception):
        if is_conflict(error):
            log.info("conflict (request %s): %s", g.get("request_id"), error)
            _rollback_quietly()
            if is_api_request():
                return error_envelope("conflict", conflict_message(), 409)
            return _page(409, conflict_message())
        if is_unavailable(error):
            log.error("service unavailable (request %s): %s", g.get("request_id"), error, exc_info=error)
            _rollback_quietly()
            message = unavailable_message()
            if is_api_request():
                response = error_envelope("service_unavailable", message, 503)
            else:
                response = app.make_response(_page(503, message, database_down=True))
            response.headers["Retry-After"] = str(app.config["PORTAL_RETRY_AFTER_SECONDS"])
            return response
        return fallback(error)

    app.register_error_handler(sa_exc.SQLAlchemyError, _answer)
    app.register_error_handler(OSError, _answer)
