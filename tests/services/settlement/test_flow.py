"""A settlement declaration along its case: written at submission with the amount applied for, one per institution,
item, period and 险种, decided by the reviewer (an adjustment needs its reason; both are kept), paid through the
payment batches beside people's claims, and its statement a signed PDF."""

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
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Role
from portal.applications import operations as ops
from portal.applications.constants import Action, State
from portal.applications.permissions import cannot_act
from portal.certificates import signing
from portal.core.audit import AuditEvent
from portal.core.db import db
from portal.core.errors import ValidationFailed
from portal.integrations.bank import get_bank_files, local_bank
from portal.notifications.models import Notification
from portal.services.base import FilingContext, Severity
from portal.services.claims import batches
from portal.services.claims import operations as claims
from portal.services.settlement import SettlementItem
from portal.services.settlement.models import SettlementDeclaration
from portal.services.settlement.operations import declaration_of
from portal.services.settlement.statement import render_statement_pdf
from tests.factories import log_in_by_code
from tests.services.claims.test_batches import _paying
from tests.services.settlement.conftest import ACCOUNT, MONTHLY, SYSTEM, to_paying


def test_submission_keeps_the_declaration_and_the_amount_applied_for_with_its_working(clinic_agents,
                                                                                      file_settlement):
    agent = clinic_agents[0]
    case = file_settlement(agent)
    kept = declaration_of(case)
    assert (kept.period_kind, kept.period, kept.category, kept.visits) == ("month", "2026-10", "职工基本医疗保险", 812)
    assert (kept.total_cost, kept.fund_paid, kept.account_paid, kept.self_paid, kept.deducted) == (
        Decimal("125000.00"), Decimal("80000.00"), Decimal("20000.00"), Decimal("25000.00"), Decimal("1500.00"))
    claim = claims.claim_of(case)
    assert (claim.kind, claim.computed_amount, claim.decided_amount) == ("settlement", Decimal("98500.00"), None)
    assert [line["key"] for line in claim.working] == ["settlement_total", "settlement_fund", "settlement_account",
                                                       "settlement_deducted", "settlement_payable"]
    assert case.audience == "institution" and case.institution_id == agent.institution_id and case.is_money


def test_the_account_must_be_the_institutions_own(clinic_agents, file_settlement):
    with pytest.raises(ValidationFailed) as refused:
        file_settlement(clinic_agents[0], payee_name="钱经办")
    assert dict(refused.value.reasons)["payee_name"] == "须为本机构的账户：账户名称应为“演示第一诊所”。"


def test_a_period_is_declared_once_per_institution_item_and_insurance(clinic_agents, file_settlement, make_institution,
                                                                      make_institution_agent, staff):
    first, second = clinic_agents
    case = file_settlement(first)
    draft = file_settlement(second, submit=False)  # another agent of the same clinic, the same period
    with pytest.raises(ValidationFailed) as refused:
        ops.submit_application(draft, by=second, actor=SYSTEM)
    message = dict(refused.value.reasons)["period"]
    assert message.startswith(f"本机构已在办件 {case.number} 中申报了 2026-10（职工基本医疗保险）")
    assert draft.state == "draft"
    assert file_settlement(second, category="城乡居民基本医疗保险").state == State.SUBMITTED  # another 险种
    assert file_settlement(second, period="2026-09").state == State.SUBMITTED  # another month
    other = make_institution_agent(make_institution(name="演示第二药店", kind="pharmacy"))
    assert file_settlement(other, payee_name="演示第二药店").state == State.SUBMITTED  # another institution
    # withdrawn, the first frees its period
    ops.withdraw_application(case, by=first, actor=SYSTEM)
    assert declaration_of(case).live_key is None
    ops.submit_application(draft, by=second, actor=SYSTEM)
    assert draft.state == State.SUBMITTED


