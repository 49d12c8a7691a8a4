"""A new unit online, end to end (issue 21's acceptance flow, one test).

It registers its first agent with the electronic business licence (the local 电子营业执照 service that ``portal up``
starts, whose page stands in for the licence holder's app); the agent files 单位参保登记, a section chief approves
and completes it, and the unit exists with the filer as its administrator. The administrator then files 职工参保登记
(G002036001002_01) for 500 new employees from a spreadsheet: downloads the template, uploads 500 rows of which 5 are
bad and sees exactly those 5 with the error at their row and column, is refused submission until they are fixed,
uploads the corrected workbook and submits. The section chief reads the roster's pages (masked) and completes the
case; the unit's staff list then counts the 500 people. Last, the administrator adds a second agent limited to the
contribution items, who sees only those.

Things are found by form names, ids and values, not sentences (the pages are in Chinese here).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.browser.steps import DESK
from tests.browser.steps import submit as _submit
from tests.browser.units import (
    REGISTRATION_ITEM,
    answer_materials,
    file_registration,
    id_number,
    log_in_agent,
    path,
    phone_number,
    register_with_the_license,
    staff_complete,
    staff_count,
    start_draft,
    upload_roster,
)
from tests.factories import valid_credit_code
from tests.rosters.support import person_rows, workbook

pytestmark = pytest.mark.browser

ROSTER_ITEM = "G002036001002_01"  # 职工参保登记: the table 人员 (9 rows on paper)
OFFSET = 7_000  # ID numbers of this test's people: born in 1970, none of them a demo person
CONTRIBUTION_PART = "I"  # 缴费 / 核定 / 退保 / 特殊身份
CONTRIBUTION_ITEM = "J002036011001"  # 单位缴费基数申报(年度), in part I
UNIT_NAME = "长春新锐网络科技有限公司"
LEGAL_REP = "韩立法"


def _roster_of_500(page) -> tuple[int, list[list[str]]]:
    """The administrator's 职工参保登记 with a 500-row roster, 5 bad rows fixed; returns the case id and the rows."""
    edit_path = start_draft(page, ROSTER_ITEM)
    case_id = int(edit_path.split("/")[2])
    answer_materials(page, ("not_applicable", "at_window"))
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
    upload_roster(page, roster_path, workbook(bad))
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
    assert path(page) == edit_path and page.locator(".error-summary").count() == 1

    page.goto(roster_path)
    upload_roster(page, roster_path, workbook(rows))
    assert page.locator("[data-testid=roster-errors]").inner_text().strip() == "0"
    page.goto(edit_path)
    with page.expect_navigation(url=re.compile(r"/applications/\d+$")):
        page.locator(f"main form[action='{edit_path}'] button[name=action][value=submit]").click()
    assert page.locator(".error-summary").count() == 0, page.locator("main").inner_text()
    return case_id, rows


def test_a_new_unit_registers_enrols_500_employees_from_a_spreadsheet_and_limits_a_second_agent(
        phone, browser, live_server):
    credit_code, admin_phone, second_phone = valid_credit_code(), phone_number(), phone_number()
    register_with_the_license(phone, credit_code, UNIT_NAME, LEGAL_REP, "欧阳经办", id_number(), admin_phone)
    phone.set_viewport_size(DESK)
    log_in_agent(phone, credit_code, admin_phone)

    # a unit not yet enrolled: only its 单位参保登记 can be filed
    phone.goto(f"/apply/{CONTRIBUTION_ITEM}")
    assert phone.locator(f"main form[action='/apply/{CONTRIBUTION_ITEM}']").count() == 0
    phone.goto("/me")
    registration_path = file_registration(phone, LEGAL_REP)
    staff_complete(browser, live_server, registration_path.rsplit("/", 1)[1])

    # the unit exists and the filer is its administrator: the agents page opens, the other items too
    phone.goto("/me")
    assert phone.locator("main a[href='/me/agents']").count() == 1
    phone.goto(f"/apply/{CONTRIBUTION_ITEM}")
    assert phone.locator(f"main form[action='/apply/{CONTRIBUTION_ITEM}']").count() == 1
    assert staff_count(phone) == 0

    case_id, rows = _roster_of_500(phone)

    def read_the_roster(staff):
        _submit(staff, f"main a[href='/staff/cases/{case_id}/roster']")
        assert staff.locator("[data-testid=roster-rows]").inner_text().strip() == "500"
        assert staff.locator("main tr.roster-new").count() == 50  # a page of 50 rows, every person new
        assert rows[0][2] not in staff.content()  # ID numbers masked

    staff_complete(browser, live_server, case_id, before=read_the_roster)
    assert staff_count(phone) == 500  # the 500 people are enrolled in this unit

    phone.goto("/me/agents")
    phone.fill("#name", "上官二")
    phone.fill("#phone", second_phone)
    phone.check("input[type=radio][name=everything][value=some]")
    phone.locator("details summary").first.click()
    phone.check(f"input[type=checkbox][name=parts][value={CONTRIBUTION_PART}]")
    _submit(phone, "main form[action='/me/agents'] button[type=submit]")
    assert phone.locator(".flash-success").count() == 1, phone.locator("main").inner_text()

    second = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server, locale="zh-CN")
    page = second.new_page()
    page.set_default_timeout(15000)
    try:
        log_in_agent(page, credit_code, second_phone)
        page.goto("/applications/")
        assert page.locator(f"main a[href='{registration_path}']").count() == 0  # not theirs to see
        assert page.goto(registration_path).status == 404
        assert page.goto(f"/applications/{case_id}/roster").status == 404
        page.goto(f"/apply/{REGISTRATION_ITEM}")
        assert page.locator(f"main form[action='/apply/{REGISTRATION_ITEM}']").count() == 0
        page.goto(f"/apply/{CONTRIBUTION_ITEM}")
        assert page.locator(f"main form[action='/apply/{CONTRIBUTION_ITEM}']").count() == 1
        assert page.goto("/me/agents").status == 404
    finally:
        second.close()
