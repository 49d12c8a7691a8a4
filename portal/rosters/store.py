"""Rosters on cases: which items take one, uploading (a file or JSON rows) onto a draft, and what the case's
handler reads.

A unit's draft of a roster item (职工参保登记 and its changes, 基本信息变更 — items whose published form has a table
of persons by ID number) may take its table from a spreadsheet instead of typing it row by row. Each upload is
checked at once and replaces the draft's roster; the form's table is then not shown or validated (the 9 rows of
the paper form do not limit an upload), and a roster with errors cannot be submitted. At completion the handler
reads the roster's rows (``roster_table``), checks them all again against the records and writes all or none.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..applications import fields
from ..applications.constants import State
from ..applications.fields import FieldSpec
from ..catalog.schema import FieldType, Item
from ..core import clock
from ..core.audit import Actor, record
from ..core.db import db
from ..core.errors import InvalidTransition, NotFound, ValidationFailed
from ..core.sheets import SheetRefused, read_sheet
from ..core.translation import gettext as _
from ..services import handler_for
from ..services.base import TABLE_SOURCES
from . import checks
from .models import Roster

MAX_ROWS = 20_000  # rows of one roster (a unit's whole staff); more is split into several files
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_COLUMNS = 60


def roster_handlers() -> tuple[type, ...]:
    """The handler families whose cases take a roster: the staff roster items, 基本信息变更, 缴费基数申报."""
    from ..services.contributions import ContributionBase
    from ..services.enrolment.effect import EnrolmentEffect
    from ..services.record_changes.persons import StaffChange

    return EnrolmentEffect, StaffChange, ContributionBase


def roster_spec(item: Item, audience: str) -> FieldSpec | None:
    """The table of persons a unit's case of ``item`` may fill from a spreadsheet; None when it takes no roster."""
    if audience != "unit" or not isinstance(handler_for(item), roster_handlers()):
        return None
    return next((s for s in fields.field_specs(item, audience) if s.type is FieldType.table
                 and any(c.key == "id_number" for c in s.columns)), None)


def roster_of(case: Any) -> Roster | None:
    """The case's roster (its rows and checks are loaded when read), or None."""
    if case is None or case.id is None:
        return None
    return db.session.execute(select(Roster).where(Roster.application_id == case.id)).scalar_one_or_none()


def roster_table(case: Any) -> list[dict[str, Any]] | None:
    """The roster's rows as the form keeps a table's, for the case's handler; None when the case has no roster."""
    roster = roster_of(case)
    if roster is None:
        return None
    from ..catalog.loader import get_catalog

    item = get_catalog(case.region).get(case.item_code)
    spec = roster_spec(item, case.audience) if item is not None else None
    if spec is None:
        return None
    return checks.clean_rows(spec, roster.rows)


TABLE_SOURCES.append(roster_table)  # handlers read a case's roster through services.base.case_table


def _draft_spec(case: Any, item: Item, by: Any) -> FieldSpec:
    from ..applications.permissions import is_applicant

    if not is_applicant(by, case):
        raise NotFound(_("No such application."))
    if case.state != State.DRAFT:
        raise InvalidTransition(_("Only a draft can be edited; this application has been submitted."))
    spec = roster_spec(item, case.audience)
    if spec is None:
        raise NotFound(_("This item takes no roster of persons."))
    return spec


def upload_file(case: Any, item: Item, data: bytes, filename: str | None, *, by: Any, actor: Actor) -> Roster:
    """Read and check a spreadsheet (XLSX or CSV) as the draft's roster. A file that cannot be read raises
    ``SheetRefused`` and changes nothing; a file that can is stored with its checks (errors included)."""
    spec = _draft_spec(case, item, by)
    sheet = read_sheet(data, max_bytes=MAX_FILE_BYTES, max_rows=MAX_ROWS + HEADER_ALLOWANCE, max_columns=MAX_COLUMNS)
    rows, formulas, numbers = checks.sheet_rows(sheet, spec)
    if not rows:
        raise SheetRefused(_("The file has the header row but no rows of persons."))
    if len(rows) > MAX_ROWS:
        raise SheetRefused(_("The roster has more than %(n)d rows; split it into several files.", n=MAX_ROWS))
    found = checks.check(case, handler_for(item), spec, rows, formulas=formulas, numbers=numbers)
    return _store(case, spec, found, by=by, actor=actor, source=sheet.kind, encoding=sheet.encoding,
                  filename=(filename or "")[:200] or None)