def test_the_database_refuses_a_second_standing_declaration_of_the_period(clinic_agents, file_settlement, db_session):
    case = file_settlement(clinic_agents[0])
    kept = declaration_of(case)
    twin = SettlementDeclaration(**{c.key: getattr(kept, c.key) for c in SettlementDeclaration.__table__.columns
                                    if c.key not in ("id", "application_id")}, application_id=case.id + 10**6)
    db.session.add(twin)
    with pytest.raises(IntegrityError):  # two submissions at the same moment: one of them fails
        db.session.flush()
    db.session.rollback()


def test_a_declaration_racing_another_of_the_period_is_refused_at_its_field(clinic_agents, file_settlement,
                                                                           monkeypatch):
    """Two agents submit the same period at once: the form's check saw no other (not committed yet), the unique
    index sees it, and the second submission is refused with the form's message (not a server error)."""
    from portal.services.settlement import operations as settlement_ops

    first, second = clinic_agents
    file_settlement(first)
    draft = file_settlement(second, submit=False)
    monkeypatch.setattr(settlement_ops, "standing_declaration", lambda *_a: None)
    with pytest.raises(ValidationFailed) as refused:
        ops.submit_application(draft, by=second, actor=SYSTEM)
    assert "同一期间只能申报一次" in dict(refused.value.reasons)["period"]  # the caller rolls the submission back
    assert declaration_of(draft) is None


def test_nothing_is_stored_when_the_amounts_do_not_add_up(clinic_agents, file_settlement):
    draft = file_settlement(clinic_agents[0], submit=False)
    data = {**draft.form_data, "total_cost": "125000.10"}
    with pytest.raises(ValidationFailed) as refused:
        ops.save_draft(draft, ops.DraftInput(form=data, materials={}), by=clinic_agents[0], actor=SYSTEM)
    assert "医疗总费用（¥125,000.10）应等于" in dict(refused.value.reasons)["total_cost"]
    assert draft.form_data["total_cost"] == "125000.00" and declaration_of(draft) is None


def test_an_institution_without_an_agreement_cannot_declare(catalog, make_institution, make_institution_agent):
    applying = make_institution(name="演示申请中诊所", status="applying")
    agent = make_institution_agent(applying)
    case = ops.start_application(catalog.get(MONTHLY), by=agent, actor=SYSTEM)
    findings = SettlementItem().precheck(FilingContext(item=catalog.get(MONTHLY), case=case))
    assert any(f.severity is Severity.BLOCKING and "尚未签订医保服务协议" in f.message for f in findings)


