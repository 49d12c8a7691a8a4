"""CSV downloads: UTF-8 with a byte-order mark, so spreadsheet programs on Chinese Windows open it as UTF-8.

A cell that a spreadsheet would run as a formula (it starts with = + - @ or a tab/CR) is prefixed with an
apostrophe (OWASP, "CSV injection"). Headers follow S10: attachment with an RFC 5987 file name, nosniff, no-store.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from flask import Response

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