HEADER_ALLOWANCE = 5


def upload_rows(case: Any, item: Item, rows: list[dict[str, Any]], *, by: Any, actor: Actor,
                idempotency_key: str | None = None) -> Roster:
    """JSON rows (the batch API) as the draft's roster: row 1 is the first row; values are read as text."""
    spec = _draft_spec(case, item, by)
    keys = {c.key for c in spec.columns}
    if not rows:
        raise ValidationFailed([("rows", _("Send at least one row."))])
    if len(rows) > MAX_ROWS:
        raise ValidationFailed([("rows", _("The roster has more than %(n)d rows; split it into several files.",
                                          n=MAX_ROWS))])
    unknown = sorted({k for row in rows for k in row if k not in keys})
    if unknown:
        raise ValidationFailed([("rows", _("Columns this form does not have: %(columns)s. The columns are: "
                                           "%(keys)s.", columns=", ".join(unknown[:10]),
                                           keys=", ".join(c.key for c in spec.columns)))])
    as_text = [(n, {k: _as_text(v) for k, v in row.items() if _as_text(v) != ""}) for n, row in enumerate(rows, 1)]
    found = checks.check(case, handler_for(item), spec, as_text)
    return _store(case, spec, found, by=by, actor=actor, source="api", encoding=None, filename=None,
                  idempotency_key=idempotency_key)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value).strip()


def _store(case: Any, spec: FieldSpec, found: checks.Checked, *, by: Any, actor: Actor, source: str,
           encoding: str | None, filename: str | None, idempotency_key: str | None = None) -> Roster:
    roster = roster_of(case)
    if roster is None:
        roster = Roster(application_id=case.id)
        db.session.add(roster)
    roster.unit_id, roster.uploaded_by_id, roster.item_code, roster.table_key = (
        case.unit_id, by.id, case.item_code, spec.key)
    roster.source, roster.encoding, roster.filename = source, encoding, filename
    roster.uploaded_at = clock.now()
    roster.row_count, roster.error_count, roster.new_count = len(found.rows), found.error_count, found.new_count
    roster.idempotency_key = idempotency_key
    roster.rows = found.rows
    roster.checks = found.checks
    case.updated_at = clock.now()
    db.session.flush()
    record("roster.upload", actor=actor, object_type="application", object_id=case.id,
           detail={"item": case.item_code, "rows": roster.row_count, "errors": roster.error_count,
                   "source": source})
    return roster


def remove(case: Any, item: Item, *, by: Any, actor: Actor) -> None:
    """Go back to typing the table: the draft's roster is deleted."""
    _draft_spec(case, item, by)
    roster = roster_of(case)
    if roster is not None:
        db.session.delete(roster)
        db.session.flush()
        record("roster.remove", actor=actor, object_type="application", object_id=case.id,
               detail={"item": case.item_code})


def submission_problems(case: Any) -> list[tuple[str | None, str]]:
    """Why the case's roster stops its submission (rows with errors), or []. An item whose form has no roster
    table is not looked up (most items)."""
    from ..applications.operations.base import catalog_item

    roster = roster_of(case) if roster_spec(catalog_item(case), case.audience) is not None else None
    if roster is None or not roster.error_count:
        return []
    return [(roster.table_key, _("The roster has %(n)d rows with errors. Correct them in the file and upload it "
                                 "again.", n=roster.error_count))]


def page_of(roster: Roster, spec: FieldSpec, *, page: int, per_page: int, errors_only: bool = False,
            ) -> tuple[list[dict[str, Any]], int]:
    """One page of the roster's rows with their checks (values as read, messages in the reader's language), and the
    number of rows listed in all."""
    values = dict(roster.rows)
    listed = [c for c in roster.checks if not errors_only or c[1] == "error"]
    start = max(0, (page - 1) * per_page)
    out = []
    for number, status, errors in listed[start:start + per_page]:
        row = values.get(number, {})
        out.append({"row": number, "status": status, "values": row,
                    "errors": [{"column": key, "where": checks.cell_name(spec, number, key),
                                "message": checks.describe(spec, (key, code, params), row)}
                               for key, code, params in errors]})
    return out, len(listed)
