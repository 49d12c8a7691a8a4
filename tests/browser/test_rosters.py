"""A roster end to end: the demo unit's agent files 职工参保登记 for 500 new employees from a spreadsheet.

The agent (demo unit, jilin) starts the draft of 职工参保登记 (G002036001002_01), answers the materials, opens the
roster page, downloads the template, uploads a 500-row workbook with 5 bad rows and sees exactly those 5 rows with
the error at their row and column; uploads the corrected workbook (no errors), and submits the draft. The section
chief (demo ``kezhang``) opens the case, reads the roster's pages, claims, accepts, reviews, approves and completes
it; the unit's staff list then counts 500 more persons.

Things are found by ids, form names and data attributes; the page reads Chinese.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook

from tests.browser.test_filing import _log_in_agent
from tests.browser.test_workbench import DESK, _decide, _staff_login, _state, _submit
from tests.rosters.support import person_rows, workbook

pytestmark = pytest.mark.browser

ITEM = "G002036001002_01"  # 职工参保登记: the table 人员 (9 rows on paper)
OFFSET = 7_000  # ID numbers of this test's people: born in 1970, none of them a demo person
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _staff_count(page) -> int:
    page.goto("/unit/records/staff")
    text = page.locator("#staff-title .hint").inner_text()
    return int(re.sub(r"\D", "", text))


def _upload(page, roster_path: str, data: bytes) -> None:
    page.locator("#roster-file").set_input_files(files=[{"name": "名单.xlsx", "mimeType": XLSX, "buffer": data}])
    _submit(page, f"main form[action='{roster_path}'] button[type=submit]")
    assert urlsplit(page.url).path == roster_path


def test_agent_uploads_500_rows_fixes_5_and_staff_complete_the_case(phone, browser, live_server):
    page = phone
    page.set_viewport_size(DESK)
    _log_in_agent(page)
    before = _staff_count(page)

    page.goto(f"/apply/{ITEM}")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        page.locator(f"main form[action='/apply/{ITEM}'] button[type=submit]").click()
    edit_path = urlsplit(page.url).path
    case_id = int(edit_path.split("/")[2])
    materials = page.eval_on_selector_all("main input[type=radio][name^='m_']",
                                          "inputs => [...new Set(inputs.map(i => i.name))]")
    for name in materials:
        offered = page.eval_on_selector_all(f"main input[type=radio][name='{name}']",
                                            "inputs => inputs.map(i => i.value)")
        mode = "not_applicable" if "not_applicable" in offered else "at_window"
        page.locator(f"main input[type=radio][name='{name}'][value='{mode}']").check()
    _submit(page, f"main form[action='{edit_path}'] button[name=action][value=save]:not([aria-hidden=true])")

    roster_path = f"/applications/{case_id}/roster"
    _submit(page, f"main a[href='{roster_path}']")
    with page.expect_download() as download:
        page.locator(f"main a[href='{roster_path}/template.xlsx']").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    template = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert [c.value for c in template["名单"][1]][:3] == ["姓名 *", "身份证件类型 *", "身份证件号码 *"]

    rows = person_rows(500, offset=OFFSET)
    bad = person_rows(500, offset=OFFSET)
    bad[9][2] = bad[9][2][:-1] + ("1" if bad[9][2][-1] != "1" else "2")  # sheet row 11: wrong check digit
    bad[99][4] = "调入"  # row 101: no such category on the form
    bad[199][0] = ""  # row 201: the name is missing
    bad[299][2] = bad[298][2]  # row 301: the person of row 300 again
    bad[449][3] = "五千元"  # row 451: the wage is not a number
    _upload(page, roster_path, workbook(bad))
    assert page.locator("[data-testid=roster-rows]").inner_text().strip() == "500"
    assert page.locator("[data-testid=roster-errors]").inner_text().strip() == "5"
    listed = page.eval_on_selector_all("main tr.roster-error", "rows => rows.map(r => r.id)")
    assert listed == ["row-11", "row-101", "row-201", "row-301", "row-451"]
    where = {row: page.locator(f"#{row} ul.errors strong").first.inner_text() for row in listed}
    assert where == {"row-11": "第 11 行 C 列（身份证件号码）", "row-101": "第 101 行 E 列（变更类别）",
                     "row-201": "第 201 行 A 列（姓名）", "row-301": "第 301 行 C 列（身份证件号码）",
                     "row-451": "第 451 行 D 列（申报工资(元/月)）"}
    assert "与第 300 行是同一人" in page.locator("#row-301").inner_text()

    # a draft whose roster has errors is not submitted
    page.goto(edit_path)
    _submit(page, f"main form[action='{edit_path}'] button[name=action][value=submit]")
    assert urlsplit(page.url).path == edit_path and page.locator(".error-summary").count() == 1

    page.goto(roster_path)
    _upload(page, roster_path, workbook(rows))
    assert page.locator("[data-testid=roster-errors]").inner_text().strip() == "0"
    page.goto(edit_path)
    with page.expect_navigation(url=re.compile(r"/applications/\d+$")):
        page.locator(f"main form[action='{edit_path}'] button[name=action][value=submit]").click()
    number = page.locator("main .case-number").first.inner_text().strip()

    context = browser.new_context(viewport=DESK, base_url=live_server, locale="zh-CN")
    staff = context.new_page()
    staff.set_default_timeout(30000)
    try:
        _staff_login(staff, "kezhang")
        staff.goto(f"/staff/cases/{case_id}")
        assert staff.locator("main .case-number").inner_text().strip() == number
        _submit(staff, f"main a[href='/staff/cases/{case_id}/roster']")
        assert staff.locator("[data-testid=roster-rows]").inner_text().strip() == "500"
        assert staff.locator("main tr.roster-new").count() == 50  # a page of 50 rows, every person new
        assert rows[0][2] not in staff.content()  # ID numbers masked
        staff.goto(f"/staff/cases/{case_id}")
        _submit(staff, "button[name=claim]")
        for action, after in (("accept", "accepted"), ("start_review", "under_review"), ("approve", "approved"),
                              ("complete", "completed")):
            _decide(staff, action)
            assert _state(staff) == after, action
    finally:
        context.close()

    assert _staff_count(page) == before + 500
