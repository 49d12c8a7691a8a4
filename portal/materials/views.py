"""Uploading, removing and viewing the files of a case's materials.

The upload is a plain multipart POST that works without JavaScript: it answers with a redirect back to the
material on the filing page and a flash; each refusal's message is kept in the session and shown next to that
material (``upload_refusals``). ``static/js/uploads.js`` posts the same route with ``Accept: application/json``
(drag and drop, a progress bar per file) and gets the same outcome as JSON.

Every route loads the case or the file through the operations: another person's case or file answers 404 (S6).
Files are served decrypted, streamed a segment at a time, with the headers of S10.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from ..applications import operations as case_ops
from ..applications.constants import State
from ..applications.models import Application
from ..applications.permissions import is_applicant
from ..core.audit import actor_of
from ..core.db import db
from ..core.errors import DomainError, NotFound
from ..core.translation import gettext as _
from ..core.translation import ngettext
from . import checks, operations, requests
from .models import MaterialFile

bp = Blueprint("materials", __name__)
bp.record_once(lambda state: requests.install(state.app))  # S11: multipart parts stay in memory

ACCEPT = ".pdf,.jpg,.jpeg,.png,image/*,application/pdf"
ACCEPT_E_RECEIPTS = ACCEPT + ",.ofd,application/ofd"  # the invoices of a claim also take OFD e-receipts
REFUSALS_KEY = "upload_refusals"


def _own_case(case_id: int) -> Application:
    case = case_ops.get_case(case_id, for_account=current_user)
    if not is_applicant(current_user, case):
        raise NotFound(_("No such application."))
    return case


def _back(case: Application, material_id: str):
    endpoint = "applications.correct" if case.state == State.CORRECTION_REQUESTED else "applications.edit"
    return redirect(url_for(endpoint, case_id=case.id, _anchor=f"m_{material_id}"))


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/applications/<int:case_id>/materials/<material_id>")
@login_required
def upload(case_id: int, material_id: str):
    case = _own_case(case_id)
    parts = [p for p in request.files.getlist("file") if p.filename or p.content_length]
    stored: list[MaterialFile] = []
    refused: list[str] = []
    if not parts:
        refused.append(_("Choose a file to upload first."))
    for part in parts:  # each file is committed on its own: a conflict retried for one never undoes another
        try:
            stored.append(operations.retry_on_conflict(_uploading(case, material_id, part)))
        except checks.UploadRefused as error:
            refused.append(error.message)
        except DomainError as error:  # not editable, or no such material
            db.session.rollback()
            if _wants_json():
                return jsonify({"refused": [error.message]}), error.status
            return _back_with(case, material_id, error.message, "error")
        db.session.commit()  # the stored file, or the audit row of its refusal
    if _wants_json():
        return jsonify({"files": [file_to_json(r) for r in stored], "refused": refused}), 201 if stored else 422
    if refused:
        session[REFUSALS_KEY] = {material_id: refused}
    if stored:
        flash(ngettext("%(num)d file uploaded.", "%(num)d files uploaded.", len(stored)), "success")
    for row in stored:
        if row.prefill:
            flash(prefill_message(row.prefill), "success")
    if refused:
        flash(_("Some files were not accepted: see the messages next to the material."), "error")
    return _back(case, material_id)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    """An upload request over its limit (refused before any part is read, even before the CSRF check): the
    refusal appears next to the material, like any other, and the case is untouched. Any other route of this
    blueprint gets the site's usual page."""
    message = requests.too_large_message()
    if request.endpoint not in requests.UPLOAD_ENDPOINTS:
        return render_template("errors/error.html", status=413, message=message), 413
    if _wants_json():
        return jsonify({"refused": [message]}), 413
    case, material_id = _upload_target() if current_user.is_authenticated else (None, None)
    if case is None or material_id is None:
        return render_template("errors/error.html", status=413, message=message), 413
    if State(case.state) in (State.DRAFT, State.CORRECTION_REQUESTED):
        session[REFUSALS_KEY] = {material_id: [message]}
        flash(_("Some files were not accepted: see the messages next to the material."), "error")
        return _back(case, material_id)
    return _back_with(case, material_id, message, "error")


