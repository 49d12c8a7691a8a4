"""API meta routes: the OpenAPI document."""

from __future__ import annotations

from flask import current_app, jsonify

from . import bp
from .openapi import build_document


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(build_document(current_app.config["PORTAL_BASE_URL"]))
