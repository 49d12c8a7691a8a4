"""CSV downloads of a unit's records: the staff list (masked) and the contributions by month.

UTF-8 with a byte-order mark, so spreadsheet programs on Chinese Windows open it as UTF-8. A cell that a
spreadsheet would run as a formula (it starts with = + - @ or a tab/CR) is prefixed with an apostrophe
(OWASP, "CSV injection"). Headers follow S10: attachment with an RFC 5987 file name, nosniff, no-store.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from flask import Response
from flask_babel import gettext as _

from .queries import StaffLine, UnitMonth

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_response(header: Sequence[str], rows: Iterable[Sequence[object]], *, filename: str) -> Response:
    response = Response(csv_bytes(header, rows), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def staff_table(lines: Iterable[StaffLine]) -> tuple[list[str], list[list[object]]]:
    header = [_("Insured person number"), _("Name"), _("ID number"), _("Gender"), _("Category"),
              _("Insurance type"), _("Status"), _("Insured since"), _("Ended on")]
    rows = [[line.insured_no, line.name, line.id_number, _gender(line.gender), line.category.label,
             line.insurance_type.label, line.status.label, line.start_date.isoformat(),
             line.end_date.isoformat() if line.end_date else ""] for line in lines]
    return header, rows


def contribution_table(months: Iterable[UnitMonth]) -> tuple[list[str], list[list[object]]]:
    header = [_("Month"), _("Persons paid"), _("Amount paid (yuan)"), _("Persons in arrears"),
              _("Amount in arrears (yuan)")]
    rows = [[m.month.strftime("%Y-%m"), m.persons, f"{m.paid_amount:.2f}", m.arrears_persons,
             f"{m.arrears_amount:.2f}"] for m in months]
    return header, rows


def _gender(code: str) -> str:
    return _("Male") if code == "M" else _("Female") if code == "F" else ""

