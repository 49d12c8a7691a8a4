"""A new unit online, end to end (issue 21): it registers its first agent with the electronic business licence (the
local 电子营业执照 service that ``portal up`` starts, whose page stands in for the licence holder's app), the agent
files 单位参保登记, a section chief approves and completes it, the unit then exists with the filer as its
administrator, who adds a second agent limited to the contribution items; that agent sees only those.

Things are found by form names, ids and values, not sentences (the pages are in Chinese here).
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

import pytest

from portal.core.validators import id_check_digit
from tests.browser.test_filing import _enter_code, _request_code
from tests.browser.test_workbench import DESK, _decide, _staff_login, _state, _submit
from tests.factories import valid_credit_code

pytestmark = pytest.mark.browser

REGISTRATION_ITEM = "G002036001001"  # 吉林 单位参保登记
CONTRIBUTION_PART = "I"  # 缴费 / 核定 / 退保 / 特殊身份
CONTRIBUTION_ITEM = "J002036011001"  # 单位缴费基数申报(年度), in part I
UNIT_NAME = "长春新锐网络科技有限公司"
LEGAL_REP = "韩立法"


def _id_number() -> str:
    first17 = f"22010219{secrets.randbelow(30) + 70:02d}0{secrets.randbelow(9) + 1}1{secrets.randbelow(9) + 1}" \
              f"{secrets.randbelow(1000):03d}"
    return first17 + id_check_digit(first17)


def _phone() -> str:
    return f"1{secrets.choice('3456789')}{secrets.randbelow(10**9):09d}"


def _path(page) -> str:
    return urlsplit(page.url).path


def _log_in_agent(page, credit_code: str, phone: str) -> None:
    def fill():
        page.fill("#credit_code", credit_code)
        page.fill("#phone", phone)

    _request_code(page, "/login/agent", fill)
    _enter_code(page, phone)
    assert _path(page) == "/me", page.locator("main").inner_text()


def _register_with_the_license(page, credit_code: str, name: str, id_number: str, phone: str) -> None:
    page.goto("/login/agent")
    _submit(page, "main a[href='/units/register']")
    page.fill("#credit_code", credit_code)
    page.fill("#org_name", UNIT_NAME)
    page.fill("#legal_rep_name", LEGAL_REP)
    page.fill("#agent_name", name)
    page.fill("#agent_id_number", id_number)
    page.fill("#agent_phone", phone)
    page.check("input[type=radio][name=method][value=business_license]")
    _submit(page, "main form[action='/units/register'] button[type=submit]")
    _submit(page, "#license-go")
    # the licence service's page: it names the unit and the person to authorise; the holder confirms
    assert page.locator("#credit-code").inner_text() == credit_code
    assert page.locator("#grantee").inner_text() == name
    page.fill("#name", UNIT_NAME)
    page.fill("#legal_rep_name", LEGAL_REP)
    _submit(page, "button[name=decision][value=authorise]")
    assert _path(page) == "/units/register/done", page.content()
    assert page.locator("main a[href='/login/agent']").count() == 1


def _file_registration(page) -> str:
    """File 单位参保登记 from the account page's link; returns the case's path."""
    _submit(page, f"main a[href='/apply/{REGISTRATION_ITEM}']")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        page.locator(f"main form[action='/apply/{REGISTRATION_ITEM}'] button[type=submit]").click()
    form = page.locator(f"main form[action='{_path(page)}']")
    assert form.locator("[name=f_credit_code]").count() == 0 or \
        form.locator("[name=f_credit_code]").get_attribute("readonly") is not None  # locked to the unit
    form.locator("input[type=radio][name=f_purpose][value='新参保登记']").check()
    form.locator("[name=f_address]").fill("长春市南关区人民大街100号")
    form.locator("[name=f_unit_type]").fill("有限责任公司")
    form.locator("[name=f_legal_rep_name]").fill(LEGAL_REP)
    form.locator("[name=f_legal_rep_phone]").fill(_phone())
    form.locator("[name=f_legal_rep_id]").fill(_id_number())
    if not form.locator("[name=f_agent_name]").input_value():
        form.locator("[name=f_agent_name]").fill("经办人")
    form.locator("input[type=checkbox][name=f_insurance_types][value='职工基本医疗保险']").check()
    form.locator("[name=f_declaration_date]").fill("2026-12-01")
    for name in page.eval_on_selector_all("main input[type=radio][name^='m_']",
                                          "inputs => [...new Set(inputs.map(i => i.name))]"):
        offered = page.eval_on_selector_all(f"main input[type=radio][name='{name}']",
                                            "inputs => inputs.map(i => i.value)")
        mode = "at_window" if "at_window" in offered else offered[0]
        page.locator(f"main input[type=radio][name='{name}'][value='{mode}']").check()
    with page.expect_navigation(url=re.compile(r"/applications/\d+$")):
        form.locator("button[name=action][value=submit]").click()
    assert page.locator(".error-summary").count() == 0, page.locator("main").inner_text()
    return _path(page)


def test_a_new_unit_registers_files_its_enrolment_and_limits_a_second_agent(phone, browser, live_server):
    credit_code, admin_phone, second_phone = valid_credit_code(), _phone(), _phone()
    _register_with_the_license(phone, credit_code, "欧阳经办", _id_number(), admin_phone)
    _log_in_agent(phone, credit_code, admin_phone)

    # a unit not yet enrolled: only its 单位参保登记 can be filed
    phone.goto(f"/apply/{CONTRIBUTION_ITEM}")
    assert phone.locator(f"main form[action='/apply/{CONTRIBUTION_ITEM}']").count() == 0
    phone.goto("/me")
    case_path = _file_registration(phone)
    case_id = case_path.rsplit("/", 1)[1]

    context = browser.new_context(viewport=DESK, base_url=live_server, locale="zh-CN")
    staff = context.new_page()
    staff.set_default_timeout(15000)
    try:
        _staff_login(staff, "kezhang")
        staff.goto(f"/staff/cases/{case_id}")
        _submit(staff, "button[name=claim]")
        for action, after in (("accept", "accepted"), ("start_review", "under_review"), ("approve", "approved"),
                              ("complete", "completed")):
            _decide(staff, action)
            assert _state(staff) == after, action
    finally:
        context.close()

    # the unit exists and the filer is its administrator: the agents page opens, the other items too
    phone.goto("/me")
    assert phone.locator("main a[href='/me/agents']").count() == 1
    phone.goto(f"/apply/{CONTRIBUTION_ITEM}")
    assert phone.locator(f"main form[action='/apply/{CONTRIBUTION_ITEM}']").count() == 1

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
        _log_in_agent(page, credit_code, second_phone)
        page.goto("/applications/")
        assert page.locator(f"main a[href='{case_path}']").count() == 0  # the registration is not theirs to see
        assert page.goto(case_path).status == 404
        page.goto(f"/apply/{REGISTRATION_ITEM}")
        assert page.locator(f"main form[action='/apply/{REGISTRATION_ITEM}']").count() == 0
        page.goto(f"/apply/{CONTRIBUTION_ITEM}")
        assert page.locator(f"main form[action='/apply/{CONTRIBUTION_ITEM}']").count() == 1
        assert page.goto("/me/agents").status == 404
    finally:
        second.close()
