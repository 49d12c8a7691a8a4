"""异地就医备案 on the pages and through the API (the mini-program): the acceptance flow — a retiree files 异地安置
to 海南 with a commitment instead of proof, the filing is valid at once, listed in my filings, printed, and a
cancellation inside the lock is refused with the date it lifts — plus refusals and ownership (S6)."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from portal.accounts import tokens
from portal.insurance.filings import RemoteCareFiling
from tests.conftest import csrf_from
from tests.services.remote_care_support import GUANGZHOU, file

ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE_RE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")  # not digits inside a hex digest
FILING_KEYS = {"id", "number", "status", "status_label", "category", "category_name", "term", "destination_code",
               "destination_name", "start_date", "end_date", "lock_until", "care_phone", "self_service",
               "commitment_hash", "application_id", "extension_opens", "ended_on", "end_reason"}


@pytest.fixture
def frozen(at):
    return at(2026, 12, 1)


def pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


# --- pages -------------------------------------------------------------------------------------------


def test_the_landing_page_lists_the_regions_categories_and_its_tips(client):
    page = client.get("/remote-care/").get_data(as_text=True)
    for key in ("resettled_retiree", "long_term_resident", "stationed_worker", "referral"):
        assert f'id="category-{key}"' in page
    assert 'id="category-emergency"' not in page  # jilin has no emergency item
    assert "到北京、天津、上海、重庆、海南、西藏和新疆生产建设兵团就医，备案到就医省份即可。" in page
    assert "临时外出就医人员的报销比例可能低于参保地。" in page


def test_the_guides_apply_online_leads_to_the_filing_page_of_the_items_category(app, client):
    from portal.services.remote_care.operations import offered_categories

    with app.test_request_context("/"):
        offered = offered_categories()
    assert offered
    for category, item in offered:
        response = client.get(f"/apply/{item.code}")
        assert response.status_code == 302, item.code
        assert response.headers["Location"].endswith(f"/remote-care/file/{category.key}")
    assert client.get("/apply/G002036005000_01_001").status_code == 200  # other items keep the generic form


def test_a_category_the_region_does_not_offer_leads_back_to_the_list(citizen, browser_for):
    response = browser_for(citizen).get("/remote-care/file/emergency")  # jilin has no emergency item
    assert response.status_code == 302 and response.headers["Location"].endswith("/remote-care/")


def test_retiree_files_to_hainan_with_a_commitment_on_the_pages(citizen, frozen, browser_for, db_session):
    browser = browser_for(citizen)
    url = "/remote-care/file/resettled_retiree"
    page = browser.get(url).get_data(as_text=True)
    assert "基本医疗保险异地就医备案个人承诺书" in page and "依据：" in page
    token = csrf_from(page)
    page = browser.post(url, data={"csrf_token": token, "province": "460000", "action": "places"})
    assert page.status_code == 200 and 'id="province-level">' in page.get_data(as_text=True)  # shown, not hidden
    form = {"csrf_token": token, "province": "460000", "start_date": "2026-12-01", "care_address": "海口市美兰区1号",
            "care_phone": "13912345678", "method": "commitment", "commitment_consent": "y", "signed_name": "李秀",
            "idempotency_key": "k" * 24, "action": "submit"}
    refused = browser.post(url, data=form)
    assert refused.status_code == 400 and "not the full name" in refused.get_data(as_text=True)
    assert db_session.execute(select(RemoteCareFiling)).first() is None
    done = browser.post(url, data=form | {"signed_name": "李秀兰"})
    assert done.status_code == 302 and "/remote-care/filings/" in done.headers["Location"]
    detail = browser.get(done.headers["Location"]).get_data(as_text=True)
    filing = db_session.execute(select(RemoteCareFiling)).scalar_one()
    assert filing.commitment_hash in detail and "海南省" in detail and "until changed or cancelled" not in detail
    # one number, and the other explained; the hash is for checking, folded away behind "verification information"
    case_number = filing.number.removeprefix("YD")
    assert f"has the same number without “YD” ({case_number})" in detail
    assert re.search(r'<details class="card" id="verification-info">\s*<summary>Verification information</summary>'
                     r'.*id="commitment-hash"', detail, re.S)
    assert not MOBILE_RE.search(detail) and not ID_RE.search(detail)
    assert filing.number in browser.get("/remote-care/filings").get_data(as_text=True)
    pdf = browser.get(f"/remote-care/filings/{filing.id}/form.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''YD")
    assert pdf.headers["X-Content-Type-Options"] == "nosniff" and pdf.headers["Cache-Control"] == "no-store"
    text = pdf_text(pdf.data)
    assert filing.number in text and filing.commitment_hash in text and "异地就医备案信息" in text
    assert "吉林省异地就医登记备案表" not in text and "附件1" in text  # 吉林 prints no 备案表: its 附件1's fields
    assert "到北京、天津、上海、重庆、海南、西藏和新疆生产建设兵团就医" in text and "■跨省异地长期居住人员" in text
    assert "13912345678" not in text and "139****5678" in text and not ID_RE.search(text)  # S12
    cancelled = browser.post(f"/remote-care/filings/{filing.id}/cancel", data={"csrf_token": csrf_from(detail)},
                             follow_redirects=True)
    assert "Jun 1, 2027" in cancelled.get_data(as_text=True) and filing.is_active


def test_a_second_long_term_filing_goes_to_the_change_page(citizen, frozen, browser_for, db_session):
    first = db_session.execute(select(RemoteCareFiling)).first()
    assert first is None
    file(citizen)
    db_session.commit()
    browser = browser_for(citizen)
    url = "/remote-care/file/long_term_resident"
    token = csrf_from(browser.get(url).get_data(as_text=True))
    response = browser.post(url, data={"csrf_token": token, "province": "440000", "city": GUANGZHOU,
                                       "start_date": "2026-12-01", "care_address": "广州", "care_phone": "13912345678",
                                       "method": "commitment", "commitment_consent": "y", "signed_name": "李秀兰",
                                       "action": "submit"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/change")


def test_another_persons_filing_answers_404_on_every_route(citizen, make_citizen, frozen, browser_for, db_session):
    file(citizen)
    filing = db_session.execute(select(RemoteCareFiling)).scalar_one()
    other = browser_for(make_citizen("王小红"))
    for url in (f"/remote-care/filings/{filing.id}", f"/remote-care/filings/{filing.id}/form.pdf",
                f"/remote-care/filings/{filing.id}/change"):
        assert other.get(url).status_code == 404, url


# --- the API -----------------------------------------------------------------------------------------


@pytest.fixture
def api(make_client, db_session):
    def _make(account):
        raw = tokens.issue_token(account, label="test")[0]
        db_session.commit()
        client = make_client()

        def call(method, url, **kwargs):
            headers = {"Authorization": f"Bearer {raw}", **kwargs.pop("headers", {})}
            response = client.open(url, method=method, headers=headers, **kwargs)
            if response.mimetype == "application/json":
                text = response.get_data(as_text=True)
                assert not ID_RE.search(text) and not MOBILE_RE.search(text), text
            return response

        return call

    return _make


def test_api_flow_files_with_a_commitment_lists_prints_and_is_refused_cancel_in_the_lock(citizen, frozen, api):
    call = api(citizen)
    categories = call("GET", "/api/v1/remote-care/categories").get_json()
    retiree = next(c for c in categories["categories"] if c["key"] == "resettled_retiree")
    assert retiree["commitment_allowed"] is True and retiree["term"] == "long_term"
    assert categories["commitment"]["version"] == "jilin-remote-care-2026.1"
    provinces = call("GET", "/api/v1/remote-care/divisions").get_json()["divisions"]
    hainan = next(d for d in provinces if d["code"] == "460000")
    assert hainan["province_level_only"] is True
    cities = call("GET", "/api/v1/remote-care/divisions?parent=460000").get_json()["divisions"]
    assert {"code": "460100", "name": "海口市", "level": "city", "province_level_only": False} in cities
    body = {"category": "resettled_retiree", "destination_code": "460100", "start_date": "2026-12-01",
            "care_address": "海口市美兰区1号", "care_phone": "13912345678", "method": "commitment",
            "commitment_consent": True, "signed_name": "李秀兰"}
    key = str(uuid.uuid4())
    response = call("POST", "/api/v1/remote-care/filings", json=body, headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.get_json()
    filed = response.get_json()
    assert set(filed) == {"application_id", "application_number", "application_state", "filing"}
    assert filed["application_state"] == "completed"
    filing = filed["filing"]
    assert set(filing) == FILING_KEYS
    assert filing["status"] == "active" and filing["self_service"] is True
    assert filing["destination_code"] == "460000" and filing["destination_name"] == "海南省"
    assert re.fullmatch(r"[0-9a-f]{64}", filing["commitment_hash"]) and filing["care_phone"] == "139****5678"
    assert filing["lock_until"] == "2027-06-01" and filing["end_date"] == "2027-11-30"
    again = call("POST", "/api/v1/remote-care/filings", json=body, headers={"Idempotency-Key": key})
    assert again.get_json()["application_id"] == filed["application_id"]  # a double tap files once
    listed = call("GET", "/api/v1/remote-care/filings").get_json()
    assert listed["count"] == 1 and listed["filings"][0]["number"] == filing["number"]
    pdf = call("GET", f"/api/v1/remote-care/filings/{filing['id']}/form.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    cancel = call("POST", f"/api/v1/remote-care/filings/{filing['id']}/cancel")
    assert cancel.status_code == 409
    error = cancel.get_json()["error"]
    assert error["code"] == "filing_locked" and "Jun 1, 2027" in error["message"]


def test_api_refusals_name_the_fields(citizen, frozen, api):
    call = api(citizen)
    response = call("POST", "/api/v1/remote-care/filings", json={
        "category": "resettled_retiree", "destination_code": "440000", "start_date": "2026-12-01",
        "care_address": "", "care_phone": "123", "method": "commitment", "commitment_consent": False})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"destination_code", "care_phone"} <= set(fields)
    assert "care_address" not in fields  # 吉林's sheet (附件1) has no address: optional
    unknown = call("POST", "/api/v1/remote-care/filings", json={"category": "x", "destination_code": "1", "bogus": 1})
    assert unknown.status_code == 422
    assert call("POST", "/api/v1/remote-care/filings", data="x", content_type="text/plain").status_code == 415


def test_api_answers_404_for_another_persons_filing(citizen, make_citizen, frozen, api, db_session):
    file(citizen)
    filing = db_session.execute(select(RemoteCareFiling)).scalar_one()
    call = api(make_citizen("王小红"))
    for method, url in (("GET", f"/api/v1/remote-care/filings/{filing.id}"),
                        ("POST", f"/api/v1/remote-care/filings/{filing.id}/cancel"),
                        ("GET", f"/api/v1/remote-care/filings/{filing.id}/form.pdf")):
        assert call(method, url).status_code == 404, url
