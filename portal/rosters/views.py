"""The roster pages of a unit's draft: download the template, upload the filled file, read every row's check, upload
again, remove the roster. The page of a submitted case shows the roster read-only. Staff read a case's roster in the
workbench (``workbench.case_roster``).

Thin views: load → permission → one operation → commit → respond. A file that cannot be read is refused with a
message at the upload field and changes nothing (the previous roster stays).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ..applications.views import _own_case
from ..core.audit import actor_of
from ..core.db import db
from ..core.errors import DomainError
from ..core.masking import mask_id_number, mask_name, mask_phone
from ..core.translation import gettext as _
from . import store, template

bp = Blueprint("rosters", __name__)
PER_PAGE = 50
MAX_PAGE = 10_000


def _item(case: Any):
    item = current_app.extensions["portal_catalog"].get(case.item_code)
    spec = store.roster_spec(item, case.audience) if item is not None else None
    if spec is None:
        abort(404)
    return item, spec


def _page_arg() -> int:
    page = request.args.get("page", "1")
    return min(int(page), MAX_PAGE) if page.isdigit() and int(page) > 0 else 1


def masked(spec: Any, values: dict[str, str]) -> dict[str, str]:
    """A row as a list shows it: names, ID numbers and phones masked."""
    out = {}
    for column in spec.columns:
        value = values.get(column.key, "")
        if value and column.key == "name":
            value = mask_name(value)
        elif value and column.type.value == "id_number":
            value = mask_id_number(value)
        elif value and column.type.value == "phone":
            value = mask_phone(value)
        out[column.key] = value
    return out


def view_model(roster: Any, spec: Any, *, page: int, errors_only: bool) -> dict[str, Any]:
    """What the roster table macro shows (agent's page and the workbench alike)."""
    rows, total = store.page_of(roster, spec, page=page, per_page=PER_PAGE, errors_only=errors_only)
    for row in rows:
        row["values"] = masked(spec, row["values"])
    pages = max(1, -(-total // PER_PAGE))
    return {"roster": roster, "spec": spec, "rows": rows, "total": total, "page": min(page, pages), "pages": pages,
            "errors_only": errors_only}


@bp.get("/applications/<int:case_id>/roster")
@login_required
def page(case_id: int):
    case = _own_case(case_id)
    item, spec = _item(case)
    roster = store.roster_of(case)
    errors_only = request.args.get("show") == "errors" or (roster is not None and roster.error_count > 0
                                                           and request.args.get("show") != "all")
    model = view_model(roster, spec, page=_page_arg(), errors_only=errors_only) if roster is not None else None
    return render_template("rosters/page.html", case=case, item=item, spec=spec, model=model, form=FlaskForm(),
                           max_rows=store.MAX_ROWS, upload_error=None)


@bp.post("/applications/<int:case_id>/roster")
@login_required
def upload(case_id: int):
    case = _own_case(case_id)
    item, spec = _item(case)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    part = request.files.get("file")
    data = part.read(store.MAX_FILE_BYTES + 1) if part is not None else b""
    try:
        if not data:
            raise DomainError(_("Choose the filled roster file (.xlsx or .csv)."))
        roster = store.upload_file(case, item, data, part.filename, by=current_user, actor=actor_of(current_user))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        roster = store.roster_of(case)
        model = view_model(roster, spec, page=1, errors_only=roster.error_count > 0) if roster is not None else None
        return render_template("rosters/page.html", case=case, item=item, spec=spec, model=model, form=form,
                               max_rows=store.MAX_ROWS, upload_error=error.message), 400
    if roster.error_count:
        flash(_("%(rows)d rows read; %(errors)d have errors. Correct them in the file and upload it again.",
                rows=roster.row_count, errors=roster.error_count), "error")
    else:
        flash(_("%(rows)d rows read, all correct (%(new)d persons new to the records). The roster is attached to "
                "the draft: submit it from the draft page.", rows=roster.row_count, new=roster.new_count), "success")
    return redirect(url_for("rosters.page", case_id=case.id))


@bp.post("/applications/<int:case_id>/roster/remove")
@login_required
def remove(case_id: int):
    case = _own_case(case_id)
    item, _spec = _item(case)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        store.remove(case, item, by=current_user, actor=actor_of(current_user))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("rosters.page", case_id=case.id))
    flash(_("The roster was removed; the form's table can be typed again."), "success")
    return redirect(url_for("applications.edit", case_id=case.id))


@bp.get("/applications/<int:case_id>/roster/template.xlsx")
@login_required
def template_xlsx(case_id: int):
    case = _own_case(case_id)
    item, spec = _item(case)
    data = template.build(item, spec, max_rows=store.MAX_ROWS)
    response = make_response(data)
    response.mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = f"{item.name.zh}-名单模板.xlsx"
    response.headers["Content-Disposition"] = f"attachment; filename=\"roster.xlsx\"; filename*=UTF-8''{quote(name)}"
    return response


@bp.app_template_global()
def roster_panel(case: Any) -> dict[str, Any] | None:
    """For a unit's case of a roster item: the table a roster may fill and the case's roster (None otherwise)."""
    if case is None or case.audience != "unit":
        return None
    item = current_app.extensions["portal_catalog"].get(case.item_code)
    spec = store.roster_spec(item, case.audience) if item is not None else None
    if spec is None:
        return None
    return {"spec": spec, "roster": store.roster_of(case)}
