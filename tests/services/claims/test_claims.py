"""Claims along their case: the structured form, its checks at the field, the seed's deadline, the amount the
reviewer decides, the payment and what completion changes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import delete, select, text

from portal.applications import operations as ops
from portal.applications.constants import State
from portal.core import clock
from portal.core.db import db
from portal.core.errors import InvalidTransition, ValidationFailed
from portal.insurance.constants import AccountTransactionKind
from portal.insurance.models import AccountTransaction, PersonalAccount
from portal.services.claims import approval
from portal.services.claims import operations as claims
from portal.services.claims.models import Payment
from tests.applications.conftest import all_materials
from tests.services.claims.conftest import SYSTEM

OUTPATIENT = "G002036006001"  # 吉林 门诊费用报销: claim deadline 次年3月31日, 逾期视为自动放弃
INPATIENT = "G002036006002"  # 吉林 住院费用报销
GOOD_CARD = "6222020200112233446"  # passes the Luhn check
BAD_CARD = "6222020200112233445"  # one digit off


def keys(catalog, code, audience="individual"):
    from portal.services.claims.forms import claim_specs

    return [s.key for s in claim_specs(catalog.get(code), audience)]


def test_a_reimbursement_asks_for_invoice_rows_the_hospital_the_dates_and_the_payee(catalog):
    fields = keys(catalog, INPATIENT)
    assert {"invoices", "hospital_level", "care_area", "admitted_on", "discharged_on", "payee_name", "payee_bank",
            "payee_account"} <= set(fields)
    from portal.services.claims.forms import INVOICES

    assert [c.key for c in INVOICES.columns] == ["number", "issued_on", "institution", "visit_type", "total",
                                                 "self_pay", "self_funded"]
    assert "admitted_on" not in keys(catalog, OUTPATIENT)


def test_yueyangs_maternity_allowance_keeps_its_own_form_and_adds_only_the_number_of_babies(region, app):
    region("yueyang")
    from portal.services.claims.forms import claim_specs

    specs = {s.key: s for s in claim_specs(app.extensions["portal_catalog"].get("002036007004"), "unit")}
    # the seed's 申领表 fields stay, with their published wording; what the calculation needs is required
    assert specs["unit_average_wage"].label.zh == "单位平均缴费工资（元/月）" and specs["unit_average_wage"].required
    assert specs["dystocia"].required and specs["delivery_date"].required and "parity" in specs
    assert "babies" in specs and "payee_account" in specs


def test_a_withdrawal_pays_to_the_account_its_form_already_asks_for(catalog):
    fields = keys(catalog, "G002036002003", "unit")
    assert "insured_account_no" in fields and "payee_account" not in fields


def test_items_of_institutions_keep_their_published_form(catalog):
    from portal.services.claims.forms import claim_specs

    assert claim_specs(catalog.get("G002036001001_01"), "individual") is None  # 定点机构医保费用月结算


def _draft(make_case, citizen, **form):
    return make_case(OUTPATIENT, citizen, submit=False, form=form)


def _invoice(number="FP001", days_ago=30, total="1000.00", **extra):
    return {"number": number, "issued_on": (clock.today() - timedelta(days=days_ago)).isoformat(),
            "institution": "吉林大学第一医院", "visit_type": "门诊", "total": total, **extra}


def _problems(error):
    return dict(error.value.reasons)


def test_a_wrong_card_number_is_refused_at_its_field_in_chinese_and_nothing_is_stored(app, make_case, citizen):
    case = _draft(make_case, citizen, payee_account=GOOD_CARD)
    before = case.form_json
    with force_locale("zh_Hans_CN"), pytest.raises(ValidationFailed) as error:
        ops.save_draft(case, ops.DraftInput(form={**case.form_data, "payee_account": BAD_CARD},
                                            materials=case.materials), by=citizen, actor=SYSTEM)
    assert "校验" in _problems(error)["payee_account"]
    assert case.form_json == before and case.form_data["payee_account"] == GOOD_CARD


def test_a_passbook_number_without_a_check_digit_is_taken(make_case, citizen):
    case = _draft(make_case, citizen, payee_account="12345678901234")
    assert case.form_data["payee_account"] == "12345678901234"


def test_the_account_holder_must_be_the_insured_person(make_case, citizen):
    with pytest.raises(ValidationFailed) as error:
        _draft(make_case, citizen, payee_name="张三丰")
    assert "account holder must be the insured person" in _problems(error)["payee_name"]


def test_invoice_rows_are_checked_each_at_its_cell(make_case, citizen):
    rows = [_invoice("FP1"), _invoice("fp 1"), _invoice("FP2", days_ago=-1),
            _invoice("FP3", self_pay="900.00", self_funded="200.00")]
    with pytest.raises(ValidationFailed) as error:
        _draft(make_case, citizen, invoices=rows)
    problems = _problems(error)
    assert "listed twice" in problems["invoices.2.number"]  # the same number, spaced and lower-cased
    assert "in the future" in problems["invoices.3.issued_on"]
    assert "more than the invoice total" in problems["invoices.4.self_pay"]


def test_an_invoice_claimed_in_another_case_is_refused_and_flagged_to_staff(make_case, citizen, staff):
    first = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("DUP-0001")]})
    with pytest.raises(ValidationFailed) as error:
        make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("DUP-0001")]})
    assert "already been claimed" in _problems(error)["invoices.1.number"]
    # once the first case is refused, its invoice may be claimed again
    ops.refuse_application(first, "材料不全", by=staff["acceptor"], actor=SYSTEM)
    second = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("DUP-0001")]})
    assert [i.number for i in claims.claim_of(second).invoices] == ["DUP-0001"]
    assert claims.duplicates(claims.claim_of(second)) == {}


def test_an_invoice_approved_in_one_case_stops_the_approval_of_another_that_claims_it(make_case, citizen, staff):
    first = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("TWICE-0001")]})
    second = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("TWICE-0002")]})
    # as two filings at the same moment leave them: each passed the filing check before the other was recorded
    claims.claim_of(second).invoices[0].number = "TWICE-0001"
    db.session.flush()
    assert claims.duplicates(claims.claim_of(second)) == {"TWICE-0001": [first.number]}  # shown to the reviewer
    for case in (first, second):
        _to_review(case, staff)
    ops.approve_application(first, by=staff["reviewer"], actor=SYSTEM)
    with force_locale("zh_Hans_CN"), pytest.raises(InvalidTransition) as refusal, db.session.begin_nested():
        ops.approve_application(second, by=staff["reviewer"], actor=SYSTEM)
    assert "TWICE-0001" in refusal.value.message and first.number in refusal.value.message
    assert "一次性告知" in refusal.value.message
    assert second.state == State.UNDER_REVIEW
    # once the first approval goes back to review, the invoice is no longer approved elsewhere
    ops.return_to_review(first, "重复票据，待核实", by=staff["finance"], actor=SYSTEM)
    ops.approve_application(second, by=staff["reviewer"], actor=SYSTEM)
    assert second.state == State.APPROVED
    with pytest.raises(InvalidTransition), db.session.begin_nested():
        ops.approve_application(first, by=staff["reviewer"], actor=SYSTEM)
    assert first.state == State.UNDER_REVIEW


def test_the_seeds_claim_deadline_is_enforced_in_its_own_words(app, at, make_case, citizen):
    at(2026, 4, 2)
    with force_locale("zh_Hans_CN"), pytest.raises(ValidationFailed) as error:
        make_case(OUTPATIENT, citizen, form={"invoices": [{**_invoice("LATE-1"), "issued_on": "2025-12-20"}]})
    message = error.value.reasons[0][1]
    assert "2026年3月31日" in message and "逾期视为自动放弃" in message
    # care of this year is within the deadline
    case = make_case(OUTPATIENT, citizen, form={"invoices": [{**_invoice("IN-TIME"), "issued_on": "2026-01-05"}]})
    assert case.state == State.SUBMITTED


def _to_review(case, staff):
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)


def test_the_reviewer_decides_the_amount_and_a_different_one_needs_a_reason(make_case, citizen, staff):
    case = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("R-1", total="2000.00")],
                                               "hospital_level": "三级"})
    claim = claims.claim_of(case)
    assert claim.computed_amount == Decimal("1120.00")  # (2000 − 600) × 80 ％, jilin employee demo values
    assert claim.working[0]["key"] == "invoices_total"
    _to_review(case, staff)
    with pytest.raises(ValidationFailed) as error:
        claims.decide_amount(case, "1000.00", "", by=staff["reviewer"], actor=SYSTEM)
    assert "amount_reason" in _problems(error)
    for bad in ("abc", "0", "12.345", "-5"):
        with pytest.raises(ValidationFailed):
            claims.decide_amount(case, bad, "核减", by=staff["reviewer"], actor=SYSTEM)
    claims.decide_amount(case, "1,000.00", "部分药品超出目录，核减 120 元", by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    assert (claim.computed_amount, claim.decided_amount) == (Decimal("1120.00"), Decimal("1000.00"))
    assert claim.adjust_reason.startswith("部分药品") and claim.decided_by_id == staff["reviewer"].id


def test_two_claims_filed_before_either_is_approved_cannot_together_go_over_the_years_cap(make_case, citizen, staff):
    big = {"hospital_level": "三级"}
    first = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("CAP-A", total="150000.00")], **big})
    second = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("CAP-B", total="150000.00")], **big})
    # each was computed against the whole cap of 150,000 (jilin employee demo values): (150,000 − 600) × 80 ％
    assert claims.claim_of(first).computed_amount == claims.claim_of(second).computed_amount == Decimal("119520.00")
    _to_review(first, staff)
    _to_review(second, staff)
    ops.approve_application(first, by=staff["reviewer"], actor=SYSTEM)
    with force_locale("zh_Hans_CN"), pytest.raises(InvalidTransition) as refusal, db.session.begin_nested():
        ops.approve_application(second, by=staff["reviewer"], actor=SYSTEM)
    assert "封顶线" in refusal.value.message and "119,520.00" in refusal.value.message
    assert "30,480.00" in refusal.value.message  # what the cap has left after the first
    assert second.state == State.UNDER_REVIEW
    claims.decide_amount(second, "30480.00", "年度封顶线余额", by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(second, by=staff["reviewer"], actor=SYSTEM)
    assert second.state == State.APPROVED
    # paid or waiting to be paid, the two hold the cap exactly
    ops.start_payment(first, by=staff["finance"], actor=SYSTEM)
    claim = claims.claim_of(second)
    assert approval.cap_held(claim.person_id, claim.benefit_year, claim.scheme, excluding=-1) == Decimal("150000.00")


def test_a_denied_claim_holds_nothing_of_the_cap(make_case, citizen, staff):
    big = {"hospital_level": "三级"}
    denied = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("CAP-C", total="150000.00")], **big})
    kept = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("CAP-D", total="150000.00")], **big})
    _to_review(denied, staff)
    _to_review(kept, staff)
    ops.deny_application(denied, "发票与病历不符", by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(kept, by=staff["reviewer"], actor=SYSTEM)
    assert claims.claim_of(kept).decided_amount == Decimal("119520.00")


def test_payment_is_a_record_with_the_payee_sealed_and_completion_needs_it_paid(make_case, citizen, staff):
    case = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("P-1")], "payee_account": GOOD_CARD})
    _to_review(case, staff)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)  # the computed amount
    ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    payment = claims.claim_of(case).payment
    assert (payment.state, payment.amount, payment.payee_account) == ("pending", Decimal("720.00"), GOOD_CARD)
    raw = db.session.execute(text("SELECT payee_account, payee_name FROM payment WHERE id = :id"),
                             {"id": payment.id}).one()
    assert GOOD_CARD not in raw[0] and citizen.person.name not in raw[1]  # sealed at rest
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    assert payment.state == "paid" and payment.paid_at is not None
    assert case.state == State.COMPLETED and "已支付 ¥720.00（人民币柒佰贰拾元整）" in case.result_text
    # the year's cap now counts it
    year = claims.claim_of(case).benefit_year
    assert approval.cap_used(case.person_id, year, "employee_medical") == Decimal("720.00")


def test_a_later_claim_of_the_same_year_gets_only_what_is_left_of_the_cap(make_case, citizen, staff):
    big = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("CAP-1", total="200000.00")],
                                              "hospital_level": "一级"})
    assert claims.claim_of(big).computed_amount == Decimal("150000.00")  # the demo cap
    _to_review(big, staff)
    ops.approve_application(big, by=staff["reviewer"], actor=SYSTEM)
    ops.start_payment(big, by=staff["finance"], actor=SYSTEM)
    later = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("CAP-2", total="5000.00")]})
    assert claims.claim_of(later).computed_amount == Decimal("0.00")
    steps = claims.claim_of(later).working
    assert steps[-1]["key"] == "within_cap" and steps[-1]["deduction"] == "150000.00"


def test_approval_without_a_computable_amount_asks_for_one(make_case, citizen, staff, catalog):
    # 女职工围产补贴: no seed gives its amount; the reviewer sets it
    case = make_case("J002036007004_02", citizen)
    assert claims.claim_of(case).computed_amount is None
    _to_review(case, staff)
    with pytest.raises(ValidationFailed):
        ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    assert case.state == State.UNDER_REVIEW


def _account(person, balance: str) -> PersonalAccount:
    account = PersonalAccount(person_id=person.id, balance=Decimal(balance), opened_on=date(2020, 1, 1))
    db.session.add(account)
    db.session.flush()
    return account


def _withdrawal_in_review(app, citizen, staff):
    """A 岳阳 个人账户一次性支取 of ``citizen``, filed and in review (its amount computed: the balance that day)."""
    person = citizen.person
    item = app.extensions["portal_catalog"].get("002036002003")  # 岳阳 个人账户一次性支取
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    form = {**case.form_data, "insured_name": person.name, "insured_id_number": person.id_number,
            "reason": item.application_form.fields[4].options[0].zh, "insured_account": GOOD_CARD,
            "insured_bank": "中国银行", "sign_date": clock.today().isoformat()}
    ops.save_draft(case, ops.DraftInput(form=form, materials=all_materials(item)), by=citizen, actor=SYSTEM)
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    _to_review(case, staff)
    return case


def _movements(account) -> list[tuple]:
    return [(row.kind, row.amount, row.balance_after, row.application_id) for row in db.session.execute(
        select(AccountTransaction).where(AccountTransaction.account_id == account.id)
        .order_by(AccountTransaction.id)).scalars()]


def test_a_withdrawal_debits_the_personal_account_when_its_payment_starts(app, region, citizen, staff):
    region("yueyang")
    account = _account(citizen.person, "3456.78")
    case = _withdrawal_in_review(app, citizen, staff)
    assert claims.claim_of(case).computed_amount == Decimal("3456.78")
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    assert account.balance == Decimal("3456.78")  # approved: nothing has left yet
    ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    # debited before the money leaves, the movement linked to the case
    assert account.balance == Decimal("0.00")
    assert _movements(account) == [(AccountTransactionKind.LUMP_SUM_WITHDRAWAL, Decimal("-3456.78"),
                                    Decimal("0.00"), case.id)]
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    assert account.balance == Decimal("0.00") and len(_movements(account)) == 1  # completion debits nothing more
    row = db.session.execute(select(AccountTransaction).where(AccountTransaction.account_id == account.id)).scalar_one()
    assert case.number in row.note


def test_two_withdrawals_cannot_both_be_approved_for_the_whole_balance(app, region, citizen, staff):
    region("yueyang")
    account = _account(citizen.person, "3456.78")
    first = _withdrawal_in_review(app, citizen, staff)
    second = _withdrawal_in_review(app, citizen, staff)
    assert claims.claim_of(second).computed_amount == Decimal("3456.78")  # each computed on the whole balance
    ops.approve_application(first, by=staff["reviewer"], actor=SYSTEM)
    with force_locale("zh_Hans_CN"), pytest.raises(InvalidTransition) as refusal, db.session.begin_nested():
        ops.approve_application(second, by=staff["reviewer"], actor=SYSTEM)
    assert "个人账户" in refusal.value.message and "¥0.00" in refusal.value.message
    assert second.state == State.UNDER_REVIEW
    ops.start_payment(first, by=staff["finance"], actor=SYSTEM)
    with pytest.raises(InvalidTransition), db.session.begin_nested():  # the balance is gone: still refused
        ops.approve_application(second, by=staff["reviewer"], actor=SYSTEM)
    assert account.balance == Decimal("0.00") and len(_movements(account)) == 1


def test_a_withdrawal_that_closes_the_account_pays_the_whole_balance(app, region, citizen, staff):
    region("yueyang")
    account = _account(citizen.person, "3456.78")
    case = _withdrawal_in_review(app, citizen, staff)  # 支取原因 死亡: the account is closed at completion
    claims.decide_amount(case, "3000.00", "核减", by=staff["reviewer"], actor=SYSTEM)
    with force_locale("zh_Hans_CN"), pytest.raises(InvalidTransition) as refusal, db.session.begin_nested():
        ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    assert "注销个人账户" in refusal.value.message and "¥3,456.78" in refusal.value.message
    assert case.state == State.UNDER_REVIEW
    claims.decide_amount(case, "3456.78", "", by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    assert (account.status, account.balance) == ("closed", Decimal("0.00"))


def test_a_withdrawal_whose_balance_was_spent_meanwhile_does_not_start_paying(app, region, citizen, staff):
    from portal.insurance import ledger

    region("yueyang")
    account = _account(citizen.person, "3456.78")
    case = _withdrawal_in_review(app, citizen, staff)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ledger.withdraw(citizen.person.id, Decimal("100.00"), AccountTransactionKind.PHARMACY, "药店购药")
    with force_locale("zh_Hans_CN"), pytest.raises(InvalidTransition) as refusal, db.session.begin_nested():
        ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    assert "余额" in refusal.value.message and "退回重审" in refusal.value.message
    assert case.state == State.APPROVED and claims.claim_of(case).payment is None  # no money order made
    assert account.balance == Decimal("3356.78")


def test_a_withdrawal_that_cannot_start_paying_goes_back_to_review_and_is_paid_what_is_left(
        app, region, citizen, staff):
    from portal.insurance import ledger
    from portal.notifications.models import Notification

    region("yueyang")
    account = _account(citizen.person, "3456.78")
    case = _withdrawal_in_review(app, citizen, staff)  # 支取原因 死亡: it must take all the account holds
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ledger.withdraw(citizen.person.id, Decimal("100.00"), AccountTransactionKind.PHARMACY, "药店购药")
    with pytest.raises(InvalidTransition), db.session.begin_nested():
        ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    with pytest.raises(ValidationFailed), db.session.begin_nested():  # the applicant is told why: a reason is needed
        ops.return_to_review(case, "  ", by=staff["finance"], actor=SYSTEM)
    assert case.state == State.APPROVED
    ops.return_to_review(case, "个人账户余额已变动，需重新核定支取金额", by=staff["finance"], actor=SYSTEM)
    claim = claims.claim_of(case)
    assert case.state == State.UNDER_REVIEW and case.decided_at is None
    assert (claim.decided_amount, claim.decided_by_id) == (None, None)  # decided again, holding nothing meanwhile
    told = db.session.execute(select(Notification).where(Notification.application_id == case.id,
                                                         Notification.event == "returned_to_review")).scalar_one()
    assert told.context["reason"] == "个人账户余额已变动，需重新核定支取金额"
    with force_locale("zh_Hans_CN"), pytest.raises(InvalidTransition) as refusal, db.session.begin_nested():
        ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)  # the old amount, computed that day
    assert "¥3,356.78" in refusal.value.message
    claims.decide_amount(case, "3356.78", "审核期间账户余额减少 100.00 元（药店购药）", by=staff["reviewer"],
                         actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    assert (account.status, account.balance) == ("closed", Decimal("0.00"))
    assert [m[1] for m in _movements(account)] == [Decimal("-100.00"), Decimal("-3356.78")]


def test_a_claim_whose_payment_started_cannot_go_back_to_review(app, region, citizen, staff):
    region("yueyang")
    _account(citizen.person, "3456.78")
    case = _withdrawal_in_review(app, citizen, staff)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    with pytest.raises(InvalidTransition), db.session.begin_nested():
        ops.return_to_review(case, "重新核定", by=staff["finance"], actor=SYSTEM)
    assert case.state == State.PAYING and claims.claim_of(case).decided_amount == Decimal("3456.78")


def test_a_withdrawal_paying_since_before_the_debit_moved_is_debited_at_completion(app, region, citizen, staff):
    region("yueyang")
    account = _account(citizen.person, "3456.78")
    case = _withdrawal_in_review(app, citizen, staff)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    # as a payment started by the earlier code left it: no debit yet
    db.session.execute(delete(AccountTransaction).where(AccountTransaction.application_id == case.id))
    account.balance = Decimal("3456.78")
    db.session.flush()
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    assert account.balance == Decimal("0.00")
    assert _movements(account) == [(AccountTransactionKind.LUMP_SUM_WITHDRAWAL, Decimal("-3456.78"),
                                    Decimal("0.00"), case.id)]


def test_payment_cannot_start_without_an_account_to_pay(make_case, citizen, staff):
    case = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("NOACC")]})
    data = case.form_data
    data.pop("payee_account")
    case.form_data = data
    _to_review(case, staff)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    with pytest.raises(InvalidTransition, match="no bank account"):
        ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    assert db.session.execute(select(Payment)).first() is None  # (the view rolls the move back with it)
