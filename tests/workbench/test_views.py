"""The staff area through its pages: who gets in, the stricter session, the queues, the case page and its audit,
claiming, the checklist that composes the one-time notice, decisions, batch acceptance, and the ID search."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.models import LoginSession, Role
from portal.applications.constants import State
from portal.core.audit import AuditEvent
from portal.workbench import operations as ops
from tests.conftest import csrf_from
from tests.workbench.conftest import INSTANT_ITEM, PROMISE_ITEM, SYSTEM

ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")


def _post(browser, page_url: str, url: str, data: dict, follow: bool = False):
    token = csrf_from(browser.get(page_url).get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **data}, follow_redirects=follow)


def test_anonymous_visitors_are_sent_to_the_staff_login(client):
    response = client.get("/staff/queues/intake")
    assert response.status_code == 302 and "/login/staff" in response.headers["Location"]


def test_citizens_do_not_see_the_staff_area(client, citizen_login, make_person, db_session):
    from tests.factories import mobile

    citizen_login(mobile())
    assert client.get("/staff/queues/intake").status_code == 404


def test_an_administrator_has_no_case_data(browser_as):
    browser, _admin = browser_as("wbadmin", Role.ADMIN)
    assert browser.get("/staff/queues/intake").status_code == 403


def test_a_staff_session_used_from_another_address_is_ended(browser_as, db_session):
    browser, account = browser_as("wbclerk", Role.ACCEPTOR)
    assert browser.get("/staff/queues/intake").status_code == 200
    response = browser.get("/staff/queues/intake", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 302 and "/login/staff" in response.headers["Location"]
    session = db_session.execute(select(LoginSession).where(LoginSession.account_id == account.id)).scalar_one()
    assert session.revoked_at is not None and session.revoked_reason == "ip changed"
    assert browser.get("/staff/queues/intake").status_code == 302  # even back at the first address


def test_the_staff_idle_timeout_applies_to_the_workbench(browser_as, app):
    from datetime import timedelta

    from portal.core import clock

    with clock.frozen(clock.now()) as frozen:
        browser, _ = browser_as("wbidle", Role.ACCEPTOR)
        assert browser.get("/staff/queues/intake").status_code == 200
        frozen.tick(timedelta(minutes=16))
        assert browser.get("/staff/queues/intake").status_code == 302


def test_queue_lists_cases_by_due_date_masked_and_audited(browser_as, make_case, citizen, make_citizen, db_session):
    first = make_case(PROMISE_ITEM, citizen)
    second = make_case(PROMISE_ITEM, make_citizen("钱二"))
    browser, account = browser_as("wbqueue", Role.ACCEPTOR)
    response = browser.get("/staff/queues/intake")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Referrer-Policy"] == "no-referrer"
    assert html.index(first.number) < html.index(second.number)  # same deadline: filed first, listed first
    assert "王*" in html and "王晓明" not in html and not ID_RE.search(html)
    row = db_session.execute(select(AuditEvent).where(AuditEvent.action == ops.QUEUE_VIEW)
                             .order_by(AuditEvent.id.desc())).scalars().first()
    assert row.actor_id == str(account.id) and str(first.id) in row.detail


def test_queue_pages_follow_on_without_repeats(browser_as, make_case, make_citizen, monkeypatch):
    from portal.workbench import queues

    monkeypatch.setattr(queues, "PER_PAGE", 2)
    cases = [make_case(PROMISE_ITEM, make_citizen(f"钱{i}")) for i in range(5)]
    browser, _ = browser_as("wbpager", Role.ACCEPTOR)
    seen, url = [], "/staff/queues/intake"
    for _page in range(5):
        html = browser.get(url).get_data(as_text=True)
        seen += re.findall(r'data-case="(\d+)"', html)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    assert seen == [str(c.id) for c in cases]


def test_search_by_id_number_finds_the_applicant_without_putting_it_in_the_address(
        browser_as, make_case, citizen, make_citizen):
    mine = make_case(PROMISE_ITEM, citizen)
    other = make_case(PROMISE_ITEM, make_citizen("钱三"))
    browser, _ = browser_as("wbsearch", Role.ACCEPTOR)
    response = _post(browser, "/staff/queues/intake", "/staff/search",
                     {"id_number": citizen.person.id_number, "queue": "intake"})
    assert response.status_code == 302 and citizen.person.id_number not in response.headers["Location"]
    html = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert mine.number in html and other.number not in html
    assert citizen.person.id_number not in html
    bad = _post(browser, "/staff/queues/intake", "/staff/search", {"id_number": "12345", "queue": "intake"}, True)
    assert bad.status_code == 200  # told what is wrong, on the queue page


def test_filters_narrow_the_queue(browser_as, make_case, citizen, make_citizen):
    from tests.workbench.conftest import MONEY_ITEM

    promise = make_case(PROMISE_ITEM, citizen)
    money = make_case(MONEY_ITEM, make_citizen("钱四"))
    browser, _ = browser_as("wbfilter", Role.ACCEPTOR)
    html = browser.get(f"/staff/queues/intake?item={MONEY_ITEM}").get_data(as_text=True)
    assert money.number in html and promise.number not in html
    assert f'<option value="{MONEY_ITEM}" selected>' in html  # the filter shows what it filters by
    assert browser.get("/staff/queues/intake?submitted_from=nonsense&after=%%%").status_code == 200


def test_case_page_shows_the_case_masked_and_writes_an_audit_row(browser_as, make_case, citizen, db_session):
    case = make_case(PROMISE_ITEM, citizen)
    browser, account = browser_as("wbcase", Role.ACCEPTOR)
    html = browser.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert case.number in html and "王*" in html and not ID_RE.search(html)
    views = db_session.execute(select(AuditEvent).where(AuditEvent.action == ops.CASE_VIEW,
                                                        AuditEvent.object_id == str(case.id))).scalars().all()
    assert [v.actor_id for v in views] == [str(account.id)]


def test_a_chief_sees_on_the_case_page_who_opened_it(browser_as, make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    clerk, _ = browser_as("wbopener", Role.ACCEPTOR)
    clerk.get(f"/staff/cases/{case.id}")
    assert 'id="openers"' not in clerk.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    chief, _ = browser_as("wbchief", Role.CHIEF)
    html = chief.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    openers = html[html.index('id="openers"'):]
    assert openers.count("Wbopener") == 2 and "Wbchief" in openers


def test_claim_notice_and_decisions_through_the_pages(browser_as, make_case, citizen, catalog):
    case = make_case(PROMISE_ITEM, citizen)
    browser, account = browser_as("wbwork", Role.CHIEF)
    page = f"/staff/cases/{case.id}"
    assert _post(browser, page, f"{page}/claim", {"version": case.version}).status_code == 302
    assert case.assignee_id == account.id
    material = catalog.get(PROMISE_ITEM).materials[0].id
    html = browser.get(page).get_data(as_text=True)
    assert f'name="defect_{material}"' in html  # the checklist
    response = _post(browser, page, f"{page}/notice", {"version": case.version, f"defect_{material}": "missing",
                                                       f"note_{material}": "请补充", "note": "请补正"}, True)
    assert case.state == State.CORRECTION_REQUESTED and case.notices[0].material_ids == [material]
    assert "请补充" in response.get_data(as_text=True)
    # a stale page: the version the form carries is old
    stale = _post(browser, page, f"{page}/decide", {"version": case.version - 1, "action": "accept"}, True)
    assert "changed this case" in stale.get_data(as_text=True)


def test_a_decision_without_a_claim_is_refused_with_a_message(browser_as, make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    browser, _ = browser_as("wbnoclaim", Role.ACCEPTOR)
    page = f"/staff/cases/{case.id}"
    response = _post(browser, page, f"{page}/decide", {"version": case.version, "action": "accept"}, True)
    assert response.status_code == 200 and "Take the case first" in response.get_data(as_text=True)
    assert case.state == State.SUBMITTED


def test_the_loser_of_a_claim_is_told_who_has_the_case(browser_as, make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    first, _ = browser_as("wbfirst", Role.ACCEPTOR)
    second, _ = browser_as("wbsecond", Role.ACCEPTOR)
    page = f"/staff/cases/{case.id}"
    token = csrf_from(second.get(page).get_data(as_text=True))
    shown = case.version
    _post(first, page, f"{page}/claim", {"version": shown})
    response = second.post(f"{page}/claim", data={"csrf_token": token, "version": shown}, follow_redirects=True)
    assert "Wbfirst is working on it now" in response.get_data(as_text=True)


def test_batch_acceptance_from_the_intake_queue(browser_as, make_case, citizen, make_citizen):
    instant = make_case(INSTANT_ITEM, citizen)
    promise = make_case(PROMISE_ITEM, make_citizen("钱五"))
    browser, _ = browser_as("wbbatch", Role.ACCEPTOR)
    html = browser.get("/staff/queues/intake").get_data(as_text=True)
    assert f'name="case" value="{instant.id}"' in html and f'name="case" value="{promise.id}"' not in html
    response = _post(browser, "/staff/queues/intake", "/staff/batch-accept",
                     {"case": [str(instant.id), str(promise.id)], "queue": "intake"}, True)
    assert instant.state == State.ACCEPTED and promise.state == State.SUBMITTED
    assert "1 case accepted" in response.get_data(as_text=True)


def test_posts_without_csrf_are_refused(browser_as, make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    browser, _ = browser_as("wbcsrf", Role.ACCEPTOR)
    assert browser.post(f"/staff/cases/{case.id}/claim", data={"version": case.version}).status_code == 400
    assert case.assignee_id is None


def test_unknown_queue_and_case_answer_404(browser_as):
    browser, _ = browser_as("wb404", Role.ACCEPTOR)
    assert browser.get("/staff/queues/nope").status_code == 404
    assert browser.get("/staff/cases/999999").status_code == 404
    assert browser.get("/staff/cases/99999999999").status_code == 404


def test_unused_system_actor_is_the_systems():  # keeps the shared import honest
    assert SYSTEM.kind == "system"


def test_materials_open_through_the_viewer_and_the_chief_sees_who_opened_them(browser_as, make_case, citizen,
                                                                              db_session):
    from tests.materials.fixtures import png
    from tests.materials.upload_support import MATERIAL, submit, upload

    case = make_case(PROMISE_ITEM, citizen, submit=False)
    row = upload(case, png(), "诊断证明.png", by=citizen)
    submit(case, citizen)
    reviewer, account = browser_as("wbviewer", Role.REVIEWER)
    html = reviewer.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    link = f"/files/{row.id}?inline=1"
    assert link in html and f'data-material="{MATERIAL}"' in html
    response = reviewer.get(link)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    opened = db_session.execute(select(AuditEvent).where(AuditEvent.action == "material.view",
                                                         AuditEvent.object_id == str(row.id))).scalars().all()
    assert [o.actor_id for o in opened] == [str(account.id)]
    chief, _ = browser_as("wbfilechief", Role.CHIEF)
    html = chief.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    openers = html[html.index('id="openers"'):]
    assert "Wbviewer" in openers and "a file" in openers


def test_a_refusal_takes_the_typed_reason_or_the_chosen_template_and_never_none(browser_as, make_case, citizen):
    from portal.workbench import reasons

    case = make_case(PROMISE_ITEM, citizen)
    browser, _ = browser_as("wbreason", Role.ACCEPTOR)
    page = f"/staff/cases/{case.id}"
    _post(browser, page, f"{page}/claim", {"version": case.version})
    html = browser.get(page).get_data(as_text=True)
    template = reasons.templates("jilin", PROMISE_ITEM, "refuse")[1]
    assert template in html
    empty = _post(browser, page, f"{page}/decide", {"version": case.version, "action": "refuse", "template": ""}, True)
    assert "Give the reason" in empty.get_data(as_text=True) and case.state == State.SUBMITTED
    _post(browser, page, f"{page}/decide", {"version": case.version, "action": "refuse", "template": "1"})
    assert case.state == State.NOT_ACCEPTED and case.decision_reason == template