def _upload_target() -> tuple[Application | None, str | None]:
    """The current user's case and material an upload or replacement was sent to, if they are theirs."""
    args = request.view_args or {}
    try:
        case = _own_case(int(args["case_id"]))
        if "file_id" in args:
            return case, _own_file(case, int(args["file_id"])).material_id
    except DomainError:
        return None, None
    return case, args.get("material_id")


def _uploading(case: Application, material_id: str, part: Any):
    """One attempt at storing ``part`` (each attempt reads it from the start)."""

    def attempt() -> MaterialFile:
        part.stream.seek(0)
        return operations.upload_file(case, material_id, part.stream, part.filename or "", by=current_user,
                                      actor=actor_of(current_user))

    return attempt


def _back_with(case: Application, material_id: str, message: str, category: str):
    flash(message, category)
    if State(case.state) in (State.DRAFT, State.CORRECTION_REQUESTED):
        return _back(case, material_id)
    return redirect(url_for("applications.detail", case_id=case.id))


@bp.post("/applications/<int:case_id>/files/<int:file_id>/remove")
@login_required
def remove(case_id: int, file_id: int):
    case = _own_case(case_id)
    row = db.session.get(MaterialFile, file_id) if 0 < file_id < 2**31 else None
    if row is None or row.application_id != case.id:
        raise NotFound(_("The page or record you asked for does not exist, or you may not see it."))
    try:
        operations.remove_file(case, row, by=current_user, actor=actor_of(current_user))
    except DomainError as error:
        db.session.rollback()
        return _back_with(case, row.material_id, error.message, "error")
    db.session.commit()
    return _back_with(case, row.material_id, _("The file was removed."), "success")


@bp.post("/applications/<int:case_id>/files/<int:file_id>/replace")
@login_required
def replace(case_id: int, file_id: int):
    """One new file in the place of one of the case's files (a multipart POST with one part ``file``): on the filing
    pages, and on the application's page until the agency accepts it."""
    case = _own_case(case_id)
    row = _own_file(case, file_id)
    parts = [p for p in request.files.getlist("file") if p.filename or p.content_length]
    try:
        if len(parts) != 1:
            raise checks.UploadRefused("no_file", _("Choose the one file to put in its place."))
        new = operations.retry_on_conflict(lambda: operations.replace_file(
            case, row, rewound(parts[0].stream), parts[0].filename or "", by=current_user,
            actor=actor_of(current_user)))
    except checks.UploadRefused as error:
        db.session.commit()  # the refusal's audit row; nothing else changed
        return _replace_failed(case, row, error)
    except DomainError as error:
        db.session.rollback()
        return _replace_failed(case, row, error)
    db.session.commit()
    if _wants_json():
        return jsonify({"files": [file_to_json(new)], "replaced": row.id, "refused": []}), 201
    return _back_with(case, row.material_id, _("The file was replaced."), "success")


def rewound(stream: Any) -> Any:
    """The stream, read again from its start (each attempt of a retried upload reads it whole)."""
    stream.seek(0)
    return stream


def _own_file(case: Application, file_id: int) -> MaterialFile:
    row = db.session.get(MaterialFile, file_id) if 0 < file_id < 2**31 else None
    if row is None or row.application_id != case.id or row.deleted_at is not None:
        raise NotFound(_("The page or record you asked for does not exist, or you may not see it."))
    return row


def _replace_failed(case: Application, row: MaterialFile, error: DomainError):
    if _wants_json():
        return jsonify({"refused": [error.message]}), error.status
    if State(case.state) in (State.DRAFT, State.CORRECTION_REQUESTED):
        session[REFUSALS_KEY] = {row.material_id: [error.message]}
    return _back_with(case, row.material_id, error.message, "error")


@bp.app_template_global()
def replaceable_files(case: Application) -> list[MaterialFile]:
    """The files the current user may replace on the application's page: theirs, once submitted and until the
    agency accepts it (the filing pages have their own controls)."""
    if not is_applicant(current_user, case) or State(case.state) in (State.DRAFT, State.CORRECTION_REQUESTED):
        return []
    if not operations.can_replace_files(case):
        return []
    files = operations.files_of(case, for_account=current_user)
    return [row for rows in files.values() for row in rows]