def test_the_reviewer_adjusts_with_a_reason_both_kept_and_duties_are_separated(clinic_agents, file_settlement, staff):
    case = file_settlement(clinic_agents[0])
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    assert cannot_act(staff["acceptor"], case, Action.APPROVE) is not None  # the acceptor of money cannot approve
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    with pytest.raises(ValidationFailed) as refused:
        claims.decide_amount(case, "97000.00", "", by=staff["reviewer"], actor=SYSTEM)
    assert "amount_reason" in dict(refused.value.reasons)
    claims.decide_amount(case, "97000.00", "核减超限价药品费用 1500 元", by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    claim = claims.claim_of(case)
    assert (claim.computed_amount, claim.decided_amount, claim.adjust_reason) == (
        Decimal("98500.00"), Decimal("97000.00"), "核减超限价药品费用 1500 元")
    assert declaration_of(case).payable == Decimal("98500.00")  # what the institution declared stays as declared
    assert cannot_act(staff["reviewer"], case, Action.START_PAYMENT) is not None  # nor the approver pay it
    ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    payment = claim.payment
    assert (payment.amount, payment.payee_kind, payment.payee_name, payment.payee_account) == (
        Decimal("97000.00"), "institution", "演示第一诊所", ACCOUNT)


@pytest.fixture(params=["csv", "xlsx"])
def layout(request, app):
    saved = app.config.get("PORTAL_BANK_FILE_FORMAT", "csv")
    app.config["PORTAL_BANK_FILE_FORMAT"] = request.param
    yield get_bank_files()
    app.config["PORTAL_BANK_FILE_FORMAT"] = saved


def test_a_batch_pays_a_persons_claim_and_an_institutions_settlement_together(
        layout, clinic_agents, file_settlement, make_case, citizen, staff):
    first, second = clinic_agents
    settlement = to_paying(file_settlement(first), staff)
    claim_case = _paying(make_case, citizen, staff, "MIX-1")  # 门诊 ¥1000 → ¥720 (demo policy)
    batch = batches.create_batch(by=staff["finance"], actor=SYSTEM)
    assert (batch.line_count, batch.total) == (2, Decimal("98500.00") + Decimal("720.00"))
    sent = batches.batch_file(batch, actor=SYSTEM)
    rows = layout.read_batch(sent)
    lines = {r[1]: r for r in rows[1:-1]}
    assert lines["演示第一诊所"][2] == ACCOUNT and lines["演示第一诊所"][4] == "98500.00"
    assert (lines["演示第一诊所"][6], lines[citizen.person.name][6]) == ("对公", "对私")
    assert rows[-1][:3] == ["合计", "2", "99220.00"] and rows[-1][5] == batch.checksum
    assert layout.read_batch(batches.batch_file(batch, actor=SYSTEM)) == rows  # the checksum holds on every download
    # the bank pays the clinic and cannot pay the person's card
    person_line = batches.line_id(claims.claim_of(claim_case).payment)
    answer = local_bank.answer(layout, sent, fail={person_line: "账户已冻结"})
    assert batches.import_return(batch, answer, by=staff["finance"], actor=SYSTEM) == \
        {"paid": 1, "failed": 1, "unfinished": []}
    assert settlement.state == State.COMPLETED
    assert "已支付 ¥98,500.00（人民币玖万捌仟伍佰元整）" in settlement.result_text
    told = db.session.execute(select(Notification).where(Notification.application_id == settlement.id,
                                                         Notification.event == "paid")).scalars().all()
    assert {n.account_id for n in told} == {first.id, second.id}  # every agent of the clinic hears of it
    assert all("¥98,500.00" in n.context["result"] for n in told)
    assert claim_case.state == State.PAYING and claims.claim_of(claim_case).payments[-1].state == "failed"


def test_a_failed_settlement_line_asks_the_institution_for_another_account(layout, clinic_agents, file_settlement,
                                                                          staff):
    first, second = clinic_agents
    case = to_paying(file_settlement(first), staff)
    batch = batches.create_batch(by=staff["finance"], actor=SYSTEM)
    line = batches.line_id(claims.claim_of(case).payment)
    answer = local_bank.answer(layout, batches.batch_file(batch, actor=SYSTEM), fail={line: "户名与账号不符"})
    assert batches.import_return(batch, answer, by=staff["finance"], actor=SYSTEM) == \
        {"paid": 0, "failed": 1, "unfinished": []}
    assert case.state == State.PAYING
    told = db.session.execute(select(Notification).where(Notification.application_id == case.id,
                                                         Notification.event == "payment_failed")).scalar_one()
    assert told.account_id == first.id and told.context["reason"] == "户名与账号不符"
    # another agent of the clinic gives the account; it must be the clinic's
    with pytest.raises(ValidationFailed) as refused:
        claims.correct_payee(case, "孙经办", "中国银行长春分行", "62170000123456789012", by=second, actor=SYSTEM)
    assert "演示第一诊所" in dict(refused.value.reasons)["payee_name"]
    payment = claims.correct_payee(case, "演示第一诊所", "中国银行长春分行", "62170000123456789012", by=second,
                                   actor=SYSTEM)
    assert (payment.state, payment.payee_kind, payment.amount) == ("pending", "institution", Decimal("98500.00"))
    assert [p.state for p in claims.claim_of(case).payments] == ["failed", "pending"]


def log_in_agent(browser, db_session, agent):
    """An institution's agent logs in through the pages: the institution's credit code, the phone, the SMS code."""
    return log_in_by_code(browser, db_session, agent.phone, institution=agent.institution)


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    document.close()
    return re.sub(r"\s", "", text)


def test_the_statement_is_a_signed_pdf_with_the_amounts_in_figures_and_words(app, clinic_agents, file_settlement,
                                                                             staff):
    case = file_settlement(clinic_agents[0])
    assert render_statement_pdf(case) is None  # nothing approved yet: no statement
    to_paying(case, staff, amount="97000.00", reason="核减超限价药品费用")
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    pdf = render_statement_pdf(case)
    text = _text(pdf)
    for expected in ("定点医药机构医保费用结算单", "演示第一诊所", case.number, "2026年10月", "职工基本医疗保险",
                     "¥125,000.00", "¥98,500.00", "¥97,000.00", "人民币玖万柒仟元整", "核减超限价药品费用",
                     "****2345", "已支付", "电子签章"):
        assert expected in text, expected
    assert ACCOUNT not in text  # masked: the statement is printed and filed
    roots = signing.trust_roots(app.config["PORTAL_SIGNING"])
    status = validate_pdf_signature(PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0],
                                    ValidationContext(trust_roots=roots))
    assert status.intact and status.valid and status.trusted


