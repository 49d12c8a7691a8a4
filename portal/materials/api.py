"""``/api/v1``: the files of a case's materials for the mini-program — upload (multipart), list, remove, download.

The same operations as the pages (views.py). Case routes answer 404 for a case the caller does not file, file
routes for a file the caller may not open (S6). An upload is ``multipart/form-data`` with one part named
``file``; anything else is 415 (S8).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, request
from pydantic import BaseModel, ConfigDict, Field

from .. import api
from ..api import current_account, endpoint
from ..applications import operations as case_ops
from ..applications.models import Application
from ..applications.permissions import is_applicant
from ..core.audit import actor_of
from ..core.db import db
from ..core.errors import NotFound, ValidationFailed
from ..core.translation import gettext as _
from . import checks, operations, requests
from .models import MaterialFile
from .views import file_response, rewound

api.bp.record_once(lambda state: requests.install(state.app))  # S11: multipart parts stay in memory

TAGS = ("materials",)
MAX_ID = 2**31 - 1


class UploadIn(BaseModel):
    """The multipart form: one part named ``file`` (PDF, JPEG or PNG); no other field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "properties": {"file": {"type": "string", "format": "binary", "description": "The file (PDF, JPEG or PNG)"}},
        "required": ["file"]})


class FileOut(BaseModel):
    id: int
    material: str = Field(description="The material id of the item")
    name: str = Field(description="Display name (any 身份证 or mobile in it masked)")
    size: int = Field(description="Bytes, as stored (images are re-encoded without metadata)")
    kind: str = Field(description="pdf, jpeg, png or ofd (an e-receipt, for a claim's invoices), from the file's bytes")
    media_type: str
    pages: int | None = None
    is_claimed: bool = Field(description="The case was submitted (or resubmitted) with it")


class FileList(BaseModel):
    files: list[FileOut]


def to_api(row: MaterialFile) -> FileOut:
    return FileOut(id=row.id, material=row.material_id, name=operations.display_name(row), size=row.size_plain,
                   kind=row.kind, media_type=row.media_type, pages=row.pages, is_claimed=row.claimed_at is not None)


def _case(case_id: int) -> Application:
    account = current_account()
    case = case_ops.get_case(case_id, for_account=account) if 0 < case_id <= MAX_ID else None
    if case is None or not is_applicant(account, case):
        raise NotFound(_("No such application."))
    return case


@contextmanager
def _committing() -> Iterator[None]:
    """Commit when the operation succeeds. A refused upload commits its audit row only (the operation changed
    nothing else); any other failure rolls back."""
    try:
        yield
    except checks.UploadRefused:
        db.session.commit()
        raise
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


@endpoint("/applications/<int:case_id>/materials/<material_id>", method="POST", summary="Upload one file of a "
          "material (multipart/form-data, part `file`): checked from its bytes, encrypted, stored; the material is "
          "then provided online", tags=TAGS, body=UploadIn, content_type="multipart/form-data", response=FileOut,
          status=201, errors=(404, 409, 413, 503))
def upload_material_file(case_id: int, material_id: str, body: UploadIn):
    case = _case(case_id)
    parts = request.files.getlist("file")
    if len(parts) != 1:
        raise ValidationFailed([("file", _("Send exactly one file, in a form part named “file”."))])
    with _committing():
        row = operations.retry_on_conflict(lambda: operations.upload_file(
            case, material_id, rewound(parts[0].stream), parts[0].filename or "", by=current_account(),
            actor=actor_of(current_account())))
    return to_api(row)


@endpoint("/applications/<int:case_id>/files/<int:file_id>", method="PUT", summary="Replace a file with a new one "
          "(multipart/form-data, part `file`; checked like an upload): while the application is a draft, during "
          "a correction for the materials the notice lists, and once submitted until the agency accepts it",
          tags=TAGS, body=UploadIn, content_type="multipart/form-data", response=FileOut, status=201,
          errors=(404, 409, 413, 503))
def replace_material_file(case_id: int, file_id: int, body: UploadIn):
    case = _case(case_id)
    row = db.session.get(MaterialFile, file_id) if 0 < file_id <= MAX_ID else None
    if row is None or row.application_id != case.id or row.deleted_at is not None:
        raise NotFound(_("The page or record you asked for does not exist, or you may not see it."))
    parts = request.files.getlist("file")
    if len(parts) != 1:
        raise ValidationFailed([("file", _("Send exactly one file, in a form part named “file”."))])
    with _committing():
        new = operations.retry_on_conflict(lambda: operations.replace_file(
            case, row, rewound(parts[0].stream), parts[0].filename or "", by=current_account(),
            actor=actor_of(current_account())))
    return to_api(new)


@endpoint("/applications/<int:case_id>/files", summary="The files of the case's materials", tags=TAGS,
          response=FileList, errors=(404,))
def list_material_files(case_id: int):
    case = _case(case_id)
    grouped = operations.files_of(case, for_account=current_account())
    return FileList(files=[to_api(r) for rows in grouped.values() for r in rows])


@endpoint("/applications/<int:case_id>/files/<int:file_id>", method="DELETE", summary="Remove a file (a draft's, "
          "or one of a material the open notice lists)", tags=TAGS, status=204, errors=(404, 409))
def delete_material_file(case_id: int, file_id: int):
    case = _case(case_id)
    row = db.session.get(MaterialFile, file_id) if 0 < file_id <= MAX_ID else None
    if row is None or row.application_id != case.id:
        raise NotFound(_("The page or record you asked for does not exist, or you may not see it."))
    with _committing():
        operations.remove_file(case, row, by=current_account(), actor=actor_of(current_account()))
    return current_app.response_class(status=204)


@endpoint("/files/<int:file_id>", summary="Download a file (decrypted, streamed; ?inline=1 shows a PDF or image "
          "in place)", tags=TAGS, errors=(404,))
def get_material_file(file_id: int):
    row, case = operations.get_file(file_id, for_account=current_account())
    chunks = operations.open_file(row, case, actor=actor_of(current_account()))
    db.session.commit()
    return file_response(row, chunks, inline=request.args.get("inline") == "1")
