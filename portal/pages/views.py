"""Public pages that belong to no feature: home, health check, language and elder-mode switches."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request
from flask_login import current_user

from ..calendar import engine as calendar_engine
from ..core import clock
from ..core.migrate import schema_state
from ..core.redirects import safe_target
from ..core.web import LOCALES
from ..extensions import db
from ..notifications import operations as notifications
from . import home as home_data

bp = Blueprint("pages", __name__)
ONE_YEAR = 365 * 24 * 3600


def safe_next(default: str = "/") -> str:
    """A same-site path to go back to (``core.redirects``); anything else becomes ``default``."""
    return safe_target(request.args.get("next")) or default


@bp.get("/")
def home():
    catalog = current_app.extensions["portal_catalog"]
    unread = notifications.unread_count(current_user)
    tiles = home_data.tiles(current_user, unread=unread)
    cases, open_total = home_data.open_cases(current_user)
    return render_template("pages/home.html", region=catalog.region, item_count=len(catalog.items),
                           tiles=home_data.core_tiles(tiles) if g.elder_mode else tiles, cases=cases,
                           open_total=open_total, unread=unread, messages=home_data.unread_messages(current_user),
                           holiday=home_data.holiday_notice())


@bp.get("/healthz")
def healthz():
    """Up when the database answers, its schema is the one this code expects (an unmigrated database is down:
    every page that reads a new column would fail) and the keys are the ones that wrote the data; degraded (still
    200) while a year the deadlines need has no holiday schedule."""
    try:
        schema = _kept_schema_state()  # reading the schema's version is the database's answer
        keys = _keys_health() if schema.at_head else "unchecked"
    except Exception:  # the check exists to report any database failure
        current_app.logger.exception("health check: database unreachable")
        retry = {"Retry-After": str(current_app.config["PORTAL_RETRY_AFTER_SECONDS"])}
        return jsonify({"status": "error", "checks": {"database": "unreachable"}}), 503, retry
    if not schema.at_head:
        return jsonify({"status": "error", "checks": {"database": "ok", "schema": "behind"},
                        "schema": f"not migrated ({schema.describe()}): run portal db upgrade"}), 503
    if keys == "mismatch":  # sealed values would not open: personal pages fail, certificates are "not found"
        return jsonify({"status": "error", "checks": {"database": "ok", "schema": "ok", "keys": keys}}), 503
    # an unknown holiday schedule does not stop the service (deadlines are estimated and say so): degraded, not down
    gaps = [c.year for c in calendar_engine.coverage_gaps(clock.today())]
    checks = {"database": "ok", "schema": "ok", "keys": keys, "calendar": "ok" if not gaps else "degraded"}
    body = {"status": "ok" if not gaps else "degraded", "checks": checks}
    if gaps:
        body["calendar"] = {"uncovered_years": gaps,
                            "action": f"portal calendar import --year {gaps[-1]} FILE (the State Council's notice)"}
    return jsonify(body)


KEYS_KEPT_SECONDS = 30.0


def _keys_health() -> str:
    """The keys' answer, read from the database at most every ``KEYS_KEPT_SECONDS`` per app (they change only when
    an operator records or forgets a key; a monitor polling /healthz should not cost a query each time for it).
    The schema is still read on every check: that read is the database's answer."""
    from ..core import keycheck

    kept = current_app.extensions.setdefault("portal_keys_health", [0.0, None])
    now = time.monotonic()
    if kept[1] is None or now - kept[0] >= KEYS_KEPT_SECONDS:
        kept[:] = [now, keycheck.health(current_app.config["PORTAL_KEYS"], schema_at_head=True)]
    return kept[1]


SCHEMA_KEPT_SECONDS = 1.0


def _kept_schema_state():
    """The database's answer, read at most once a ``SCHEMA_KEPT_SECONDS`` per process while it is good (a monitor
    or load balancer polls every few seconds: it always gets a fresh read; under load the read is not repeated for
    every request). A bad answer is not kept: an unreachable or unmigrated database is asked again at every check,
    so its recovery is seen at once, and an outage within a second."""
    kept = current_app.extensions.setdefault("portal_schema_health", [0.0, None])
    now = time.monotonic()
    if kept[1] is not None and now - kept[0] < SCHEMA_KEPT_SECONDS:
        return kept[1]
    kept[1] = None
    state = _schema_state()
    if state.at_head:
        kept[:] = [now, state]
    return state


def _schema_state():
    """The schema's state from one read of ``alembic_version``, in one round trip (``db.read_rows``: through the
    driver, no ORM session, no transaction; ``BEGIN`` and ``ROLLBACK`` would be two more round trips, and the
    session's machinery costs more than the read). Alembic's own way first asks the catalog whether the table
    exists; a database without the table takes that way."""
    from ..core.migrate import SchemaState, head_revisions

    try:
        current = frozenset(row[0] for row in db.read_rows("SELECT version_num FROM alembic_version"))
    except Exception:  # no table yet (an empty database), or unreachable: alembic's answer, which also says so
        db.session.rollback()
        return schema_state(db.session.connection())
    return SchemaState(current, head_revisions())


@bp.get("/lang/<code>")
def set_language(code: str):
    response = redirect(safe_next())
    if code in LOCALES:
        response.set_cookie("lang", code, max_age=ONE_YEAR, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.get("/elder/<state>")
def set_elder_mode(state: str):
    response = redirect(safe_next())
    response.set_cookie("elder", "1" if state == "on" else "0", max_age=ONE_YEAR, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
