"""Public pages that belong to no feature: home, health check, language and elder-mode switches."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request
from sqlalchemy import text

from ..core.redirects import safe_target
from ..core.web import LOCALES
from ..extensions import db

bp = Blueprint("pages", __name__)
ONE_YEAR = 365 * 24 * 3600


def safe_next(default: str = "/") -> str:
    """A same-site path to go back to (``core.redirects``); anything else becomes ``default``."""
    return safe_target(request.args.get("next")) or default


@bp.get("/")
def home():
    catalog = current_app.extensions["portal_catalog"]
    return render_template("pages/home.html", region=catalog.region, item_count=len(catalog.items))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # the check exists to report any database failure
        current_app.logger.exception("health check: database unreachable")
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok"})


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