def test_the_agents_and_staff_open_the_statement_from_the_case_audited(clinic_agents, file_settlement, staff,
                                                                       make_client, db_session, browser_as,
                                                                       make_institution, make_institution_agent):
    first, second = clinic_agents
    case = file_settlement(first)
    to_paying(case, staff)
    stranger = make_institution_agent(make_institution(name="演示第三诊所"))
    db_session.commit()
    agent = log_in_agent(make_client(), db_session, second)
    page = agent.get(f"/applications/{case.id}").get_data(as_text=True)
    assert f'href="/applications/{case.id}/settlement-statement.pdf"' in page and 'id="settlement-declared"' in page
    got = agent.get(f"/applications/{case.id}/settlement-statement.pdf")
    assert got.status_code == 200 and got.get_data().startswith(b"%PDF-")
    assert got.headers["Content-Disposition"] == f"attachment; filename*=UTF-8''settlement-{case.number}.pdf"  # S10
    assert got.headers["X-Content-Type-Options"] == "nosniff" and got.headers["Cache-Control"] == "no-store"
    other = log_in_agent(make_client(), db_session, stranger)
    assert other.get(f"/applications/{case.id}/settlement-statement.pdf").status_code == 404
    finance, account = browser_as("settlefin", Role.FINANCE)
    page = finance.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert 'id="settlement-declared"' in page and f"/staff/cases/{case.id}/settlement-statement.pdf" in page
    assert finance.get(f"/staff/cases/{case.id}/settlement-statement.pdf").status_code == 200
    viewers = db_session.execute(select(AuditEvent.actor_id).where(AuditEvent.action == "settlement.statement_view")
                                 ).scalars().all()
    assert viewers == [str(second.id), str(account.id)]


def test_the_case_pages_in_english_mark_every_chinese_word_as_quoted(clinic_agents, file_settlement, staff,
                                                                      make_client, db_session, browser_as):
    """The declared figures, the working and the statement's link on the agent's and on staff's page, in English:
    Chinese only where it is marked as such (the institution's and bank's names, the seed's own words)."""
    from tests.test_route_matrix import ChineseOutsideLang

    first, _second = clinic_agents
    case = file_settlement(first)
    to_paying(case, staff, amount="97000.00", reason="核减超限价药品费用")
    db_session.commit()
    agent = log_in_agent(make_client(), db_session, first)
    finance, _account = browser_as("settlefin2", Role.FINANCE)
    for browser, url in ((agent, f"/applications/{case.id}"), (finance, f"/staff/cases/{case.id}")):
        browser.set_cookie("lang", "en")
        page = browser.get(url).get_data(as_text=True)
        assert 'id="settlement-declared"' in page and "Amount applied for" in page, url
        walk = ChineseOutsideLang()
        walk.feed(page)
        assert not walk.stray, walk.stray
