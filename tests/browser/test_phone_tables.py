"""Tables on a 360 px phone and the staff rows of a unit form (issue 17, points 5 and 6), for the demo unit agent.

- The unit's staff list is one card per person (their insurances inside), each value with its column's name, and
  nothing scrolls sideways. A table that stays a table and does scroll is focusable, named and says so.
- In the 职工停保变更 form, 身份证件类型 and 险种 are lists; "Add a row" adds a row in the page (no request), the
  rows added are saved like any other; without JavaScript the same button saves and the server adds the row.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from .test_filing import _log_in_agent

pytestmark = pytest.mark.browser

NARROW = {"width": 360, "height": 780}
STAFF_ITEM = "G002036001005_02_02"  # 职工停保变更


@pytest.fixture
def agent(browser, live_server):
    context = browser.new_context(viewport=NARROW, is_mobile=True, has_touch=True, base_url=live_server,
                                  locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    _log_in_agent(page)
    yield page
    context.close()


def test_staff_list_is_one_card_per_person_and_does_not_scroll_sideways(agent):
    agent.goto("/unit/records/staff")
    widths = agent.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    rows = agent.locator("table.staff-list tbody tr")
    assert rows.count() >= 1
    first = rows.first
    assert first.evaluate("tr => getComputedStyle(tr).display") == "block"  # a card, not a squeezed row
    label = first.locator("td").first.evaluate("td => getComputedStyle(td, '::before').content")
    assert label.strip('"') == first.locator("td").first.get_attribute("data-label") == "个人编号"
    # one row per person: no insured person number twice
    numbers = agent.locator("table.staff-list tbody tr td:nth-of-type(1)").all_inner_texts()
    assert len(numbers) == len(set(numbers))
    heading = agent.locator("#staff-title .hint").inner_text()
    assert re.search(r"\d+", heading).group() == str(rows.count()) or "页" in agent.locator("main").inner_text()
    # a box that fits does not join the tab order
    assert agent.locator(".table-scroll[tabindex]").count() == 0


def test_a_table_that_scrolls_is_focusable_named_and_says_so(agent):
    agent.goto("/applications/")  # any page: put a table wider than the phone into it
    agent.evaluate("""() => {
        const box = document.createElement('div'); box.className = 'table-scroll';
        box.innerHTML = '<table><tr>' + '<td>很长的单元格内容</td>'.repeat(30) + '</tr></table>';
        const h = document.createElement('h2'); h.textContent = '宽表';
        document.querySelector('main').append(h, box);
        window.dispatchEvent(new Event('resize'));
    }""")
    box = agent.locator("main > .table-scroll").last
    agent.wait_for_function("() => document.querySelector('main > .table-scroll:last-of-type')?.tabIndex === 0")
    assert box.get_attribute("role") == "region" and box.get_attribute("aria-label") == "表格：宽表"
    assert box.evaluate("b => b.nextElementSibling.className") == "scroll-hint"
    assert agent.locator("main > .scroll-hint").last.is_visible()


def _start_staff_draft(page) -> str:
    """A draft of the staff form: a new one, or the one the unit left open (the accessibility sweep opens one)."""
    page.goto(f"/apply/{STAFF_ITEM}")
    start = page.locator(f"main form[action='/apply/{STAFF_ITEM}'] button[type=submit]")
    with page.expect_navigation(url=re.compile(r"/applications/\d+/edit$")):
        if start.count():
            start.click()
        else:
            page.locator("main a.button[href$='/edit']").click()  # "Continue the draft"
    return urlsplit(page.url).path


def test_rows_are_added_in_the_page_and_saved_and_without_javascript_by_the_server(agent, browser, live_server):
    edit = _start_staff_draft(agent)
    form = agent.locator(f"main form[action='{edit}']")
    assert form.locator("select[name='f_staff-0-c_id_type'] option").count() >= 8  # a list from the form spec
    # 险种: Jilin's four boxes, as radio buttons (up to six choices show as buttons, easy to tap)
    assert form.locator("input[type=radio][name='f_insurance_type']").evaluate_all(
        "inputs => inputs.map(i => i.value)") == ["职工基本医疗保险", "生育保险", "补充医疗保险", "其他"]
    rows = form.locator("fieldset.row-card")
    before = rows.count()
    agent.evaluate("window.stillTheSamePage = true")
    add = form.locator("fieldset.table-field button[value='add_row:staff']")
    assert add.get_attribute("type") == "button" and add.inner_text().strip() == "添加一行"
    add.click()
    add.click()
    assert rows.count() == before + 2
    assert agent.evaluate("window.stillTheSamePage") is True  # no request: the page is the same
    last = before + 1
    assert rows.nth(last).locator(":scope > legend").inner_text().strip() == f"第{last + 1}行"
    focused = agent.evaluate("document.activeElement.name")
    assert focused == f"f_staff-{last}-c_name"
    for index, name in ((0, "张三"), (last, "李四")):
        form.locator(f"[name='f_staff-{index}-c_name']").fill(name)
        form.locator(f"select[name='f_staff-{index}-c_id_type']").select_option("居民身份证")
    with agent.expect_navigation():
        form.locator("button[name=action][value=save]:not([aria-hidden=true])").click()
    assert agent.locator(".error-summary").count() == 0, agent.locator(".error-summary").inner_text()
    assert form.locator("[name='f_staff-0-c_name']").input_value() == "张三"
    assert form.locator("[name='f_staff-1-c_name']").input_value() == "李四"  # the empty middle row dropped
    assert form.locator("select[name='f_staff-1-c_id_type']").input_value() == "居民身份证"

    # without JavaScript the button is "Save and add a row": the server saves and adds the row
    plain = browser.new_context(storage_state=agent.context.storage_state(), java_script_enabled=False,
                                viewport=NARROW, base_url=live_server)
    page = plain.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(edit)
        form = page.locator(f"main form[action='{edit}']")
        count = form.locator("fieldset.row-card").count()
        button = form.locator("fieldset.table-field button[value='add_row:staff']")
        assert button.get_attribute("type") == "submit"
        with page.expect_navigation():
            button.click()
        assert urlsplit(page.url).path == edit
        assert form.locator("fieldset.row-card").count() == count + 1
        assert form.locator("[name='f_staff-1-c_name']").input_value() == "李四"
    finally:
        plain.close()
