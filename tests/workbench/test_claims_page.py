"""A claim on the staff case page: the computed amount with its working, the amount the reviewer decides (an
adjustment needs a reason), the payee masked except for finance at the payment step, and the payment."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.accounts.models import Role
from portal.applications import operations as ops
from portal.core import clock
from portal.core.audit import Actor, AuditEvent
from portal.services.claims import operations as claims
from tests.applications.conftest import advance
from tests.conftest import csrf_from
from tests.workbench.conftest import MONEY_ITEM

CARD = "6222020200112233446"


def _post(browser, page: str, data: dict):
    token = csrf_from(browser.get(page).get_data(as_text=True))
    return browser.post(f"{page}/decide", data={"csrf_token": token, **data}, follow_redirects=True)


def _claim(browser, page):
    token = csrf_from(browser.get(page).get_data(as_text=True))
    browser.post(f"{page}/claim", data={"csrf_token": token, "version": ""})


def test_staff_review_the_computed_amount_decide_it_and_finance_pays_it(browser_as, make_case, citizen, db_session):
    case = make_case(MONEY_ITEM, citizen, form={"payee_account": CARD})
    page = f"/staff/cases/{case.id}"
    acceptor, _ = browser_as("clacc", Role.ACCEPTOR)
    _claim(acceptor, page)
    _post(acceptor, page, {"version": case.version, "action": "accept"})
    reviewer, _ = browser_as("clrev", Role.REVIEWER)
    _claim(reviewer, page)
    _post(reviewer, page, {"version": case.version, "action": "start_review"})
    html = reviewer.get(page).get_data(as_text=True)
    working = html[html.index('id="claim-working"'):html.index("</table>", html.index('id="claim-working"'))]
    assert "Invoices in total: ¥1,000.00" in working and "demo value" in working
    assert "¥540.00" in html[html.index('id="computed-amount"'):][:200]
    assert CARD not in html and "****3446" in html  # masked for the reviewer
    # a different amount without a reason is refused and nothing changes
    refused = _post(reviewer, page, {"version": case.version, "action": "approve", "amount": "500.00"})
    assert "Say why the amount differs" in refused.get_data(as_text=True)
    db_session.refresh(case)
    assert case.state == "under_review" and claims.claim_of(case).decided_amount is None
    _post(reviewer, page, {"version": case.version, "action": "approve", "amount": "500.00",
                           "amount_reason": "核减不予报销的检查费 40 元"})
    claim = claims.claim_of(case)
    assert (claim.computed_amount, claim.decided_amount) == (Decimal("540.00"), Decimal("500.00"))
    finance, finance_account = browser_as("clfin", Role.FINANCE)
    _claim(finance, page)
    _post(finance, page, {"version": case.version, "action": "start_payment"})
    html = finance.get(page).get_data(as_text=True)
    assert CARD in html[html.index('id="claim-payee"'):]  # finance sees the account to pay, and that is audited
    shown = db_session.execute(select(AuditEvent).where(AuditEvent.action == "claim.view_account",
                                                        AuditEvent.object_id == str(case.id))).scalars().all()
    assert shown and {e.actor_id for e in shown} == {str(finance_account.id)}  # every showing, and only to finance
    done = _post(finance, page, {"version": case.version, "action": "complete"}).get_data(as_text=True)
    db_session.refresh(case)
    assert case.state == "completed" and claim.payment.state == "paid"
    assert "已支付 ¥500.00（人民币伍佰元整）" in done


def test_the_acceptor_cannot_see_the_account_in_full_even_while_paying(browser_as, make_case, citizen, staff):
    case = make_case(MONEY_ITEM, citizen, form={"payee_account": CARD})

    advance(case, staff, "paying")
    chief, _ = browser_as("clchief", Role.CHIEF)
    html = chief.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert CARD not in html and "****3446" in html


def test_an_amount_over_what_the_cap_has_left_is_refused_on_the_page_in_the_reviewers_language(
        browser_as, make_case, citizen, staff, db_session):

    issued = clock.today() - timedelta(days=20)
    invoice = {"issued_on": issued.isoformat(), "institution": "吉林大学第一医院", "visit_type": "门诊",
               "total": "150000.00"}
    first, second = (make_case(MONEY_ITEM, citizen, form={"payee_account": CARD, "hospital_level": "三级",
                                                          "invoices": [{**invoice, "number": number}]})
                     for number in ("CAPPAGE-1", "CAPPAGE-2"))
    advance(first, staff, "approved")
    advance(second, staff, "under_review")
    page = f"/staff/cases/{second.id}"
    reviewer, _ = browser_as("caprev", Role.REVIEWER)
    reviewer.set_cookie("lang", "zh_Hans_CN")
    _claim(reviewer, page)
    before = reviewer.get(page).get_data(as_text=True)  # the page says what approval will count
    shown = before[before.index('id="cap-used"'):before.index("</dd>", before.index('id="cap-used"'))]
    assert "¥0.00 / ¥150,000.00" in shown and "另有该参保人其他报销已审核通过、尚未拨付¥119,520.00" in shown
    db_session.refresh(second)
    refused = _post(reviewer, page, {"version": second.version, "action": "approve"}).get_data(as_text=True)
    assert f"将超过{issued.year}年度封顶线¥150,000.00" in refused and "本笔最多只能核定¥30,480.00" in refused
    db_session.refresh(second)
    assert second.state == "under_review"
    done = _post(reviewer, page, {"version": second.version, "action": "approve", "amount": "30480.00",
                                  "amount_reason": "年度封顶线余额"}).get_data(as_text=True)
    db_session.refresh(second)
    assert second.state == "approved" and claims.claim_of(second).decided_amount == Decimal("30480.00"), done


def test_finance_returns_an_approval_to_review_with_a_reason_in_chinese_and_the_reviewers_queue_marks_it(
        browser_as, make_case, citizen, staff, db_session):

    case = advance(make_case(MONEY_ITEM, citizen, form={"payee_account": CARD}), staff, "approved")
    page = f"/staff/cases/{case.id}"
    finance, _ = browser_as("rtrfin", Role.FINANCE)
    finance.set_cookie("lang", "zh_Hans_CN")
    _claim(finance, page)
    html = finance.get(page).get_data(as_text=True)
    form = html[html.index('data-action="return_to_review"'):]
    form = form[:form.index("</form>")]
    assert "退回重审的原因（告知申请人）" in form and "尚未支付任何款项" in form and ">退回重审</button>" in form
    db_session.refresh(case)
    refused = _post(finance, page, {"version": case.version, "action": "return_to_review", "reason": " "})
    assert refused.status_code == 200 and "请填写原因，该原因将告知申请人。" in refused.get_data(as_text=True)
    db_session.refresh(case)
    assert case.state == "approved" and claims.claim_of(case).decided_amount == Decimal("540.00")
    done = _post(finance, page, {"version": case.version, "action": "return_to_review",
                                 "reason": "发票金额与清单不符，请重新核定"}).get_data(as_text=True)
    db_session.refresh(case)
    assert case.state == "under_review" and claims.claim_of(case).decided_amount is None
    assert case.assignee_id is None  # back in the review queue for a reviewer to take
    assert "拨付前退回重新审核" in done and "发票金额与清单不符，请重新核定" in done  # on the timeline, with why
    reviewer, _ = browser_as("rtrrev", Role.REVIEWER)
    reviewer.set_cookie("lang", "zh_Hans_CN")
    other = advance(make_case(MONEY_ITEM, citizen, form={"payee_account": CARD}), staff, "under_review")
    rows = _queue_rows(reviewer, "review")
    assert "拨付前退回" in rows[case.id]  # the reviewer sees it came back from finance
    assert "拨付前退回" not in rows[other.id]  # a case in its first review carries no mark
    note = _returned_note(reviewer, page)  # where the reviewer starts reading the case: who, and why
    assert note.startswith("拨付前退回") and note.endswith("须重新核定金额。原因：发票金额与清单不符，请重新核定")
    assert "Rtrfin" in note or "rtrfin" in note.lower()  # finance's member of staff, by name
    reviewer.set_cookie("lang", "en")
    assert "Returned before payment" in _queue_rows(reviewer, "review")[case.id]
    assert "returned it on" in _returned_note(reviewer, page)
    ops.approve_application(case, by=staff["reviewer"], actor=Actor.system())  # decided again: the mark is gone
    db_session.commit()
    assert case.returned_at is None and 'id="returned-note"' not in reviewer.get(page).get_data(as_text=True)
    reviewer.set_cookie("lang", "zh_Hans_CN")
    assert "拨付前退回" not in _queue_rows(reviewer, "payment")[case.id]


def _returned_note(browser, page: str) -> str:
    html = browser.get(page).get_data(as_text=True)
    found = re.search(r'<p class="warning-box" id="returned-note" role="note">(.*?)</p>', html, re.S)
    assert found, "no returned-to-review note on the case page"
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


def _queue_rows(browser, queue: str) -> dict[int, str]:
    """The rows of a queue page as shown, by case id."""
    html = browser.get(f"/staff/queues/{queue}").get_data(as_text=True)
    return {int(m.group(1)): m.group(2) for m in re.finditer(r'<tr data-case="(\d+)">(.*?)</tr>', html, re.S)}
