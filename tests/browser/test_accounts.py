"""The foundation on a phone: a citizen, a unit agent and a staff member log in and see their own pages.

Everything goes through the real pages of the server that ``portal up`` started: the SMS codes are read from
the development outbox (/dev/outbox), the staff codes are computed from the documented demo TOTP secrets.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts.demo import DEMO_STAFF, DEMO_STAFF_PASSWORD
from portal.accounts.passwords import TOTP_STEP_SECONDS, current_totp
from portal.core.masking import mask_id_number, mask_phone
from portal.insurance.demo import DEMO_CITIZENS, DEMO_UNIT, DEMO_UNIT_AGENT_PHONE
from tests import servers
from tests.browser.conftest import LIVE
from tests.browser.steps import code_from_outbox, no_horizontal_scrolling

pytestmark = pytest.mark.browser

EMPLOYEE = next(c for c in DEMO_CITIZENS if c.key == "employee")
TOTP_SECRETS = {username: secret for username, _name, _roles, secret in DEMO_STAFF}
PHONE_WIDTH = 390


def _submit(page, action: str) -> None:
    """Press the submit button of the form posting to ``action`` (the header has a logout form too)."""
    page.locator(f"main form[action='{action}'] button[type=submit]").click()


def test_citizen_logs_in_with_a_text_message_binds_real_name_and_sees_enrolments(phone):
    phone.goto("/login/citizen")
    assert phone.locator("h1").inner_text() == "参保人登录"
    phone.fill("#phone", EMPLOYEE.phone)
    _submit(phone, "/login/citizen")

    phone.wait_for_url("**/login/code")
    assert phone.locator("h1").inner_text() == "输入验证码"
    assert mask_phone(EMPLOYEE.phone) in phone.locator("main").inner_text()
    phone.fill("#code", code_from_outbox(phone, EMPLOYEE.phone))
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
    no_horizontal_scrolling(phone)


def test_unit_agent_logs_in_with_a_text_message_and_sees_the_unit_overview(phone):
    phone.goto("/login/agent")
    assert phone.locator("h1").inner_text() == "单位经办人登录"
    phone.fill("#credit_code", DEMO_UNIT.credit_code)
    phone.fill("#phone", DEMO_UNIT_AGENT_PHONE)
    _submit(phone, "/login/agent")

    phone.wait_for_url("**/login/code")
    assert phone.locator("h1").inner_text() == "输入验证码"
    phone.fill("#code", code_from_outbox(phone, DEMO_UNIT_AGENT_PHONE))
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
    no_horizontal_scrolling(phone)


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


@pytest.fixture(scope="module")
def one_code_a_minute(live_server):
    """A second ``portal up`` on the live instance with the production limit of one code a minute per phone (the
    shared server allows 30, as its tests log the same demo people in again and again); its base URL."""
    port = servers.free_port()
    env = servers.portal_env(LIVE["instance"], PORTAL_BASE_URL=f"http://127.0.0.1:{port}")
    proc = servers.start([sys.executable, "-m", "portal", "up", "--port", str(port)], env=env,
                         log=LIVE["instance"] / "one-code-a-minute.log", port=port, timeout=180)
    yield f"http://127.0.0.1:{port}"
    servers.stop(proc, timeout=10)


def test_the_login_form_counts_down_after_a_code_was_sent(browser, one_code_a_minute):
    """Back on the login form within the minute after a code was sent, "获取验证码" counts the wait down and does
    not submit; at zero it works again; typing another number (another phone, no wait) ends the wait at once.
    Without JavaScript the form says where the code went and the server refuses a second code kindly."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  base_url=one_code_a_minute, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.clock.install()  # the page's timers run on a clock the test moves
    number = f"139{datetime.now(UTC):%H%M%S}{PHONE_WIDTH % 100:02d}"
    page.goto("/login/citizen")
    button = page.locator("#send-code")
    assert button.inner_text() == "获取验证码" and button.get_attribute("aria-disabled") is None
    page.fill("#phone", number)
    button.click()
    page.wait_for_url("**/login/code")

    page.goto("/login/citizen")  # the way back to the form, e.g. "重新获取验证码"
    assert mask_phone(number) in page.locator("#code-sent").inner_text()
    assert re.fullmatch(r"(5\d|60) 秒后重新获取", button.inner_text()), button.inner_text()
    assert button.get_attribute("aria-disabled") == "true"
    page.fill("#phone", number)
    button.click(force=True)  # nothing is sent while the wait lasts: not by the button (Playwright would wait for
    page.press("#phone", "Enter")  # an aria-disabled one), nor by Enter in the box
    page.clock.run_for(2000)
    assert page.url.endswith("/login/citizen") and re.fullmatch(r"\d+ 秒后重新获取", button.inner_text())
    page.clock.run_for(61_000)
    assert button.inner_text() == "获取验证码" and button.get_attribute("aria-disabled") is None

    page.goto("/login/citizen")
    assert "秒后重新获取" in button.inner_text()
    page.fill("#phone", "13900000000")  # another phone has no wait
    assert button.inner_text() == "获取验证码" and button.get_attribute("aria-disabled") is None
    context.close()

    plain = browser.new_context(base_url=one_code_a_minute, locale="zh-CN", java_script_enabled=False)
    page = plain.new_page()
    page.goto("/login/citizen")
    page.fill("#phone", f"138{number[3:]}")
    page.locator("#send-code").click()
    page.wait_for_url("**/login/code")
    page.goto("/login/citizen")
    assert "不到一分钟" in page.locator("#code-sent").inner_text()
    assert page.locator("#send-code").inner_text() == "获取验证码"  # without the script it always submits
    page.fill("#phone", f"138{number[3:]}")
    page.locator("#send-code").click()
    page.wait_for_load_state()
    assert page.url.endswith("/login/citizen") and page.locator(".error-summary").is_visible()
    plain.close()
