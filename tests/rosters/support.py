"""Rosters for the tests and the benchmark: valid ID numbers in bulk, and workbooks / CSV files built as people do."""

from __future__ import annotations

import io
from datetime import date, timedelta

from portal.core.validators import id_check_digit

ROSTER_ITEM = "G002036001002_01"  # 吉林 职工参保登记: table “人员” (姓名, 身份证件号码, 变更类别, ...)
HEADER = ["姓名 *", "身份证件类型 *", "身份证件号码 *", "申报工资(元/月)", "变更类别 *", "手机号码", "备注"]
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"


def id_numbers(count: int, *, area: str = "220102", first: date = date(1970, 1, 1), offset: int = 0) -> list[str]:
    """``count`` different valid 身份证 numbers (check digit right), deterministic."""
    out = []
    for i in range(offset, offset + count):
        first17 = f"{area}{first + timedelta(days=i // 500):%Y%m%d}{(i % 500) * 2 + 1:03d}"
        out.append(first17 + id_check_digit(first17))
    return out


def person_rows(count: int, *, category: str = "增加", offset: int = 0) -> list[list[str]]:
    return [[f"{SURNAMES[i % len(SURNAMES)]}测{i:05d}", "居民身份证", number, "5000.00", category, "", ""]
            for i, number in enumerate(id_numbers(count, offset=offset), start=offset)]


def workbook(rows: list[list[object]], *, header: list[str] | None = None, formulas: dict[tuple[int, int], str]
             | None = None) -> bytes:
    """An XLSX with ``header`` and ``rows``; ``formulas`` puts a formula at (sheet row, column), both 1-based."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    for (r, c), formula in (formulas or {}).items():
        sheet.cell(row=r, column=c, value=formula)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", header: list[str] | None = None) -> bytes:
    lines = [",".join(header or HEADER)] + [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