@bp.get("/files/<int:file_id>")
@login_required
def view(file_id: int):
    row, case = operations.get_file(file_id, for_account=current_user)
    chunks = operations.open_file(row, case, actor=actor_of(current_user))
    db.session.commit()  # the audit row is kept even if the reader stops half-way
    return file_response(row, chunks, inline=request.args.get("inline") == "1")


def file_response(row: MaterialFile, chunks: Any, *, inline: bool) -> Response:
    """A streamed file with the headers of S10; shown in the browser only when asked and of a safe type."""
    response = Response(chunks, mimetype=row.media_type, direct_passthrough=True)
    response.content_length = row.size_plain
    disposition = "inline" if inline and row.media_type in operations.INLINE_TYPES else "attachment"
    name = operations.display_name(row)
    fallback = f"file-{row.id}{checks.EXTENSIONS.get(row.kind, '')}"
    response.headers["Content-Disposition"] = f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    # no script, no plugin, no same-origin access, even if a viewer were tricked into running something
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


def file_to_json(row: MaterialFile) -> dict[str, Any]:
    out = {"id": row.id, "material": row.material_id, "name": operations.display_name(row), "size": row.size_plain,
           "kind": row.kind, "media_type": row.media_type, "pages": row.pages,
           "url": url_for("materials.view", file_id=row.id),
           "remove_url": url_for("materials.remove", case_id=row.application_id, file_id=row.id)}
    if row.prefill:  # an e-receipt's invoice, put into the form's invoice rows (uploads.js fills the page's too)
        out["prefill"] = {"table": "f_invoices", "row": row.prefill["row"], "values": row.prefill["values"],
                          "message": _("The e-receipt's invoice %(number)s was read into the invoices. Please check "
                                       "it against the receipt before you submit.",
                                       number=row.prefill["values"].get("number", ""))}
    return out


def prefill_message(prefill: dict[str, Any]) -> str:
    return _("The e-receipt's invoice %(number)s was read into row %(row)d of the invoices. Please check it "
             "against the receipt before you submit.", number=prefill["values"].get("number", ""), row=prefill["row"])


# --- what the filing pages' materials section uses ----------------------------------------------------


@bp.app_template_global()
def material_files(case: Application, material_id: str) -> list[MaterialFile]:
    """The files of one material of ``case`` that the current user may see (cached per request)."""
    from flask import g

    cache = g.setdefault("material_files", {})
    if case.id not in cache:
        cache[case.id] = operations.files_of(case, for_account=current_user)
    return cache[case.id].get(material_id, [])


@bp.app_template_global()
def upload_refusals(material_id: str) -> list[str]:
    """The refusals of the last upload to this material, shown once."""
    pending = session.get(REFUSALS_KEY) or {}
    messages = pending.pop(material_id, [])
    if messages:
        session[REFUSALS_KEY] = pending
    return messages


@bp.app_template_global()
def file_display_name(row: MaterialFile) -> str:
    return operations.display_name(row)


@bp.app_template_global()
def material_name(case: Application, material_id: str) -> str:
    """The name of one of the case's materials in the page's language (the id when the catalog lost it)."""
    from ..catalog.views import translate_text

    item = current_app.extensions["portal_catalog"].get(case.item_code)
    found = next((m for m in item.materials if m.id == material_id), None) if item is not None else None
    return translate_text(found.name) if found is not None else material_id


@bp.app_template_global()
def upload_accept(case: Application | None = None, material_id: str | None = None) -> str:
    """The file chooser's hint of what a material takes (the server checks the bytes whatever it says)."""
    if case is not None and material_id and "ofd" in operations.upload_kinds(case, material_id):
        return ACCEPT_E_RECEIPTS
    return ACCEPT


@bp.app_template_global()
def takes_e_receipts(case: Application, material_id: str) -> bool:
    return "ofd" in operations.upload_kinds(case, material_id)


@bp.app_template_global()
def upload_request_limit() -> tuple[int, str]:
    """``(bytes, message)`` of the upload request limit, for uploads.js to refuse a larger file before sending it
    (a server refusing a request it has not read may cut the connection, which a browser reports as a failure)."""
    return int(current_app.config["PORTAL_UPLOAD_MAX_REQUEST_BYTES"]), requests.too_large_message()
