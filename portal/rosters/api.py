"""``/api/v1/applications/<id>/roster``: the batch API for units' own systems — JSON rows onto a draft's roster, the
same checks as an uploaded file, and the rows' checks page by page.

``PUT`` replaces the draft's roster with the rows sent and answers with the check (every error at its row and
column). It is idempotent: the same rows again give the same roster and the same check. With an ``Idempotency-Key``
header, a repeat with the key of the roster in place answers with that roster unchanged (a retried call after a lost
answer does not check the rows again). Submit the draft as any other (``POST /applications/<id>/submit``, which
takes its own Idempotency-Key); completion applies all rows or none.
"""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import BaseModel, ConfigDict, Field

from ..api import Header, current_account, endpoint
from ..applications.api import IDEMPOTENCY_KEY_RE, _actor, _case, _committing
from ..applications.operations import catalog_item
from ..core.errors import NotFound, ValidationFailed
from ..core.translation import gettext as _
from . import store

TAGS = ("rosters",)
PER_PAGE = 100


class RosterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, str | int | float | list[str] | None]] = Field(
        max_length=store.MAX_ROWS, description="One object per person: column key → value (the keys of the form's "
        "table, e.g. name, id_type, id_number, change_category)")


class RosterQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: int = Field(default=1, ge=1, le=10_000)
    errors_only: bool = False


class RowError(BaseModel):
    column: str | None
    where: str
    message: str


class RowCheck(BaseModel):
    row: int
    status: str = Field(description="new (not in the records yet), found (in the records) or error")
    errors: list[RowError]


class RosterOut(BaseModel):
    application_id: int
    table: str
    columns: list[str]
    row_count: int
    error_count: int
    new_count: int
    source: str
    page: int
    pages: int
    rows: list[RowCheck] = Field(description="One page of the rows' checks (values are not sent back)")


def _out(case: Any, roster: Any, *, page: int, errors_only: bool) -> RosterOut:
    item = catalog_item(case)
    spec = store.roster_spec(item, case.audience)
    rows, total = store.page_of(roster, spec, page=page, per_page=PER_PAGE, errors_only=errors_only)
    return RosterOut(application_id=case.id, table=spec.key, columns=[c.key for c in spec.columns],
                     row_count=roster.row_count, error_count=roster.error_count, new_count=roster.new_count,
                     source=roster.source, page=page, pages=max(1, -(-total // PER_PAGE)),
                     rows=[RowCheck(row=r["row"], status=r["status"], errors=[RowError(**e) for e in r["errors"]])
                           for r in rows])


@endpoint("/applications/<int:case_id>/roster", method="PUT", summary="Replace the draft's roster with JSON rows "
          "(a unit's roster item); answers with every row's check. Optional Idempotency-Key: a repeat with the key "
          "of the roster in place returns it unchanged", tags=TAGS, body=RosterIn, response=RosterOut,
          errors=(404, 409, 422),
          headers=(Header("Idempotency-Key", "Optional: a new value per roster; a repeat returns the roster in place",
                          required=False, pattern=IDEMPOTENCY_KEY_RE.pattern),))
def put_roster(case_id: int, body: RosterIn):
    case = _case(case_id)
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and not IDEMPOTENCY_KEY_RE.match(key):
        raise ValidationFailed([("Idempotency-Key", _("This value is not in the expected format."))])
    current = store.roster_of(case)
    if key and current is not None and current.idempotency_key == key:
        return _out(case, current, page=1, errors_only=current.error_count > 0)
    rows = [dict(row) for row in body.rows]
    with _committing():
        roster = store.upload_rows(case, catalog_item(case), rows, by=current_account(), actor=_actor(),
                                   idempotency_key=key)
    return _out(case, roster, page=1, errors_only=roster.error_count > 0)


@endpoint("/applications/<int:case_id>/roster", summary="The case's roster: counts and one page of the rows' checks",
          tags=TAGS, query=RosterQuery, response=RosterOut, errors=(404,))
def get_roster(case_id: int, query: RosterQuery):
    case = _case(case_id)
    roster = store.roster_of(case)
    if roster is None:
        raise NotFound(_("This application has no roster."))
    return _out(case, roster, page=query.page, errors_only=query.errors_only)
