"""Steps shared by the browser tests of units online (issue 21): an agent's login, the new unit's registration with
the local 电子营业执照, its 单位参保登记, a roster upload, the staff's walk of a case to completion.

Things are found by form names, ids and values, not sentences (the pages are in Chinese here).
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from portal.core.validators import id_check_digit
from tests.browser.steps import DESK
from tests.browser.steps import decide as _decide
from tests.browser.steps import enter_code as _enter_code
from tests.browser.steps import request_code as _request_code
from tests.browser.steps import staff_login as _staff_login
from tests.browser.steps import state as _state
from tests.browser.steps import submit as _submit

REGISTRATION_ITEM = "G002036001001"  # 吉林 单位参保登记
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def id_number() -> str:
    first17 = f"22010219{secrets.randbelow(30) + 70:02d}0{secrets.randbelow(9) + 1}1{secrets.randbelow(9) + 1}" \
              f"{secrets.randbelow(1000):03d}"
    return first17 + id_check_digit(first17)


def phone_number() -> str:
    return f"1{secrets.choice('3456789')}{secrets.randbelow(10**9):09d}"


def path(page) -> str:
    return urlsplit(page.url).path


def log_in_agent(page, credit_code: str, phone: str) -> None:
    def fill():
        page.fill("#credit_code", credit_code)
        page.fill("#phone", phone)

    _request_code(page, "/login/agent", fill)
    _enter_code(page, phone)
    assert path(page) == "/me", page.locator("main").inner_text()


def register_with_the_license(page, credit_code: str, unit_name: str, legal_rep: str, name: str, id_no: str,
                              phone: str) -> None:
    """From the agent login page's link to the local 电子营业执照 service's page, where the holder authorises."""
    page.goto("/login/agent")
    _submit(page, "main a[href='/units/register']")
    page.fill("#credit_code", credit_code)
    page.fill("#org_name", unit_name)
    page.fill("#legal_rep_name", legal_rep)
    page.fill("#agent_name", name)
    page.fill("#agent_id_number", id_no)
    page.fill("#agent_phone", phone)
    page.check("input[type=radio][name=method][value=business_license]")
    _submit(page, "main form[action='/units/register'] button[type=submit]")
    _submit(page, "#license-go")
    # the licence service's page: it names the unit and the person to authorise; the holder confirms
    assert page.locator("#credit-code").inner_text() == credit_code
    assert page.locator("#grantee").inner_text() == name
    page.fill("#name", unit_name)
    page.fill("#legal_rep_name", legal_rep)
    _submit(page, "button[name=decision][value=authorise]")
    assert path(page) == "/units/register/done", page.content()
    assert page.locator("main a[href='/login/agent']").count() == 1


def answer_materials(page, prefer: tuple[str, ...]) -> None:
    """Every material's radio group answered with the first of ``prefer`` offered (else its first choice)."""
    for name in page.eval_on_selector_all("main input[type=radio][name^='m_']",
                                          "inputs => [...new Set(inputs.map(i => i.name))]"):
        offered = page.eval_on_selector_all(f"main input[type=radio][name='{name}']",
                                            "inputs => inputs.map(i => i.value)")
        mode = next((m for m in prefer if m in offered), offered[0])
        page.locator(f"main input[type=radio][name='{name}'][value='{mode}']").check()


def start_draft(page, item: str) -> str:
    """A new draft of ``item`` from its apply page; returns the draft's edit path."""
    page.goto(f"/apply/{item}")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        page.locator(f"main form[action='/apply/{item}'] button[type=submit]").click()
    return path(page)


def file_registration(page, legal_rep: str) -> str:
    """File 单位参保登记 from the account page's link; returns the case's path."""
    _submit(page, f"main a[href='/apply/{REGISTRATION_ITEM}']")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        page.locator(f"main form[action='/apply/{REGISTRATION_ITEM}'] button[type=submit]").click()
    form = page.locator(f"main form[action='{path(page)}']")
    assert form.locator("[name=f_credit_code]").count() == 0 or \
        form.locator("[name=f_credit_code]").get_attribute("readonly") is not None  # locked to the unit
    form.locator("input[type=radio][name=f_purpose][value='新参保登记']").check()
    form.locator("[name=f_address]").fill("长春市南关区人民大街100号")
    form.locator("[name=f_unit_type]").fill("有限责任公司")
    form.locator("[name=f_legal_rep_name]").fill(legal_rep)
    form.locator("[name=f_legal_rep_phone]").fill(phone_number())
    form.locator("[name=f_legal_rep_id]").fill(id_number())
    if not form.locator("[name=f_agent_name]").input_value():
        form.locator("[name=f_agent_name]").fill("经办人")
    form.locator("input[type=checkbox][name=f_insurance_types][value='职工基本医疗保险']").check()
    form.locator("[name=f_declaration_date]").fill("2026-12-01")
    answer_materials(page, ("at_window",))
    with page.expect_navigation(url=re.compile(r"/applications/\d+$")):
        form.locator("button[name=action][value=submit]").click()
    assert page.locator(".error-summary").count() == 0, page.locator("main").inner_text()
    return path(page)


def upload_roster(page, roster_path: str, data: bytes) -> None:
    page.locator("#roster-file").set_input_files(files=[{"name": "名单.xlsx", "mimeType": XLSX, "buffer": data}])
    _submit(page, f"main form[action='{roster_path}'] button[type=submit]")
    assert path(page) == roster_path


def staff_count(page) -> int:
    """The number on the unit's staff list (``/unit/records/staff``) as the agent sees it."""
    page.goto("/unit/records/staff")
    text = page.locator("#staff-title .hint").inner_text()
    return int(re.sub(r"\D", "", text))


def staff_complete(browser, live_server: str, case_id: int | str, *, before=None) -> None:
    """A section chief (demo ``kezhang``) claims the case and walks it to completed; ``before(page)`` runs first on
    the case page (to look at it as staff)."""
    context = browser.new_context(viewport=DESK, base_url=live_server, locale="zh-CN")
    staff = context.new_page()
    staff.set_default_timeout(30000)
    try:
        _staff_login(staff, "kezhang")
        staff.goto(f"/staff/cases/{case_id}")
        if before is not None:
            before(staff)
            staff.goto(f"/staff/cases/{case_id}")
        _submit(staff, "button[name=claim]")
        for action, after in (("accept", "accepted"), ("start_review", "under_review"), ("approve", "approved"),
                              ("complete", "completed")):
            _decide(staff, action)
            assert _state(staff) == after, action
    finally:
        context.close()
