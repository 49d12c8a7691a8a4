"""The foundation on a phone: a citizen, a unit agent and a staff member log in and see their own pages.

Everything goes through the real pages of the server that ``portal up`` started: the SMS codes are read from
the development outbox (/dev/outbox), the staff codes are computed from the documented demo TOTP secrets.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts.demo import DEMO_STAFF, DEMO_STAFF_PASSWORD
from portal.accounts.passwords import TOTP_STEP_SECONDS, current_totp
from portal.core.masking import mask_id_number, mask_phone
from portal.insurance.demo import DEMO_CITIZENS, DEMO_UNIT, DEMO_UNIT_AGENT_PHONE

pytestmark = pytest.mark.browser

EMPLOYEE = next(c for c in DEMO_CITIZENS if c.key == "employee")
TOTP_SECRETS = {username: secret for username, _name, _roles, secret in DEMO_STAFF}
PHONE_WIDTH = 390


def _submit(page, action: str) -> None:
    """Press the submit button of the form posting to ``action`` (the header has a logout form too)."""
    page.locator(f"main form[action='{action}'] button[type=submit]").click()


def _code_from_outbox(page, phone: str) -> str:
    """The newest code sent to ``phone``, read like a tester does: on the development outbox page."""
    outbox = page.context.new_page()
    try:
        outbox.goto("/dev/outbox")
        assert outbox.locator("h1").inner_text() == "开发环境短信发件箱"
        row = outbox.locator("tbody tr", has_text=mask_phone(phone)).first  # newest first
        match = re.search(r"(?<!\d)\d{6}(?!\d)", row.locator("td").nth(2).inner_text())
        assert match, "no 6-digit code in the newest text message"
        return match.group()
    finally:
        outbox.close()


def _no_horizontal_scrolling(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_citizen_logs_in_with_a_text_message_binds_real_name_and_sees_enrolments(phone):
    phone.goto("/login/citizen")
    assert phone.locator("h1").inner_text() == "参保人登录"
    phone.fill("#phone", EMPLOYEE.phone)
    _submit(phone, "/login/citizen")

    phone.wait_for_url("**/login/code")
    assert phone.locator("h1").inner_text() == "输入验证码"
    assert mask_phone(EMPLOYEE.phone) in phone.locator("main").inner_text()
    phone.fill("#code", _code_from_outbox(phone, EMPLOYEE.phone))
    _submit(phone, "/login/code")

    phone.wait_for_url("**/bind")  # a new citizen account is not yet bound to a person
    assert phone.locator("h1").inner_text() == "实名认证"
    phone.fill("#name", EMPLOYEE.name)
    phone.fill("#id_number", EMPLOYEE.id_number)
    _submit(phone, "/bind")

    phone.wait_for_url("**/me")
    assert phone.locator("h1").inner_text() == "我的"
    assert "账号已成功绑定您的参保信息。" in phone.locator(".flashes").inner_text()
    records = phone.locator("section.person-overview")
    assert records.locator("h2").inner_text() == "我的参保信息"
    enrolments = records.locator("table").first
    assert enrolments.locator("thead th").first.inner_text() == "险种"
    types = enrolments.locator("tbody tr td:first-child").all_inner_texts()
    assert any("职工基本医疗保险" in t for t in types), types
    # the 身份证 number is shown masked, and nowhere in full
    assert mask_id_number(EMPLOYEE.id_number) in records.inner_text()
    assert EMPLOYEE.id_number not in phone.content()
    _no_horizontal_scrolling(phone)


def test_unit_agent_logs_in_with_a_text_message_and_sees_the_unit_overview(phone):
    phone.goto("/login/agent")
    assert phone.locator("h1").inner_text() == "单位经办人登录"
    phone.fill("#credit_code", DEMO_UNIT.credit_code)
    phone.fill("#phone", DEMO_UNIT_AGENT_PHONE)
    _submit(phone, "/login/agent")

    phone.wait_for_url("**/login/code")
    assert phone.locator("h1").inner_text() == "输入验证码"
    phone.fill("#code", _code_from_outbox(phone, DEMO_UNIT_AGENT_PHONE))
    _submit(phone, "/login/code")

    phone.wait_for_url("**/me")
    assert phone.locator("h1").inner_text() == "我的"
    identity = phone.locator("section.card").first.inner_text()
    assert "单位经办人" in identity
    assert DEMO_UNIT.name in identity
    unit = phone.locator("section.unit-overview")
    assert unit.locator("h2").inner_text() == "单位参保信息"
    facts = unit.locator("dl.facts").inner_text()
    assert DEMO_UNIT.name in facts
    assert DEMO_UNIT.credit_code in facts
    _no_horizontal_scrolling(phone)


def _staff_login(page, username: str, totp: str) -> None:
    page.goto("/login/staff")
    assert page.locator("h1").inner_text() == "工作人员登录"
    page.fill("#username", username)
    page.fill("#password", DEMO_STAFF_PASSWORD)
    page.fill("#totp", totp)
    _submit(page, "/login/staff")


def test_staff_logs_in_with_password_and_current_totp(phone):
    _staff_login(phone, "shouli", current_totp(TOTP_SECRETS["shouli"], datetime.now(UTC)))

    phone.wait_for_url("**/staff/queues/intake")  # the workbench, not the citizen's /me
    menu = phone.locator("header nav.staff-menu").inner_text()
    assert "办件队列" in menu and "统计看板" not in menu  # an acceptor is offered only what opens for them
    assert phone.locator("header").get_by_text("长辈模式").count() == 0
    phone.goto("/me")
    assert phone.locator("h1").inner_text() == "我的"
    identity = phone.locator("section.card").first.inner_text()
    assert "经办机构工作人员" in identity
    assert "shouli" in identity
    assert "受理" in phone.locator("section.card .tag").all_inner_texts()
    assert phone.locator("header form[action='/logout']").count() == 1  # logged in


def test_staff_login_refuses_a_wrong_totp(phone):
    secret = TOTP_SECRETS["shenhe"]
    now = datetime.now(UTC)
    valid = {current_totp(secret, now + timedelta(seconds=k * TOTP_STEP_SECONDS)) for k in range(-2, 3)}
    wrong = next(code for code in (f"{n:06d}" for n in range(1_000_000)) if code not in valid)
    _staff_login(phone, "shenhe", wrong)

    assert phone.locator("h1").inner_text() == "工作人员登录"  # still the login form
    assert "用户名、密码或验证码错误。" in phone.locator(".error-summary").inner_text()
    assert phone.input_value("#totp") == ""  # the code is not echoed back
    phone.goto("/me")
    assert "/login" in phone.url  # not logged in
