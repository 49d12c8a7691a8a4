"""转移接续 end to end between two deployments (吉林 → 林口) over one national hub: the 联系函, the 信息表 and the
funds, completion; every month and every yuan arrive exactly once, even when a worker or a step dies between two
commits; a letter the sending area cannot act on comes back with its reason.

Runs on SQLite, and on PostgreSQL (two databases beside PORTAL_TEST_DATABASE_URL) when that is set.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.applications import operations as ops
from portal.applications.constants import MaterialMode, State
from portal.applications.models import Application
from portal.certificates.constants import CertificateKind
from portal.certificates.operations import issued_by, request_certificate
from portal.core import clock
from portal.core.db import db
from portal.core.errors import InvalidTransition
from portal.insurance.constants import ContributionStatus, EnrolmentStatus
from portal.insurance.models import (
    AccountTransaction,
    Contribution,
    Enrolment,
    Person,
    PersonalAccount,
    id_number_index,
)
from portal.national import operations as national
from portal.national.models import InboundMessage, OutboundMessage
from portal.services.transfer import operations as transfer
from portal.services.transfer.models import Side, TransferCase, TransferState
from tests.services.transfer_support import (
    SYSTEM,
    citizen_of,
    enrol,
    make_deployment,
    make_insured,
    make_staff,
    months,
    reset,
    staff,
    staff_browser,
)

pytestmark = pytest.mark.no_db
JILIN_MONTHS = months("2020-01", "2021-06") + months("2022-01", "2026-11")  # 18 + 59 paid months, a gap between
BALANCE = "3456.78"


@pytest.fixture(scope="module")
def pair(app, tmp_path_factory):
    base = tmp_path_factory.mktemp("deployments")
    hub = str(base / "hub.sqlite")
    instance = app.config["PORTAL_INSTANCE_PATH"]
    deployments = make_deployment("jilin", base, instance, hub), make_deployment("linkou", base, instance, hub)
    yield deployments
    for deployment in deployments:
        with deployment.app.app_context():
            db.engine.dispose()


@pytest.fixture
def deployments(pair, tmp_path):
    hub = str(tmp_path / "hub.sqlite")
    for deployment in pair:
        reset(deployment, hub)
        make_staff(deployment)
    with clock.frozen(datetime(2026, 12, 1, 10)) as moment:  # Tuesday
        yield (*pair, moment)


def on_day(moment, day: date) -> None:
    moment.moment = datetime(day.year, day.month, day.day, 10, tzinfo=clock.LOCAL_TZ)


def voucher_code(jilin, insured) -> str:
    """The person's 参保凭证 from the 吉林 portal (a 即办件: issued on submission): its 16-character check code."""
    def _issue():
        account = citizen_of(insured)
        case = request_certificate(CertificateKind.PERSON_VOUCHER, by=account, actor=SYSTEM)
        return issued_by(case).code

    return jilin.run(_issue)


def file_transfer(linkou, insured, certificate_code: str | None) -> int:
    """The person, now insured in 林口, files 转移接续 there: from 吉林, employee insurance, the account too."""
    def _file():
        account = citizen_of(insured)
        item = transfer.transfer_item()
        case = ops.start_application(item, by=account, actor=SYSTEM)
        form = {**case.form_data, "from_area_code": "220100", "insurance_type": "职工医保", "transfer_account": True}
        if certificate_code:
            form["certificate_code"] = certificate_code
        # the 参保凭证 by its check code (no upload), or on paper at the window when there is none
        materials = {m.id: MaterialMode.AT_WINDOW.value for m in item.materials
                     if "参保凭证" not in m.name.zh or not certificate_code}
        ops.save_draft(case, ops.DraftInput(form=form, materials=materials), by=account, actor=SYSTEM)
        ops.submit_application(case, by=account, actor=SYSTEM)
        ops.accept_application(case, by=staff(linkou, "acceptor"), actor=SYSTEM)
        return case.id

    return linkou.run(_file)


def issue_letter(linkou, case_id: int) -> str:
    def _issue():
        return transfer.issue_contact_letter(db.session.get(Application, case_id), by=staff(linkou, "acceptor"),
                                             actor=SYSTEM).transfer_id

    return linkou.run(_issue)


def out_case(jilin, transfer_id: str):
    with jilin.context():
        case = transfer._case(transfer_id, Side.OUT)
        return None if case is None else (case.id, case.state)


def send_sheet(jilin, transfer_id: str) -> str:
    def _send():
        case = transfer._case(transfer_id, Side.OUT)
        return transfer.send_information_sheet(case, by=staff(jilin, "acceptor"), actor=SYSTEM).state

    return jilin.run(_send)


