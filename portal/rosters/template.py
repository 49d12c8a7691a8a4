"""The XLSX template of a roster: the form's table as columns, lists to pick from, and a sheet of instructions.

The columns are the published form's table (e.g. 吉林《职工基本医疗保险参保登记表》's 人员 table), in its order and
with its Chinese labels; a required column is marked “*”. Choice columns carry an Excel data-validation list of the
form's options; ID-number and phone columns are formatted as text, so Excel does not turn an 18-digit number into
2.20102E+17. The template itself, the instructions and the row limit are this service's own; the sheet says so.
"""

from __future__ import annotations

import io
from typing import Any

from ..applications import fields
from ..applications.fields import FieldSpec
from ..catalog.schema import FieldType
from ..core.sheets import column_letter
from ..core.translation import gettext as _

TEXT_TYPES = frozenset({FieldType.id_number, FieldType.phone, FieldType.text, FieldType.bank_account})
LIST_ROWS = 20_001  # the data-validation lists reach the last row a roster may have


def _type_hint(column: FieldSpec) -> str:
    hints = {
        FieldType.id_number: _("18-character ID card number (the check digit is verified)"),
        FieldType.phone: _("11-digit mobile number, or a landline such as 0431-88888888"),
        FieldType.money: _("amount in yuan, at most two decimals"),
        FieldType.number: _("a number"),
        FieldType.date: _("date such as 2026-05-01"),
        FieldType.month: _("month such as 2026-05"),
        FieldType.choice: _("one of: %(options)s", options="、".join(column.option_values())),
        FieldType.multichoice: _("one or more of (separated by 、): %(options)s",
                                 options="、".join(column.option_values())),
    }
    return hints.get(column.type, _("text"))


def build(item: Any, spec: FieldSpec, *, max_rows: int) -> bytes:
    """The template workbook for ``item``'s table ``spec``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "名单"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(spec.columns, start=1):
        letter = column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.label.zh + (" *" if column.required else ""))
        cell.data_type = "s"
        cell.font, cell.fill = bold, fill
        sheet.column_dimensions[letter].width = max(12, min(40, len(column.label.zh) * 2 + 6))
        if column.type in TEXT_TYPES:
            sheet.column_dimensions[letter].number_format = "@"
        if column.type is FieldType.choice and column.options:
            listed = ",".join(column.option_values())
            if len(listed) <= 250:  # Excel's limit for a list typed into the rule
                rule = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=not column.required,
                                      showErrorMessage=True, errorTitle=fields.label_of(column),
                                      error=_("Choose one of the options in the list."))
                rule.add(f"{letter}2:{letter}{LIST_ROWS}")
                sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"

    notes = book.create_sheet("填写说明")
    lines: list[list[str]] = [
        [_("How to fill in this roster")],
        [_("Item: %(name)s (%(code)s)", name=item.name.get("zh"), code=item.code)],
        [_("The columns are those of the table “%(table)s” of the item's published form; this template, the "
           "instructions and the checks are this service's own way of filing the table online.",
           table=spec.label.zh)],
        [_("Fill in one person per row on the sheet “名单”, starting below the header. Keep the header row; columns "
           "marked * are required. At most %(n)d rows per file.", n=max_rows)],
        [_("Type values, not formulas: a formula is never calculated here and its cell is reported as an error. "
           "Files with macros (.xlsm) are refused.")],
        [_("Save as an Excel workbook (.xlsx) or as CSV (UTF-8, or GBK as Excel saves it on a Chinese Windows).")],
        [_("After the upload every row is checked (ID number, person found in the records or new, duplicates, "
           "whether the change applies to this unit's staff); each error is listed with its row and column. Correct "
           "the file and upload it again: the new upload replaces the previous one.")],
        [],
        [_("Column"), _("Name in the header"), _("Required"), _("What to enter")],
    ]
    for index, column in enumerate(spec.columns, start=1):
        lines.append([column_letter(index), column.label.zh, _("yes") if column.required else _("no"),
                      _type_hint(column)])
    for row in lines:
        notes.append(row)
    notes["A1"].font = Font(bold=True, size=14)
    for cell in notes[9]:
        cell.font = bold
    notes.column_dimensions["A"].width = 10
    notes.column_dimensions["B"].width = 24
    notes.column_dimensions["C"].width = 10
    notes.column_dimensions["D"].width = 80
    for row in notes.iter_rows(min_row=2, max_row=7):
        row[0].alignment = Alignment(wrap_text=False)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
