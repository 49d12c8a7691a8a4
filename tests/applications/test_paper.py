"""Paper materials (issue 17, point 4): after "I will bring it to the service window, or post it, on paper", the
case page, the receipt (HTML and PDF) and the message after submitting say where (the region's windows, as its
data has them), to whom (the agency), by when (the accept-by date, in working days) and what happens if the papers
don't arrive. A case without paper, or one already accepted, says none of it."""

from __future__ import annotations

import re
from datetime import datetime

import pypdfium2
from flask_babel import force_locale

from portal.applications import operations as ops
from portal.applications import paper
from portal.applications.constants import MaterialMode
from portal.calendar import engine
from portal.core import clock
from portal.core.formatting import local_date
from portal.documents import receipts

from .conftest import PROMISE_ITEM, SYSTEM
from .test_views import form_fields, login, page_of

SUBMITTED = datetime(2026, 9, 30, 10, 0)  # a Wednesday before the National Day holidays (10月1日–8日)


def test_the_case_page_says_where_to_whom_by_when_and_what_if_not(make_case, citizen, catalog, make_client,
                                                                  db_session):
    with clock.frozen(SUBMITTED):
        case = make_case(PROMISE_ITEM, citizen)
    # five working days on the calendar: 9月30日 is the first day counted from; the holidays are skipped
    assert case.accept_by == engine.due_date(SUBMITTED.date(), 5)
    assert case.accept_by > datetime(2026, 10, 8).date()
    browser = login(make_client(), db_session, citizen.phone)
    browser.set_cookie("lang", "en")
    html = page_of(browser, f"/applications/{case.id}")
    assert 'id="paper"' in html
    region = catalog.region
    assert region.windows[0].name.en in html and region.windows[0].hours in html  # Jilin: the windows, as published
    assert "12393" in html  # the hotline that tells where the windows are
    assert region.agency.name.en in html
    assert case.number in html  # to write on the envelope
    with force_locale("en"):
        assert local_date(case.accept_by) in html
    assert "cannot be accepted without them" in html
    for material in catalog.get(PROMISE_ITEM).materials:
        assert material.name.en in html

    browser.set_cookie("lang", "zh_Hans_CN")
    html = page_of(browser, f"/applications/{case.id}")
    assert "医保经办服务窗口" in html and "吉林省社会医疗保险管理局" in html and "送达期限" in html


def test_the_receipt_html_and_pdf_carry_the_same(make_case, citizen, catalog):
    with clock.frozen(SUBMITTED):
        case = make_case(PROMISE_ITEM, citizen)
    with force_locale("zh_Hans_CN"):
        html = receipts.render_receipt_html(case, progress_url="https://hall.example.gov.cn/q/x")
        pdf = receipts.render_receipt_pdf(case, progress_url="https://hall.example.gov.cn/q/x")
        due = local_date(case.accept_by)
    assert 'class="section-paper"' in html and "纸质材料" in html
    assert "医保经办服务窗口" in html and "吉林省社会医疗保险管理局" in html and due in html
    document = pypdfium2.PdfDocument(pdf)
    try:
        text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    flat = text.replace("\r", "").replace("\n", "")
    for expected in ("纸质材料", "医保经办服务窗口", "吉林省社会医疗保险管理局", due, case.number):
        assert expected in flat, expected


def test_the_message_after_submitting_says_by_when_and_to_whom(catalog, citizen, make_case, make_client,
                                                                 db_session):
    from tests.conftest import csrf_from

    draft = make_case(PROMISE_ITEM, citizen, submit=False)
    browser = login(make_client(), db_session, citizen.phone)
    browser.set_cookie("lang", "en")
    html = page_of(browser, f"/applications/{draft.id}/edit")
    data = {"csrf_token": csrf_from(html), "action": "submit"}
    data.update(form_fields(html))
    data["action"] = "submit"
    response = browser.post(f"/applications/{draft.id}/edit", data=data, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    db_session.refresh(draft)
    assert draft.number and draft.number in html
    with force_locale("en"):
        from flask_babel import format_date

        due = format_date(draft.accept_by, "long")
    flash = re.search(r'<p class="flash flash-warning">(.*?)</p>', html, re.S)
    assert flash, html
    assert due in flash.group(1) and catalog.region.agency.name.en in flash.group(1)


def test_without_paper_materials_there_is_no_plan(make_case, citizen, catalog):
    case = make_case(PROMISE_ITEM, citizen)
    item = catalog.get(PROMISE_ITEM)
    assert paper.plan(case, item, catalog.region, "zh") is not None
    case.materials = dict.fromkeys(case.materials, MaterialMode.UPLOAD.value)  # the same case, files uploaded
    assert paper.plan(case, item, catalog.region, "zh") is None
    draft = make_case(PROMISE_ITEM, citizen, submit=False)
    assert paper.plan(draft, item, catalog.region, "zh") is None  # a draft: nothing to bring yet


def test_once_accepted_the_paper_section_and_receipt_part_are_gone(make_case, citizen, staff, make_client,
                                                                   db_session):
    case = make_case(PROMISE_ITEM, citizen)
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    browser = login(make_client(), db_session, citizen.phone)
    html = page_of(browser, f"/applications/{case.id}")
    assert 'id="paper"' not in html
    assert 'class="section-paper"' not in receipts.render_receipt_html(case, progress_url="https://x.example/q/y")