def complete(linkou, case_id: int) -> None:
    def _complete():
        case = db.session.get(Application, case_id)
        ops.start_review(case, by=staff(linkou, "reviewer"), actor=SYSTEM)
        ops.approve_application(case, by=staff(linkou, "reviewer"), actor=SYSTEM)
        ops.complete_application(case, by=staff(linkou, "finance"), actor=SYSTEM)

    linkou.run(_complete)


def records(deployment, insured) -> dict:
    with deployment.context():
        person = db.session.execute(select(Person).where(
            Person.id_number_index == id_number_index(insured.id_number))).scalar_one()
        paid = db.session.execute(select(func.count()).where(
            Contribution.person_id == person.id, Contribution.status == ContributionStatus.PAID)).scalar_one()
        account = db.session.execute(select(PersonalAccount).where(PersonalAccount.person_id == person.id)
                                     ).scalar_one_or_none()
        moves = db.session.execute(select(AccountTransaction.kind, AccountTransaction.amount).where(
            AccountTransaction.account_id == (account.id if account else -1))).all()
        enrolments = db.session.execute(select(Enrolment.status, Enrolment.start_date, Enrolment.end_date).where(
            Enrolment.person_id == person.id).order_by(Enrolment.start_date)).all()
        return {"paid": paid, "balance": account.balance if account else None,
                "moves": [(str(k.value), a) for k, a in moves], "enrolments": [tuple(e) for e in enrolments]}


def setup_person(jilin, linkou, **jilin_records):
    insured = make_insured()
    jilin.run(enrol, insured, since=date(2020, 1, 1), paid=jilin_records.get("paid", JILIN_MONTHS),
              arrears=jilin_records.get("arrears", ()), balance=jilin_records.get("balance", BALANCE))
    code = voucher_code(jilin, insured)
    linkou.run(enrol, insured, since=date(2026, 12, 1), paid=[])
    return insured, code


# --- the whole move -------------------------------------------------------------------------------------------


def test_a_person_moves_from_jilin_to_linkou_with_every_month_and_every_yuan(deployments):
    jilin, linkou, moment = deployments
    insured, code = setup_person(jilin, linkou)
    case_id = file_transfer(linkou, insured, code)
    on_day(moment, date(2026, 12, 3))
    transfer_id = issue_letter(linkou, case_id)
    with linkou.context():
        letter = transfer._case(transfer_id, Side.IN)
        assert letter.letter_number == "(黑龙江省)(231025)(2026)(第0000001号)"
        assert (letter.accepted_on, letter.letter_due) == (date(2026, 12, 1), date(2026, 12, 8))  # 5 working days
    assert linkou.work()["sent"] == 1

    on_day(moment, date(2026, 12, 4))
    assert jilin.work()["received"] == 1
    with jilin.context():
        received = transfer._case(transfer_id, Side.OUT)
        assert received.state == TransferState.LETTER_RECEIVED and received.sheet_due == date(2026, 12, 18)
        assert transfer.person_problem(received) is None  # the person, the 参保凭证 and no arrears check out
    on_day(moment, date(2026, 12, 10))
    assert send_sheet(jilin, transfer_id) == TransferState.SHEET_SENT
    assert jilin.work()["sent"] == 2  # the 信息表 and the fund transfer

    on_day(moment, date(2026, 12, 11))
    assert linkou.work()["received"] == 2
    with linkou.context():
        ready = transfer._case(transfer_id, Side.IN)
        assert ready.state == TransferState.READY and ready.complete_due == date(2026, 12, 18)
        assert ready.contribution_months == 77 and ready.account_balance == Decimal(BALANCE)
        assert [(p["from_month"], p["to_month"], p["months"]) for p in ready.periods] == [
            ("2020-01", "2021-06", 18), ("2022-01", "2026-11", 59)]
    on_day(moment, date(2026, 12, 14))
    complete(linkou, case_id)
    assert linkou.work()["sent"] == 1
    on_day(moment, date(2026, 12, 15))
    assert jilin.work()["received"] == 1

    arrived = records(linkou, insured)
    assert arrived["paid"] == 77 and arrived["balance"] == Decimal(BALANCE)
    assert arrived["moves"] == [("transfer_in", Decimal(BALANCE))]
    assert arrived["enrolments"] == [("terminated", date(2020, 1, 1), date(2021, 6, 30)),
                                     ("terminated", date(2022, 1, 1), date(2026, 11, 30)),
                                     ("active", date(2026, 12, 1), None)]
    left = records(jilin, insured)
    assert left["balance"] == Decimal("0.00") and left["moves"] == [("transfer_out", -Decimal(BALANCE))]
    assert left["enrolments"] == [("terminated", date(2020, 1, 1), date(2026, 12, 14))]
    assert out_case(jilin, transfer_id)[1] == TransferState.CLOSED
    with linkou.context():
        done = transfer._case(transfer_id, Side.IN)
        assert done.state == TransferState.COMPLETED and done.credited_months == 77
        assert [e.what for e in done.events] == ["letter_sent", "sheet_received", "funds_received", "completed"]
        assert db.session.get(Application, case_id).state == State.COMPLETED
        platform = linkou.app.extensions["portal_national"]
        assert platform.enrolments_of(insured.id_number) == [
            {"area": "220100", "status": "closed", "since": "2026-12-10"},
            {"area": "231025", "status": "open", "since": "2026-12-14"}]


