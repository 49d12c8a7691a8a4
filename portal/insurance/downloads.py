"""The tables of a unit's CSV downloads: the staff list (masked) and the contributions by month (the file
itself, its format and its safety against formulas: ``core.downloads``)."""

from __future__ import annotations

from collections.abc import Iterable

from ..core.translation import gettext as _
from .queries import StaffLine, UnitMonth


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


def assessment_table(statement) -> tuple[list[str], list[list[object]]]:
    """应缴核定单: a line per person (masked) with the base and both shares, and the totals."""
    header = [_("Insured person number"), _("Name"), _("ID number"), _("Monthly base (yuan)"),
              _("Unit's share (yuan)"), _("Personal share (yuan)"), _("Total (yuan)")]
    rows: list[list[object]] = [
        [line.insured_no, line.name, line.id_number, f"{line.base:.2f}" if line.base else _("not declared"),
         f"{line.unit_amount:.2f}", f"{line.personal_amount:.2f}", f"{line.total:.2f}"] for line in statement.lines]
    rows.append([_("Total"), "", "", "", f"{statement.unit_total:.2f}", f"{statement.personal_total:.2f}",
                 f"{statement.unit_total + statement.personal_total:.2f}"])
    return header, rows


def _gender(code: str) -> str:
    return _("Male") if code == "M" else _("Female") if code == "F" else ""

