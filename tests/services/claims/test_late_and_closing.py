"""Late claims accepted only for force majeure (不可抗力) with the reason recorded, audited and shown; withdrawals for
death or emigration close the personal account."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.applications import operations as ops
from portal.applications.constants import Action, State
from portal.core import clock
from portal.core.audit import AuditEvent
from portal.core.db import db
from portal.core.errors import InvalidTransition, ValidationFailed
from portal.insurance.constants import AccountTransactionKind
from portal.insurance.models import PersonalAccount
from portal.services.claims import operations as claims
from portal.workbench import operations as desk
from tests.applications.conftest import all_materials
from tests.applications.test_api import api_for  # noqa: F401 (a fixture)
from tests.services.claims.conftest import SYSTEM
from tests.services.claims.test_claims import GOOD_CARD, OUTPATIENT, _invoice


def _late(make_case, citizen, **form):
    return make_case(OUTPATIENT, citizen, form={"invoices": [{**_invoice("LATE-9"), "issued_on": "2025-12-20"}],
                                                **form})


def test_a_late_claim_without_a_reason_is_refused_in_the_seeds_words_and_says_what_to_do(at, make_case, citizen):
    at(2026, 4, 2)
    with force_locale("zh_Hans_CN"), pytest.raises(ValidationFailed) as error:
        _late(make_case, citizen)
    message = error.value.reasons[0][1]
    assert "2026年3月31日" in message and "逾期视为自动放弃" in message and "不可抗力" in message


def test_a_late_claim_with_a_stated_reason_is_filed_and_marked_late(at, make_case, citizen):
    at(2026, 4, 2)
    case = _late(make_case, citizen, late_reason="3月因洪水封路，无法到医院取得票据")
    claim = claims.claim_of(case)
    assert case.state == State.SUBMITTED
    assert claim.late_deadline == date(2026, 3, 31) and claim.late_reason.startswith("3月因洪水")
    assert claims.is_late(case)


def _claim_for(staff, case):
    desk.claim_case(case, by=staff["acceptor"], actor=SYSTEM, version=case.version)


def test_staff_accept_a_late_claim_only_with_the_force_majeure_recorded_and_audited(at, make_case, citizen, staff):
    at(2026, 4, 2)
    case = _late(make_case, citizen, late_reason="洪水封路")
    # accepting straight through the case operations (a batch, an API) is refused while no reason is recorded
    with pytest.raises(InvalidTransition, match="force majeure"), db.session.begin_nested():
        ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    assert case.state == State.SUBMITTED  # the move is undone with the savepoint, as a view's rollback does
    _claim_for(staff, case)
    with pytest.raises(ValidationFailed) as error:
        desk.decide(case, desk.Decision(Action.ACCEPT, reason="  "), by=staff["acceptor"], actor=SYSTEM)
    assert "reason" in dict(error.value.reasons)
    assert claims.claim_of(case).late_accepted_at is None
    desk.decide(case, desk.Decision(Action.ACCEPT, reason="经核实，3月全市洪灾封路，属不可抗力"),
                by=staff["acceptor"], actor=SYSTEM)
    claim = claims.claim_of(case)
    assert case.state == State.ACCEPTED
    assert claim.late_accepted_reason == "经核实，3月全市洪灾封路，属不可抗力"
    assert claim.late_accepted_by_id == staff["acceptor"].id and claim.late_accepted_at is not None
    audit = db.session.execute(select(AuditEvent).where(AuditEvent.action == "claim.late_accepted")).scalar_one()
    assert audit.object_id == str(case.id) and "2026-03-31" in audit.detail
    # a resubmission does not undo the acceptance
    claims.record_claim(case)
    assert claims.claim_of(case).late_accepted_at is not None and not claims.is_late(case)


def test_an_in_time_claim_is_accepted_as_before(make_case, citizen, staff):
    case = make_case(OUTPATIENT, citizen, form={"invoices": [_invoice("ONTIME-1")]})
    assert claims.claim_of(case).late_deadline is None and not claims.is_late(case)
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    assert case.state == State.ACCEPTED


# --- withdrawals that close the account ------------------------------------------------------------------------


def _withdrawal(app, region, citizen, staff, reason: str, balance: str | None = "812.40"):
    """A 岳阳 个人账户一次性支取 of ``citizen`` for ``reason``, paying; a new account of ``balance`` first (None: the
    one the person has)."""
    region("yueyang")
    person = citizen.person
    account = None
    if balance is not None:
        account = PersonalAccount(person_id=person.id, balance=Decimal(balance), opened_on=date(2020, 1, 1))
        db.session.add(account)
        db.session.flush()
    item = app.extensions["portal_catalog"].get("002036002003")  # 岳阳 个人账户一次性支取
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    form = {**case.form_data, "insured_name": person.name, "insured_id_number": person.id_number, "reason": reason,
            "insured_account": GOOD_CARD, "insured_bank": "中国银行", "sign_date": clock.today().isoformat()}
    ops.save_draft(case, ops.DraftInput(form=form, materials=all_materials(item)), by=citizen, actor=SYSTEM)
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
    return case, account


@pytest.mark.parametrize("reason", ["死亡", "出国定居"])
def test_a_withdrawal_for_death_or_emigration_closes_the_account(app, region, citizen, staff, reason):
    case, account = _withdrawal(app, region, citizen, staff, reason)
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    assert account.balance == Decimal("0.00") and account.status == "closed"
    assert account.closed_on == clock.today()
    assert reason in account.closed_reason and case.number in account.closed_reason


def test_a_voluntary_withdrawal_empties_the_account_but_keeps_it_open(app, region, citizen, staff):
    case, account = _withdrawal(app, region, citizen, staff, "主动放弃")
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    assert account.balance == Decimal("0.00") and account.status == "open" and account.closed_on is None


def test_an_account_credited_after_the_payment_started_stays_open_and_the_case_completes(app, region, citizen, staff):
    from portal.insurance import ledger

    case, account = _withdrawal(app, region, citizen, staff, "死亡")
    assert account.balance == Decimal("0.00")  # debited when the payment started
    ledger.deposit(citizen.person.id, Decimal("50.00"), AccountTransactionKind.CREDIT, "当月划入")
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)  # the bank has paid: the case completes
    assert case.state == State.COMPLETED
    assert (account.status, account.balance, account.closed_on) == ("open", Decimal("50.00"), None)  # never closed
    assert "已支付 ¥812.40" in case.result_text  # with money in it
    assert "个人账户在开始拨付后又记入¥50.00，账户暂未注销；这笔钱可再申请一次性支取" in case.result_text
    deferred = db.session.execute(select(AuditEvent).where(AuditEvent.action == "account.close_deferred")).scalar_one()
    assert deferred.object_id == str(case.id)


def test_a_closing_withdrawal_credited_meanwhile_does_not_stop_its_batchs_return_file(app, region, citizen, staff):
    from portal.insurance import ledger
    from portal.integrations.bank import get_bank_files, local_bank
    from portal.services.claims import batches

    case, account = _withdrawal(app, region, citizen, staff, "出国定居")
    batch = batches.create_batch(by=staff["finance"], actor=SYSTEM)
    ledger.deposit(citizen.person.id, Decimal("50.00"), AccountTransactionKind.CREDIT, "当月划入")
    answer = local_bank.answer(get_bank_files(), batches.batch_file(batch, actor=SYSTEM))
    assert batches.import_return(batch, answer, by=staff["finance"], actor=SYSTEM) == \
        {"paid": 1, "failed": 0, "unfinished": []}
    assert case.state == State.COMPLETED and account.status == "open" and account.balance == Decimal("50.00")


def test_the_database_refuses_a_closed_account_with_money_in_it(db_session, make_person):
    from sqlalchemy.exc import IntegrityError

    person = make_person()
    db.session.add(PersonalAccount(person_id=person.id, balance=Decimal("1.00"), opened_on=date(2020, 1, 1),
                                   status="closed", closed_on=date(2026, 1, 1), closed_reason="死亡"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_claimant_reads_that_the_account_is_closed(app, region, citizen, staff, make_client, db_session):
    from tests.factories import log_in_by_code as login

    case, _account = _withdrawal(app, region, citizen, staff, "出国定居")
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    db_session.commit()
    browser = login(make_client(), db_session, citizen.phone)
    browser.set_cookie("lang", "zh_Hans_CN")
    page = browser.get("/me/records/account").get_data(as_text=True)
    closed = page[page.index('id="account-closed"'):][:300]
    assert "注销" in closed and "出国定居" in closed and case.number in closed


# --- the 逾期申报原因 field on the filing page ---------------------------------------------------------------------


@pytest.mark.parametrize("issued, shown", [("2026-03-10", False), ("2025-12-20", True)])
def test_the_late_reason_field_shows_only_where_the_dates_entered_are_past_the_deadline(
        at, make_case, citizen, make_client, db_session, issued, shown):
    from tests.factories import log_in_by_code as login

    at(2026, 4, 2)  # care of 2025 had to be claimed by 2026-03-31; care of 2026 has until 2027-03-31
    draft = make_case(OUTPATIENT, citizen, submit=False,
                      form={"invoices": [{**_invoice("SHOW-1"), "issued_on": issued}]})
    db_session.commit()
    browser = login(make_client(), db_session, citizen.phone)
    browser.set_cookie("lang", "zh_Hans_CN")
    page = browser.get(f"/applications/{draft.id}/edit").get_data(as_text=True)
    assert ('name="f_late_reason"' in page) is shown
    assert ("逾期申报原因" in page) is shown
    if shown:  # and it says why it is there: the dates entered are past the item's deadline
        assert "你填写的日期已超过本事项的申报期限（2026年3月31日）" in page
    browser.set_cookie("lang", "en")
    page = browser.get(f"/applications/{draft.id}/edit").get_data(as_text=True)
    assert ("Why the claim is late" in page) is shown
    if shown:
        assert "claim deadline (March 31, 2026)" in page


def test_a_late_reason_already_saved_stays_shown_when_the_dates_are_corrected(at, make_case, citizen):
    at(2026, 4, 2)
    draft = make_case(OUTPATIENT, citizen, submit=False,
                      form={"invoices": [{**_invoice("SHOW-2"), "issued_on": "2026-03-10"}], "late_reason": "洪水"})
    item = ops.catalog_item(draft)
    assert "late_reason" in [s.key for s in ops.shown_specs(draft, item)]
    assert "late_reason" in [s.key for s in ops.specs_for(draft, item)]  # saving takes it whatever is shown
    timely = make_case(OUTPATIENT, citizen, submit=False,
                       form={"invoices": [{**_invoice("SHOW-3"), "issued_on": "2026-03-10"}]})
    assert "late_reason" not in [s.key for s in ops.shown_specs(timely, item)]


@pytest.mark.parametrize("issued, shown", [("2026-03-10", False), ("2025-12-20", True)])
def test_the_api_lists_the_late_reason_field_as_the_filing_page_shows_it(at, make_case, citizen, api_for, issued,  # noqa: F811
                                                                        shown):
    """The mini-program draws the form from the API's ``fields``: a claim in time has no 逾期申报原因 to fill, a late
    one has it with the deadline in its help (as the web form, above)."""
    from tests.applications.test_api import BASE

    at(2026, 4, 2)
    draft = make_case(OUTPATIENT, citizen, submit=False,
                      form={"invoices": [{**_invoice("API-1"), "issued_on": issued}]})
    body = api_for(citizen).get(f"{BASE}/{draft.id}").get_json()
    listed = {f["key"]: f for f in body["fields"]}
    assert ("late_reason" in listed) is shown
    assert "invoices" in listed  # the rest of the form is there either way
    if shown:
        assert "2026" in str(listed["late_reason"])


def test_a_paid_line_whose_completion_is_refused_stays_paying_and_the_rest_of_the_file_is_imported(
        app, region, citizen, staff):
    from sqlalchemy import delete

    from portal.insurance.models import AccountTransaction
    from portal.integrations.bank import get_bank_files, local_bank
    from portal.services.claims import batches

    case, account = _withdrawal(app, region, citizen, staff, "主动放弃")
    # as a payment started by the earlier code left it (debited at completion), and the balance spent since
    db.session.execute(delete(AccountTransaction).where(AccountTransaction.application_id == case.id))
    account.balance = Decimal("12.40")
    db.session.flush()
    other, _same = _withdrawal(app, region, citizen, staff, "主动放弃", balance=None)  # takes the 12.40 left
    batch = batches.create_batch(by=staff["finance"], actor=SYSTEM)
    answer = local_bank.answer(get_bank_files(), batches.batch_file(batch, actor=SYSTEM))
    counts = batches.import_return(batch, answer, by=staff["finance"], actor=SYSTEM)
    assert (counts["paid"], counts["failed"]) == (2, 0)
    [(number, reason)] = counts["unfinished"]
    assert number == case.number and "balance" in reason
    assert case.state == State.PAYING and claims.claim_of(case).payment.state == "paid"  # the bank paid it
    assert other.state == State.COMPLETED and batch.returned_at is not None
    assert account.balance == Decimal("0.00") and account.status == "open"  # the other's debit only: nothing half-done
