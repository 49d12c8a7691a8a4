"""Certificates: issued at once as cases of the catalog's items (receipt, "my applications"), numbered, with the
months and balance of the records; the rasterised PDF shows the Chinese text; signed (PAdES) and a PDF altered
after signing fails validation; the public verification page and its states; ownership (S6)."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from portal.applications.constants import State
from portal.applications.models import Application
from portal.certificates import codes, signing
from portal.certificates.constants import CertificateKind, CertificateStatus
from portal.certificates.facts import amount_in_words
from portal.certificates.models import Certificate
from portal.certificates.operations import request_certificate, revoke_certificate
from tests.conftest import csrf_from

from .conftest import login
from .records import BALANCE, EMPLOYEE_MONTHS, SYSTEM

ID_SHAPE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def request_via_page(browser, kind: str):
    """Press the button of ``kind`` on the certificates page, as a browser posts its form."""
    html = browser.get("/certificates/").get_data(as_text=True)
    key = re.search(rf'action="/certificates/request/{kind}".*?name="key"[^>]*value="([^"]+)"', html, re.S).group(1)
    return browser.post(f"/certificates/request/{kind}", data={"csrf_token": csrf_from(html), "key": key})


def issued(db_session, holder_filter) -> list[Certificate]:
    return list(db_session.execute(select(Certificate).where(holder_filter).order_by(Certificate.id)).scalars())


@pytest.fixture
def voucher(citizen_browser, db_session, insured) -> Certificate:
    response = request_via_page(citizen_browser, "person_voucher")
    assert response.status_code == 302, response.get_data(as_text=True)
    certificate = issued(db_session, Certificate.person_id == insured.person.id)[-1]
    assert response.headers["Location"].endswith(f"/certificates/{certificate.id}")
    return certificate


def pdf_text(pdf: bytes) -> tuple[str, float]:
    """The text of page 1 as the renderer sees it, and the share of its pixels that are not white."""
    document = pdfium.PdfDocument(pdf)
    page = document[0]
    text = page.get_textpage().get_text_range()
    image = page.render(scale=1).to_pil().convert("L")
    histogram = image.histogram()
    dark = sum(histogram[:200]) / (image.width * image.height)
    page.close()
    document.close()
    return text, dark


# --- issuing ---------------------------------------------------------------------------------------------


def test_voucher_is_a_completed_case_with_receipt_in_my_applications(voucher, citizen_browser, db_session):
    case = db_session.get(Application, voucher.application_id)
    assert case.state == State.COMPLETED and case.item_code == "G002036003001_01"
    assert case.materials == {"identity": "data_sharing"}  # the real-name binding stands for the ID online
    mine = citizen_browser.get("/applications/").get_data(as_text=True)
    assert case.number in mine
    detail = citizen_browser.get(f"/applications/{case.id}").get_data(as_text=True)
    assert f'href="/certificates/{voucher.id}"' in detail  # the case page leads to what it issued
    receipt = citizen_browser.get(f"/applications/{case.id}/receipt")
    assert receipt.status_code == 200 and case.number in receipt.get_data(as_text=True)


def test_voucher_states_months_and_balance_of_the_records(voucher, insured):
    facts = voucher.facts
    assert facts["months_paid"] == EMPLOYEE_MONTHS  # 14 paid months; the month in arrears does not count
    assert facts["balance"] == f"{BALANCE:.2f}"
    assert facts["balance_words"] == "壹仟贰佰叁拾肆元伍角陆分"
    assert (facts["period_from"], facts["period_to"]) == ("2025-01", "2026-02")
    assert facts["insurance_type"] == "employee_medical"
    assert facts["person"]["id_number"] == insured.person.id_number[:6] + "********" + insured.person.id_number[-4:]
    assert voucher.number == f"(吉林省)(220100)({voucher.year})(第0001号)"
    assert facts["agency"]["name"] == "长春市医疗保障经办中心" and facts["agency"]["division_code"] == "220100"


def test_amounts_in_words_come_from_cn2an():
    assert amount_in_words(Decimal("0")) == "零元整"
    assert amount_in_words(Decimal("100")) == "壹佰元整"
    assert amount_in_words(Decimal("20005.10")) == "贰万零伍元壹角"


def test_numbers_count_up_within_the_pooling_area_and_year(citizen, insured, db_session, app):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        request_certificate(CertificateKind.PERSON_VOUCHER, by=citizen, actor=SYSTEM)
        request_certificate(CertificateKind.PERSON_PROOF, by=citizen, actor=SYSTEM)
    serials = [c.serial for c in issued(db_session, Certificate.person_id == insured.person.id)]
    assert serials == [1, 2]


def test_a_new_certificate_supersedes_the_previous_one_of_its_kind(citizen, insured, db_session, app):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        request_certificate(CertificateKind.PERSON_VOUCHER, by=citizen, actor=SYSTEM)
        request_certificate(CertificateKind.PERSON_PROOF, by=citizen, actor=SYSTEM)
        request_certificate(CertificateKind.PERSON_VOUCHER, by=citizen, actor=SYSTEM)
    first, proof, second = issued(db_session, Certificate.person_id == insured.person.id)
    assert (first.status, first.superseded_by_id) == (CertificateStatus.SUPERSEDED, second.id)
    assert proof.status == second.status == CertificateStatus.VALID


def test_person_proof_is_issued_by_the_enrolment_query_item(citizen, insured, db_session, app):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        case = request_certificate(CertificateKind.PERSON_PROOF, by=citizen, actor=SYSTEM)
    assert case.item_code == "G002036002002" and case.state == State.COMPLETED
    proof = issued(db_session, Certificate.person_id == insured.person.id)[0]
    by_type = {e["insurance_type"]: e for e in proof.facts["enrolments"]}
    assert by_type["employee_medical"]["months_paid"] == EMPLOYEE_MONTHS
    assert by_type["resident_medical"]["to"] == "2024-12"


def test_unit_proof_counts_headcounts_and_periods(agent_browser, insured, db_session):
    response = request_via_page(agent_browser, "unit_proof")
    assert response.status_code == 302
    proof = issued(db_session, Certificate.unit_id == insured.unit.id)[0]
    case = db_session.get(Application, proof.application_id)
    assert case.item_code == "G002036003001_02" and case.state == State.COMPLETED
    facts = proof.facts
    assert facts["counts"]["count_total"] == 4 and facts["counts"]["count_active"] == 4  # all employees
    types = {t["insurance_type"]: t for t in facts["types"]}
    assert types["employee_medical"]["status"] == "arrears" and types["employee_medical"]["to"] == "2026-03"
    html = agent_browser.get(f"/certificates/{proof.id}").get_data(as_text=True)
    assert "医疗保险单位参保证明" in html and "参保总人数" in html and insured.unit.name in html


# --- documents -----------------------------------------------------------------------------------------


def test_printable_page_shows_the_certificate_masked(voucher, citizen_browser, insured):
    html = citizen_browser.get(f"/certificates/{voucher.id}").get_data(as_text=True)
    assert "基本医疗保险参保凭证" in html and voucher.number in html
    assert "壹仟贰佰叁拾肆元伍角陆分" in html and "￥1234.56" in html and f"{EMPLOYEE_MONTHS} 月" in html
    assert codes.grouped(voucher.code) in html and "<svg" in html
    assert ID_SHAPE.search(html) is None and insured.phone not in html


def test_rasterised_pdf_shows_the_chinese_text_months_and_balance(voucher, citizen_browser):
    response = citizen_browser.get(f"/certificates/{voucher.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    text, dark = pdf_text(response.get_data())
    assert 0.01 < dark < 0.5, dark  # something is drawn, and the page is not a black box
    compact = re.sub(r"\s+", "", text)
    for expected in ("基本医疗保险参保凭证", "欧阳明华", "其中累计实际缴费月数", f"{EMPLOYEE_MONTHS}月",
                     "壹仟贰佰叁拾肆元伍角陆分", "￥1234.56", voucher.number, codes.grouped(voucher.code),
                     "长春市医疗保障经办中心", "注意事项"):
        assert expected in compact, expected
    assert ID_SHAPE.search(compact) is None


def test_pdf_carries_a_valid_pades_signature_and_an_altered_copy_fails(voucher, citizen_browser, app):
    pdf = citizen_browser.get(f"/certificates/{voucher.id}.pdf").get_data()
    roots = signing.trust_roots(app.config["PORTAL_SIGNING"])
    status = validate_pdf_signature(PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0],
                                    ValidationContext(trust_roots=roots))
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE"
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES

    # alter the page's content stream (inside the signed byte range): the digest no longer matches
    start, length, _second, _rest = signature.byte_range
    body = bytearray(pdf)
    where = pdf.find(b"stream\n", start, start + length) + len(b"stream\n") + 40
    assert start < where < start + length
    body[where] ^= 0x01
    altered = validate_pdf_signature(PdfFileReader(io.BytesIO(bytes(body))).embedded_signatures[0],
                                     ValidationContext(trust_roots=roots))
    assert not altered.intact and not altered.bottom_line


def test_a_change_written_after_signing_is_reported(voucher, citizen_browser, app):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    pdf = citizen_browser.get(f"/certificates/{voucher.id}.pdf").get_data()
    from pyhanko.pdf_utils import generic

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))  # an incremental update after the signature
    info = writer.trailer["/Info"]
    info["/Title"] = generic.TextStringObject("伪造的参保凭证")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    roots = signing.trust_roots(app.config["PORTAL_SIGNING"])
    status = validate_pdf_signature(PdfFileReader(io.BytesIO(out.getvalue())).embedded_signatures[0],
                                    ValidationContext(trust_roots=roots))
    assert status.coverage.name != "ENTIRE_FILE"
    assert status.modification_level.name != "NONE"


def test_another_persons_certificate_answers_404(voucher, make_client, db_session, make_person, app):
    from .conftest import bind

    stranger = make_person(name="周八", phone="13912340000")
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        bind("13912340000", stranger)
    db_session.commit()
    browser = login(make_client(), db_session, "13912340000")
    for url in (f"/certificates/{voucher.id}", f"/certificates/{voucher.id}.pdf"):
        assert browser.get(url).status_code == 404
    assert voucher.number not in browser.get("/certificates/").get_data(as_text=True)


# --- verification --------------------------------------------------------------------------------------


def test_verification_page_confirms_a_valid_certificate_with_masked_data(voucher, make_client, insured):
    response = make_client().get(f"/v/{codes.grouped(voucher.code)}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Authentic and valid." in html
    assert voucher.number in html and "欧阳*" in html and f"{EMPLOYEE_MONTHS} 月" in html
    assert insured.person.name not in html and ID_SHAPE.search(html) is None
    assert response.headers["Referrer-Policy"] == "no-referrer"
    # the voucher's own name for its number (凭证号), not an application's 受理编号
    assert f'<dt>Voucher number</dt><dd id="certificate-number"><span lang="zh-Hans">{voucher.number}</span></dd>' \
        in html  # the number as the certificate prints it, quoted Chinese on an English page
    chinese = make_client()
    chinese.set_cookie("lang", "zh_Hans_CN")
    zh = chinese.get(f"/v/{voucher.code}").get_data(as_text=True)
    assert f"<dt>凭证号</dt><dd id=\"certificate-number\">{voucher.number}</dd>" in zh and "受理编号" not in zh


def test_rows_the_records_leave_blank_are_left_out_of_the_certificate(voucher, monkeypatch, app):
    from portal.certificates.documents import certificate_context

    facts = dict(voucher.facts, agency=dict(voucher.facts["agency"], address="", contact="  "))
    monkeypatch.setattr(type(voucher), "facts", property(lambda self: facts))
    with app.test_request_context("/"):
        blocks = certificate_context(voucher)["blocks"]
    rows = [label for block in blocks for label, _value in block.rows]
    assert "机构名称" in rows and "地址" not in rows and "联系人" not in rows
    assert all(value.strip() for block in blocks for _label, value in block.rows)


def test_codes_are_typed_loosely_and_unknown_ones_are_404(voucher, make_client):
    browser = make_client()
    typed = " ".join(voucher.code[i:i + 4] for i in range(0, 16, 4)).lower()
    assert browser.get(f"/v/{typed}").status_code == 200
    assert browser.get("/v/AAAA-AAAA-AAAA-AAAA").status_code == 404
    assert browser.get("/v/not-a-code").status_code == 404
    assert codes.BITS >= 60 and not set("01ILO") & set(codes.ALPHABET)


def test_verification_says_superseded_and_revoked(citizen, insured, db_session, app, make_client):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        request_certificate(CertificateKind.PERSON_VOUCHER, by=citizen, actor=SYSTEM)
        request_certificate(CertificateKind.PERSON_VOUCHER, by=citizen, actor=SYSTEM)
        old, new = issued(db_session, Certificate.person_id == insured.person.id)
        revoke_certificate(new, "按错误记录出具", actor=SYSTEM)
    db_session.commit()
    browser = make_client()
    html = browser.get(f"/v/{old.code}").get_data(as_text=True)
    assert "Authentic, but superseded." in html and new.number in html
    assert "Revoked." in browser.get(f"/v/{new.code}").get_data(as_text=True)


def test_verification_is_rate_limited_per_ip(voucher, make_client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_VERIFY_IP", "3/minute")
    browser = make_client()
    statuses = [browser.get(f"/v/{voucher.code}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_verify_form_leads_to_the_page(voucher, make_client):
    browser = make_client()
    token = csrf_from(browser.get("/v").get_data(as_text=True))
    response = browser.post("/v", data={"csrf_token": token, "code": codes.grouped(voucher.code)})
    assert response.status_code == 302 and "/v/" in response.headers["Location"]


def test_verification_api(voucher, make_client):
    body = make_client().get(f"/api/v1/certificates/verify/{voucher.code}").get_json()
    assert body["authentic"] is True and body["status"] == "valid" and body["holder"] == "欧阳*"
    assert make_client().get("/api/v1/certificates/verify/AAAAAAAAAAAAAAAA").status_code == 404


def test_certificates_api_requests_lists_and_downloads(citizen, insured, make_client, db_session):
    from portal.accounts import tokens

    raw = tokens.issue_token(citizen, label="test")[0]
    db_session.commit()
    browser = make_client()
    auth = {"Authorization": f"Bearer {raw}"}
    assert browser.post("/api/v1/certificates", data="kind=person_voucher", headers=auth).status_code == 415
    assert browser.post("/api/v1/certificates", json={"kind": "nothing"}, headers=auth).status_code == 422
    made = browser.post("/api/v1/certificates", json={"kind": "person_voucher"}, headers=auth)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["state"] == "completed" and body["certificate"]["number"].startswith("(吉林省)(220100)")
    listed = browser.get("/api/v1/certificates", headers=auth).get_json()
    assert [c["id"] for c in listed["items"]] == [body["certificate"]["id"]]
    assert set(listed["available"]) == {"person_voucher", "person_proof"}
    one = browser.get(f"/api/v1/certificates/{body['certificate']['id']}", headers=auth).get_json()
    rows = {r["label"]: r["value"] for b in one["blocks"] for r in b["rows"]}
    assert rows["其中累计实际缴费月数"] == f"{EMPLOYEE_MONTHS} 月"
    assert "壹仟贰佰叁拾肆元伍角陆分" in rows["个人账户余额"]
    assert ID_SHAPE.search(str(one)) is None
    pdf = browser.get(f"/api/v1/certificates/{body['certificate']['id']}/pdf", headers=auth)
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert browser.get("/api/v1/certificates/99999", headers=auth).status_code == 404


def test_a_number_taken_meanwhile_is_retried_with_the_next_one(citizen, insured, db_session, app, monkeypatch):
    from portal.certificates import operations

    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        request_certificate(CertificateKind.PERSON_VOUCHER, by=citizen, actor=SYSTEM)
        real, answers = operations._next_serial, []

        def stale_then_real(pool, year):  # as if another request read the maximum before ours was committed
            answers.append(1 if not answers else real(pool, year))
            return answers[-1]

        monkeypatch.setattr(operations, "_next_serial", stale_then_real)
        case = request_certificate(CertificateKind.PERSON_PROOF, by=citizen, actor=SYSTEM)
    assert answers == [1, 2] and case.state == State.COMPLETED
    assert [c.serial for c in issued(db_session, Certificate.person_id == insured.person.id)] == [1, 2]


def test_a_double_press_issues_one_certificate(citizen_browser, db_session, insured):
    html = citizen_browser.get("/certificates/").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "key": re.search(r'name="key"[^>]*value="([^"]+)"', html).group(1)}
    first = citizen_browser.post("/certificates/request/person_voucher", data=data)
    again = citizen_browser.post("/certificates/request/person_voucher", data=data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert len(issued(db_session, Certificate.person_id == insured.person.id)) == 1
    assert citizen_browser.post("/certificates/request/person_voucher",
                                data={"csrf_token": data["csrf_token"]}).status_code == 400  # no key


def test_api_repeat_with_the_same_key_issues_one(citizen, make_client, db_session, insured):
    from portal.accounts import tokens

    raw = tokens.issue_token(citizen, label="test")[0]
    db_session.commit()
    browser = make_client()
    headers = {"Authorization": f"Bearer {raw}", "Idempotency-Key": "press-0001-abcdef"}
    one = browser.post("/api/v1/certificates", json={"kind": "person_voucher"}, headers=headers).get_json()
    two = browser.post("/api/v1/certificates", json={"kind": "person_voucher"}, headers=headers).get_json()
    assert one["certificate"]["id"] == two["certificate"]["id"]
    assert len(issued(db_session, Certificate.person_id == insured.person.id)) == 1


def test_revoke_command_marks_the_certificate_and_verification_says_so(voucher, app, db_session, make_client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["portal", "certificates", "revoke", "(吉林省)(1)(2)(第9号)", "--reason", "x"]
                         ).exit_code == 1
    result = runner.invoke(args=["portal", "certificates", "revoke", voucher.number, "--reason", "按错误记录出具"])
    assert result.exit_code == 0, result.output
    db_session.refresh(voucher)
    assert voucher.status == CertificateStatus.REVOKED and voucher.revoke_reason == "按错误记录出具"
    assert "Revoked." in make_client().get(f"/v/{voucher.code}").get_data(as_text=True)


def test_signing_works_where_an_event_loop_already_runs(app):
    """pyHanko signs with asyncio.run(); inside a running loop (an async server, a browser test) it cannot nest,
    so the portal signs in a thread of its own there: the signature is as valid as anywhere else."""
    import asyncio

    from pyhanko.sign.validation import async_validate_pdf_signature
    from reportlab.pdfgen import canvas

    drawn = io.BytesIO()
    page = canvas.Canvas(drawn)
    page.drawString(72, 720, "certificate")
    page.save()
    pdf = drawn.getvalue()

    async def inside_a_loop():
        signed = signing.sign_pdf(pdf, app.config["PORTAL_SIGNING"], reason="test")
        roots = signing.trust_roots(app.config["PORTAL_SIGNING"])
        embedded = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
        return signed, await async_validate_pdf_signature(embedded, ValidationContext(trust_roots=roots))

    signed, status = asyncio.run(inside_a_loop())
    assert signed.startswith(pdf[:8]) and len(signed) > len(pdf)
    assert status.intact and status.valid and status.trusted
