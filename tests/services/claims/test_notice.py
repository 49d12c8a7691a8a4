"""The payment notice of a paid claim: a signed PDF with the amount in figures and in Chinese capital words, the
account masked; the claimant's own (404 to anyone else, and before payment), linked from the case and from the
paid message; staff's copy audited."""

from __future__ import annotations

import io
import re

import pypdfium2 as pdfium
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from portal.accounts.models import Role
from portal.applications import operations as ops
from portal.certificates import signing
from portal.core.audit import AuditEvent
from tests.factories import log_in_by_code as login
from tests.services.claims.conftest import SYSTEM
from tests.services.claims.test_claims import GOOD_CARD, OUTPATIENT, _invoice


def _paid(make_case, citizen, staff, *, paid=True):
    case = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("NOTE-1", total="2345.67")],
                                               "hospital_level": "一级", "payee_account": GOOD_CARD})
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    if paid:
        ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    return case


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    document.close()
    return re.sub(r"\s", "", text)


def test_the_claimant_gets_a_signed_notice_with_the_amount_in_figures_and_words(make_case, citizen, staff,
                                                                              make_client, db_session, app):
    case = _paid(make_case, citizen, staff)
    db_session.commit()
    browser = login(make_client(), db_session, citizen.phone)
    page = browser.get(f"/applications/{case.id}").get_data(as_text=True)
    assert f'href="/applications/{case.id}/payment-notice.pdf"' in page  # linked from the case
    response = browser.get(f"/applications/{case.id}/payment-notice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename*=UTF-8''payment-notice-{case.number}.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["Cache-Control"] == "no-store"
    pdf = response.get_data()
    text = _text(pdf)
    # (2345.67 − 200) × 90 ％ = 1931.103 → 1931.10 (吉林 employee, 一级 hospital, demo values)
    for expected in ("医疗保障待遇拨付通知书", "¥1,931.10", "人民币壹仟玖佰叁拾壹元壹角", case.number, "****3446",
                     "计算过程", "电子签章"):
        assert expected in text, expected
    assert GOOD_CARD not in text  # the account is masked on a document that may be handed on
    roots = signing.trust_roots(app.config["PORTAL_SIGNING"])
    status = validate_pdf_signature(PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0],
                                    ValidationContext(trust_roots=roots))
    assert status.intact and status.valid and status.trusted and status.coverage.name == "ENTIRE_FILE"
    # the paid message points to it
    inbox = browser.get("/inbox").get_data(as_text=True)
    assert f"/applications/{case.id}/payment-notice.pdf" in inbox


def test_there_is_no_notice_before_payment_nor_for_anyone_else(make_case, citizen, staff, make_client, db_session,
                                                               stranger):
    case = _paid(make_case, citizen, staff, paid=False)
    db_session.commit()
    browser = login(make_client(), db_session, citizen.phone)
    assert browser.get(f"/applications/{case.id}/payment-notice.pdf").status_code == 404
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    db_session.commit()
    assert browser.get(f"/applications/{case.id}/payment-notice.pdf").status_code == 200
    other = login(make_client(), db_session, stranger.phone)
    assert other.get(f"/applications/{case.id}/payment-notice.pdf").status_code == 404


def test_staff_open_the_notice_from_the_case_and_it_is_audited(make_case, citizen, staff, browser_as, db_session):
    case = _paid(make_case, citizen, staff)
    db_session.commit()
    finance, account = browser_as("notefin", Role.FINANCE)
    page = finance.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert f'href="/staff/cases/{case.id}/payment-notice.pdf"' in page
    response = finance.get(f"/staff/cases/{case.id}/payment-notice.pdf")
    assert response.status_code == 200 and response.get_data().startswith(b"%PDF-")
    audit = db_session.execute(select(AuditEvent).where(AuditEvent.action == "claim.notice_view")).scalar_one()
    assert audit.actor_id == str(account.id) and audit.object_id == str(case.id)