def test_completion_waits_for_the_sheet_and_the_funds(deployments):
    jilin, linkou, _moment = deployments
    insured, code = setup_person(jilin, linkou)
    case_id = file_transfer(linkou, insured, code)
    issue_letter(linkou, case_id)
    with pytest.raises(InvalidTransition, match="have not both arrived"):
        complete(linkou, case_id)
    assert records(linkou, insured)["paid"] == 0


# --- nothing moves twice ----------------------------------------------------------------------------------------


def test_a_worker_that_dies_after_the_platform_took_the_letter_does_not_deliver_it_twice(deployments):
    jilin, linkou, moment = deployments
    insured, code = setup_person(jilin, linkou)
    transfer_id = issue_letter(linkou, file_transfer(linkou, insured, code))

    def _send_then_die():  # the worker commits "sending", the platform takes the letter, the process dies
        row = national._claim()
        national.send_one(row)
        raise SystemExit("killed")

    with pytest.raises(SystemExit):
        linkou.run(_send_then_die)
    with linkou.context():
        [row] = db.session.execute(select(OutboundMessage)).scalars().all()
        assert row.status == "sending"  # the receipt was never recorded
    moment.tick(timedelta(minutes=5))  # the lease runs out
    assert linkou.work()["sent"] == 1  # sent again, under the same id: the platform answers "duplicate"
    assert jilin.work()["received"] == 1
    assert jilin.work()["received"] == 0
    with jilin.context():
        assert db.session.execute(select(func.count()).select_from(TransferCase)).scalar_one() == 1
    assert out_case(jilin, transfer_id)[1] == TransferState.LETTER_RECEIVED


def test_a_sending_area_that_dies_inside_the_step_moves_nothing_and_the_step_runs_once(deployments, monkeypatch):
    jilin, linkou, _moment = deployments
    insured, code = setup_person(jilin, linkou)
    transfer_id = issue_letter(linkou, file_transfer(linkou, insured, code))
    linkou.work()
    jilin.work()
    real_queue = transfer.queue

    def queue_then_die(kind, *args, **kwargs):
        if kind == "fund_transfer":
            raise SystemExit("killed between the sheet and the transfer")
        return real_queue(kind, *args, **kwargs)

    monkeypatch.setattr(transfer, "queue", queue_then_die)
    with pytest.raises(SystemExit):
        send_sheet(jilin, transfer_id)
    assert records(jilin, insured)["balance"] == Decimal(BALANCE)  # rolled back: nothing left the account
    assert out_case(jilin, transfer_id)[1] == TransferState.LETTER_RECEIVED
    monkeypatch.setattr(transfer, "queue", real_queue)
    assert send_sheet(jilin, transfer_id) == TransferState.SHEET_SENT
    with pytest.raises(InvalidTransition, match="answered already"):
        send_sheet(jilin, transfer_id)  # a second clerk, or a double click
    assert records(jilin, insured)["moves"] == [("transfer_out", -Decimal(BALANCE))]


def test_a_receiving_area_that_dies_before_acknowledging_handles_each_message_once(deployments, monkeypatch):
    jilin, linkou, _moment = deployments
    insured, code = setup_person(jilin, linkou)
    case_id = file_transfer(linkou, insured, code)
    transfer_id = issue_letter(linkou, case_id)
    linkou.work()
    jilin.work()
    send_sheet(jilin, transfer_id)
    jilin.work()
    platform = linkou.app.extensions["portal_national"]

    def die(_ids):
        raise SystemExit("killed after the commit, before the acknowledgement")

    monkeypatch.setattr(platform, "acknowledge", die)
    with pytest.raises(SystemExit):
        linkou.work()
    monkeypatch.undo()
    assert linkou.work()["duplicate"] == 2  # offered again, stored already: nothing handled twice
    complete(linkou, case_id)
    with pytest.raises(InvalidTransition):
        complete(linkou, case_id)  # completed once
    arrived = records(linkou, insured)
    assert arrived["paid"] == 77 and arrived["moves"] == [("transfer_in", Decimal(BALANCE))]
    with linkou.context():
        assert db.session.execute(select(func.count()).select_from(InboundMessage)).scalar_one() == 2


