"""The maintainers' view of the guide data: how each seed defect was resolved (``audit`` in the region's data).

These notes are provenance for the people who keep the data, written in English for them; the public pages and
the public API never show them. Any member of staff may read them; everyone else gets 404, as elsewhere in /staff.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from ..accounts.permissions import is_staff
from .views import region_catalog

bp = Blueprint("catalog_notes", __name__, url_prefix="/staff/guide-notes")


@bp.before_request
@login_required
def _staff_only():
    if not is_staff(current_user):
        abort(404)


@bp.get("/")
def index():
    catalog = region_catalog()
    items = [item for item in catalog.items if item.audit]
    return render_template("catalog/notes.html", region=catalog.region, items=items)