# --- a letter comes back -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("records_there", "code", "words"), [
    ("nobody", "person_not_found", "未查到该参保人员"),
    ("arrears", "arrears", "有2个月欠缴"),
])
def test_a_letter_the_sending_area_cannot_act_on_comes_back_with_its_reason(deployments, records_there, code, words):
    jilin, linkou, _moment = deployments
    insured = make_insured()
    if records_there == "arrears":
        jilin.run(enrol, insured, since=date(2020, 1, 1), paid=months("2020-01", "2026-08"),
                  arrears=months("2026-09", "2026-10"), balance="100.00")
    linkou.run(enrol, insured, since=date(2026, 12, 1), paid=[])
    case_id = file_transfer(linkou, insured, None)
    transfer_id = issue_letter(linkou, case_id)
    linkou.work()
    jilin.work()
    assert send_sheet(jilin, transfer_id) == TransferState.REJECTED
    jilin.work()
    linkou.work()
    with linkou.context():
        back = transfer._case(transfer_id, Side.IN)
        assert back.state == TransferState.REJECTED and back.reject_code == code and words in back.reject_reason
    with pytest.raises(InvalidTransition, match="rejected the 联系函"):
        complete(linkou, case_id)
    if records_there == "arrears":
        assert records(jilin, insured)["balance"] == Decimal("100.00")  # nothing left


def test_a_certificate_code_that_is_not_the_persons_is_rejected(deployments):
    jilin, linkou, _moment = deployments
    insured, _code = setup_person(jilin, linkou)
    other = make_insured("钱小兰")
    jilin.run(enrol, other, since=date(2020, 1, 1), paid=months("2020-01", "2020-03"), balance="1.00")
    someone_elses = voucher_code(jilin, other)
    transfer_id = issue_letter(linkou, file_transfer(linkou, insured, someone_elses))
    linkou.work()
    jilin.work()
    assert send_sheet(jilin, transfer_id) == TransferState.REJECTED
    with jilin.context():
        assert "参保凭证" in transfer._case(transfer_id, Side.OUT).reject_reason
    assert records(jilin, insured)["enrolments"][0][0] == EnrolmentStatus.ACTIVE


# --- the pages ---------------------------------------------------------------------------------------------------


def test_staff_answer_the_letter_on_the_transfers_page_and_the_citizen_sees_one_timeline(deployments):
    import io

    from pypdf import PdfReader

    from tests.conftest import csrf_from

    jilin, linkou, _moment = deployments
    insured, code = setup_person(jilin, linkou)
    case_id = file_transfer(linkou, insured, code)
    clerk_in = staff_browser(linkou, "acceptor")
    with linkou.context():
        assert [a.id for a, _due in transfer.letters_to_issue()] == [case_id]
    waiting = clerk_in.get("/staff/transfers/").get_data(as_text=True)
    assert "No letter is waiting" not in waiting and "Dec 8, 2026" in waiting  # acceptance + 5 working days
    answer = clerk_in.post(f"/staff/transfers/letters/{case_id}", data={"csrf_token": csrf_from(waiting)})
    assert answer.status_code == 302
    linkou.work()
    jilin.work()
    clerk_out = staff_browser(jilin, "acceptor")
    listed = clerk_out.get("/staff/transfers/").get_data(as_text=True)
    assert "(黑龙江省)(231025)(2026)(第0000001号)" in listed and insured.name not in listed  # masked
    out_id = out_case(jilin, _transfer_id(linkou, case_id))[0]
    page = clerk_out.get(f"/staff/transfers/{out_id}").get_data(as_text=True)
    assert "The person, the insurance certificate and the contributions check out" in page
    letter = clerk_out.get(f"/staff/transfers/{out_id}/letter.pdf")
    assert letter.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.data)).pages)
    assert "基本医疗保险关系转移接续联系函" in text and "(黑龙江省)(231025)(2026)(第0000001号)" in text
    assert insured.id_number not in text  # masked
    sent = clerk_out.post(f"/staff/transfers/{out_id}/sheet", data={"csrf_token": csrf_from(page)})
    assert sent.status_code == 302
    jilin.work()
    linkou.work()
    complete(linkou, case_id)

    def _citizen_page():
        from tests.factories import log_in_by_code

        client = linkou.app.test_client()
        client.set_cookie("lang", "en")
        browser = log_in_by_code(client, db.session, insured.phone)
        return browser.get("/transfers/").get_data(as_text=True)

    with linkou.context():
        from portal.extensions import limiter

        limiter.reset()
        timeline = _citizen_page()
    assert "Your application was accepted here." in timeline
    assert 'sent the <span lang="zh-Hans">信息表</span>: 77 months paid.' in timeline  # the Chinese term marked
    assert "transferred the personal account balance: CN¥3,456.78." in timeline  # money as Babel writes it
    assert "Completed: the months and the balance are on your records here." in timeline


def _transfer_id(linkou, case_id: int) -> str:
    with linkou.context():
        return transfer.case_of_application(db.session.get(Application, case_id)).transfer_id
