"""Operations of 转移接续, both sides, each step one transaction with the message it sends (the national outbox).

::

    转入地 (in)                                   platform                     转出地 (out)
    application accepted ──issue_contact_letter──► 联系函 ──────────────────► receive_contact_letter
      (≤ 5 working days)                                                      (≤ 10 working days)
                                                  信息表 + 资金划转 ◄──── send_information_sheet
    receive_information_sheet / receive_funds ◄──┘  (or a rejection ◄──── reject_contact_letter)
      (≤ 5 working days of both)
    credit_transfer (the application completes) ──► 办结 ──────────────────► receive_completion: enrolment closed

Nothing moves twice: an inbound message is handled once (``national_inbox`` by message id); each step checks the
case's state (and its version, so two clerks cannot both send the 信息表); the out side debits the account in the
transaction that queues the 信息表 and the transfer; the in side credits in the transaction that completes the
application. Messages between agencies are Chinese documents, so their texts (a rejection's reason) are Chinese.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from ...applications.models import Application
from ...catalog.schema import Item
from ...core import clock
from ...core.audit import Actor, record
from ...core.db import db
from ...core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from ...core.translation import gettext as _
from ...insurance import ledger
from ...insurance.constants import AccountTransactionKind, ContributionStatus, EnrolmentEventKind, EnrolmentStatus
from ...insurance.models import (
    Contribution,
    Enrolment,
    EnrolmentEvent,
    InsuranceType,
    Person,
    id_number_index,
)
from ...national.operations import on, queue, this_node
from .clocks import Clocks, clocks_for
from .models import Side, TransferCase, TransferEvent, TransferState

INSURANCE_LABELS = {"职工医保": InsuranceType.EMPLOYEE_MEDICAL.value,
                    "城乡居民医保": InsuranceType.RESIDENT_MEDICAL.value}
REJECT_CODES = ("person_not_found", "arrears", "not_enrolled", "other")
CERTIFICATE_RE_LEN = 16


# --- helpers -------------------------------------------------------------------------------------------


def _region():
    return current_app.extensions["portal_catalog"].region


def transfer_item() -> Item | None:
    """The region's 转移接续 item (handler ``transfer.in``): its clocks and its form."""
    catalog = current_app.extensions["portal_catalog"]
    return next((item for item in catalog.items if item.handler == "transfer.in"), None)


def clocks() -> Clocks:
    return clocks_for(transfer_item())


def _agency() -> dict[str, str]:
    region = _region()
    agency = region.agency
    out = {"name": agency.name.zh}
    if getattr(agency, "phone", None):
        out["phone"] = str(agency.phone)[:40]
    if getattr(agency, "address", None):
        out["address"] = str(agency.address)[:200]
    return out


def _province() -> str:
    region = _region()
    return region.province.zh if getattr(region, "province", None) else region.name.zh


def _number(field: str, side: Side, today: date) -> str:
    """(省份)(统筹区)(年份)(第XXXXXXX号), 7 digits (吉林 附件1, 岳阳 参考样表13), the next serial of the year."""
    prefix = f"({_province()})({this_node()})({today.year})(第"
    column = getattr(TransferCase, field)
    count = db.session.execute(select(func.count()).where(TransferCase.side == side.value,
                                                          column.like(prefix + "%"))).scalar_one()
    return f"{prefix}{count + 1:07d}号)"


def _event(case: TransferCase, what: str, **detail: Any) -> None:
    import json

    case.events.append(TransferEvent(at=clock.now(), what=what,
                                     detail_json=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)))
    case.updated_at = clock.now()


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        db.session.rollback()
        raise Conflict(_("Someone else moved this transfer a moment ago. Reload it to see where it stands.")) from error


def _case(transfer_id: str, side: Side) -> TransferCase | None:
    return db.session.execute(select(TransferCase).where(TransferCase.transfer_id == transfer_id,
                                                         TransferCase.side == side.value)).scalar_one_or_none()


def get_case(case_id: int) -> TransferCase:
    case = db.session.get(TransferCase, case_id) if 0 < case_id < 2**31 else None
    if case is None:
        raise NotFound(_("No such transfer."))
    return case


def case_of_application(application: Application) -> TransferCase | None:
    return db.session.execute(select(TransferCase).where(TransferCase.application_id == application.id,
                                                         TransferCase.side == Side.IN.value)).scalar_one_or_none()


def _person_body(case: TransferCase) -> dict[str, str]:
    return {"id_number": case.id_number, "name": case.person_name}


# --- 转入地: the 联系函 ---------------------------------------------------------------------------------------


def letter_reasons(form: dict[str, Any]) -> list[tuple[str, str]]:
    """What the application lacks for a 联系函, by field."""
    reasons = []
    code = str(form.get("from_area_code") or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        reasons.append(("from_area_code", _("Choose the pooling area where you were insured before.")))
    elif code == this_node():
        reasons.append(("from_area_code", _("The area you were insured in is this one: a transfer within the area "
                                            "is a different service.")))
    certificate = str(form.get("certificate_code") or "").replace(" ", "").upper()
    if certificate and len(certificate) != CERTIFICATE_RE_LEN:
        reasons.append(("certificate_code", _("The check code of the 参保凭证 has 16 letters and digits.")))
    return reasons


def issue_contact_letter(application: Application, *, by: Any, actor: Actor) -> TransferCase:
    """Generate and send the 《联系函》 of an accepted transfer application (the letter's deadline: acceptance + 5
    working days). The same application again returns the letter already issued."""
    existing = case_of_application(application)
    if existing is not None:
        return existing
    if application.accepted_at is None or application.state in ("draft", "submitted", "withdrawn", "not_accepted"):
        raise InvalidTransition(_("Accept the application first: the 联系函 is issued after acceptance."))
    person = application.person
    if person is None:
        raise InvalidTransition(_("This application is not about an insured person on the records."))
    form = application.form_data or {}
    reasons = letter_reasons(form)
    if reasons:
        raise ValidationFailed(reasons)
    today, times = clock.today(), clocks()
    accepted_on = clock.to_local(application.accepted_at).date()
    insurance = INSURANCE_LABELS.get(str(form.get("insurance_type") or ""), InsuranceType.EMPLOYEE_MEDICAL.value)
    from_area = str(form["from_area_code"]).strip()
    case = TransferCase(
        transfer_id=uuid.uuid4().hex, side=Side.IN.value, state=TransferState.LETTER_SENT.value,
        region=current_app.config["PORTAL_REGION"], other_area=from_area,
        other_area_name=str(form.get("from_area_name") or "")[:100], application_id=application.id,
        person_id=person.id, person_name=person.name, id_number=person.id_number.upper(),
        id_number_index=id_number_index(person.id_number), insurance_type=insurance,
        transfer_account=form.get("transfer_account") not in (False, "false", "否", "0"),
        certificate_code=str(form.get("certificate_code") or "").replace(" ", "").upper() or None,
        letter_number=_number("letter_number", Side.IN, today), accepted_on=accepted_on,
        letter_due=times.letter_due(accepted_on), letter_on=today, created_at=clock.now(), updated_at=clock.now())
    db.session.add(case)
    _flush()
    body = {"transfer_id": case.transfer_id, "letter_number": case.letter_number, "person": _person_body(case),
            "insurance_type": insurance,
            "applied_on": clock.to_local(application.submitted_at or application.accepted_at).date().isoformat(),
            "issued_on": today.isoformat(), "from_area": {"code": from_area, "name": case.other_area_name or from_area},
            "to_area": {"code": this_node(), "name": _region().name.zh}, "agency": _agency(),
            "reply_by": times.sheet_due(today).isoformat(), "transfer_account": case.transfer_account}
    if case.certificate_code:
        body["certificate"] = {"verify_code": case.certificate_code}
    message = queue("contact_letter", from_area, body, transfer_id=case.transfer_id)
    case.letter_message_id = message.message_id
    _event(case, "letter_sent", letter_number=case.letter_number, due=case.letter_due,
           late=today > case.letter_due)
    record("transfer.letter_issued", actor=actor, object_type="transfer_case", object_id=case.id,
           detail={"letter_number": case.letter_number, "application": application.id, "to": from_area})
    _flush()
    return case


# --- 转出地: receiving the letter, the 信息表 and the funds --------------------------------------------------------


@on("contact_letter")
def receive_contact_letter(row: Any, body: dict[str, Any]) -> TransferCase:
    """The letter arrives: a case on the workbench, the 信息表 due in 10 working days (the person not yet checked)."""
    existing = _case(body["transfer_id"], Side.OUT)
    if existing is not None:
        return existing
    today = clock.today()
    person_id = db.session.execute(select(Person.id).where(
        Person.id_number_index == id_number_index(body["person"]["id_number"]))).scalar_one_or_none()
    case = TransferCase(
        transfer_id=body["transfer_id"], side=Side.OUT.value, state=TransferState.LETTER_RECEIVED.value,
        region=current_app.config["PORTAL_REGION"], other_area=row.sender, other_area_name=body["to_area"]["name"],
        person_id=person_id, person_name=body["person"]["name"], id_number=body["person"]["id_number"],
        id_number_index=id_number_index(body["person"]["id_number"]), insurance_type=body["insurance_type"],
        transfer_account=bool(body["transfer_account"]),
        certificate_code=(body.get("certificate") or {}).get("verify_code"), letter_number=body["letter_number"],
        letter_message_id=row.message_id, letter_on=today, sheet_due=clocks().sheet_due(today),
        created_at=clock.now(), updated_at=clock.now())
    db.session.add(case)
    _event(case, "letter_received", letter_number=case.letter_number, due=case.sheet_due)
    _flush()
    return case


def person_problem(case: TransferCase) -> tuple[str, str] | None:
    """Why the letter cannot be acted on, as (code, the reason in the agencies' words), or None."""
    from ...certificates.constants import CertificateKind, CertificateStatus
    from ...certificates.operations import find_by_code

    person = db.session.get(Person, case.person_id) if case.person_id else None
    if person is None or person.name != case.person_name:
        return "person_not_found", "本统筹区未查到该参保人员（姓名与身份证件号码不符或无参保记录）。"
    if case.certificate_code:
        certificate = find_by_code(case.certificate_code)
        if (certificate is None or certificate.person_id != person.id
                or certificate.kind != CertificateKind.PERSON_VOUCHER.value
                or certificate.status == CertificateStatus.REVOKED.value):
            return "other", "所附《参保凭证》的校验码与本统筹区开具的凭证不符。"
    insurance = InsuranceType(case.insurance_type)
    if not any(e.insurance_type == insurance and e.status != EnrolmentStatus.TERMINATED for e in person.enrolments):
        return "not_enrolled", "该人员在本统筹区没有未终止的该险种参保登记。"
    arrears = db.session.execute(select(func.count()).where(
        Contribution.person_id == person.id, Contribution.insurance_type == insurance,
        Contribution.status == ContributionStatus.ARREARS)).scalar_one()
    if arrears:
        return "arrears", f"该人员在本统筹区有{arrears}个月欠缴，请补缴后再办理转移。"
    return None


def periods_of(person: Person, insurance: InsuranceType) -> list[dict[str, Any]]:
    """The 信息表's rows: runs of consecutive paid months, each with its months and this agency."""
    months = sorted(db.session.execute(select(Contribution.period_month).where(
        Contribution.person_id == person.id, Contribution.insurance_type == insurance,
        Contribution.status == ContributionStatus.PAID)).scalars())
    runs: list[list[date]] = []
    for month in months:
        if runs and _next_month(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    agency = _region().agency.name.zh[:100]
    return [{"from_month": run[0].strftime("%Y-%m"), "to_month": run[-1].strftime("%Y-%m"),
             "insurance_type": insurance.value, "months": len(run), "agency_name": agency,
             "agency_code": this_node()} for run in runs]


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _check_out(case: TransferCase) -> None:
    if case.side != Side.OUT.value:
        raise InvalidTransition(_("This is the receiving area's case: the 信息表 comes from the other area."))
    if case.state != TransferState.LETTER_RECEIVED.value:
        raise InvalidTransition(_("This letter has been answered already: %(state)s.", state=case.state_enum.label),
                                code="transfer_moved")


def send_information_sheet(case: TransferCase, *, by: Any, actor: Actor) -> TransferCase:
    """Check the person, then in one transaction: the 《参保人员基本医疗保险信息表》 and the fund transfer, the
    personal account debited by what is transferred. A person not found, not enrolled, or in arrears: the letter is
    rejected with that reason instead."""
    _check_out(case)
    problem = person_problem(case)
    if problem is not None:
        return reject_contact_letter(case, *problem, by=by, actor=actor)
    today = clock.today()
    person = db.session.get(Person, case.person_id)
    insurance = InsuranceType(case.insurance_type)
    periods = periods_of(person, insurance)
    case.sheet_number = _number("sheet_number", Side.OUT, today)
    case.periods = periods
    case.contribution_months = sum(p["months"] for p in periods)
    case.funds_reference = f"ZY{case.transfer_id[:16].upper()}"
    case.sheet_on = case.funds_on = today
    case.state = TransferState.SHEET_SENT.value
    _flush()  # the version check: a second clerk's send stops here
    # the balance as it is now, under the account's lock (a withdrawal completing meanwhile has taken its part)
    balance = ledger.withdraw_all(person.id, AccountTransactionKind.TRANSFER_OUT,
                                  f"转出至{case.other_area_name}（{case.sheet_number}）") \
        if case.transfer_account else Decimal("0.00")
    case.account_balance = case.funds_amount = balance
    sheet = {"transfer_id": case.transfer_id, "letter_number": case.letter_number, "sheet_number": case.sheet_number,
             "person": _person_body(case), "insurance_type": case.insurance_type, "periods": periods,
             "contribution_months": case.contribution_months, "account_balance": f"{balance:.2f}",
             "issued_on": today.isoformat()}
    queue("information_sheet", case.other_area, sheet, transfer_id=case.transfer_id,
          in_reply_to=case.letter_message_id)
    queue("fund_transfer", case.other_area, {"transfer_id": case.transfer_id, "sheet_number": case.sheet_number,
                                             "amount": f"{balance:.2f}", "transferred_on": today.isoformat(),
                                             "reference": case.funds_reference},
          transfer_id=case.transfer_id, in_reply_to=case.letter_message_id)
    _event(case, "sheet_sent", sheet_number=case.sheet_number, months=case.contribution_months,
           amount=f"{balance:.2f}", late=today > case.sheet_due if case.sheet_due else False)
    record("transfer.sheet_sent", actor=actor, object_type="transfer_case", object_id=case.id,
           detail={"sheet_number": case.sheet_number, "months": case.contribution_months, "amount": f"{balance:.2f}"})
    _flush()
    return case


def reject_contact_letter(case: TransferCase, code: str, reason: str, *, by: Any, actor: Actor) -> TransferCase:
    """The letter cannot be acted on: the receiving area is told why (a reason code and the words)."""
    _check_out(case)
    reason = " ".join((reason or "").split())[:500]
    if code not in REJECT_CODES or not reason:
        raise ValidationFailed([("reason", _("Say why the letter cannot be acted on."))])
    case.state, case.rejected_on, case.reject_code, case.reject_reason = (
        TransferState.REJECTED.value, clock.today(), code, reason)
    _flush()
    queue("contact_letter_rejection", case.other_area, {"transfer_id": case.transfer_id,
                                                        "letter_number": case.letter_number, "reason_code": code,
                                                        "reason": reason},
          transfer_id=case.transfer_id, in_reply_to=case.letter_message_id)
    _event(case, "rejected", code=code)
    record("transfer.letter_rejected", actor=actor, object_type="transfer_case", object_id=case.id,
           detail={"letter_number": case.letter_number, "code": code})
    _flush()
    return case


@on("transfer_completed")
def receive_completion(row: Any, body: dict[str, Any]) -> TransferCase | None:
    """The receiving area completed: the enrolment here ends on that day (终止, with the transfer as the note)."""
    case = _case(body["transfer_id"], Side.OUT)
    if case is not None:
        _from_other_area(row, case)
    if case is None or case.state != TransferState.SHEET_SENT.value:
        return case
    completed_on = date.fromisoformat(body["completed_on"])
    person = db.session.get(Person, case.person_id) if case.person_id else None
    if person is not None:
        for enrolment in person.enrolments:
            if (enrolment.insurance_type == InsuranceType(case.insurance_type)
                    and enrolment.status != EnrolmentStatus.TERMINATED):
                enrolment.status = EnrolmentStatus.TERMINATED
                enrolment.end_date = max(completed_on, enrolment.start_date)
                db.session.add(EnrolmentEvent(enrolment_id=enrolment.id, kind=EnrolmentEventKind.TERMINATED,
                                              effective_date=enrolment.end_date,
                                              note=f"转移接续至{case.other_area_name}（{case.letter_number}）"[:500]))
    case.state, case.completed_on = TransferState.CLOSED.value, completed_on
    _event(case, "closed", completed_on=completed_on)
    _flush()
    return case


# --- 转入地: the answers, and completion -------------------------------------------------------------------------


def _arrived(case: TransferCase) -> None:
    if case.sheet_on and case.funds_on:
        case.state = TransferState.READY.value
        case.complete_due = clocks().complete_due(case.sheet_on, case.funds_on)
    elif case.sheet_on:
        case.state = TransferState.SHEET_RECEIVED.value
    else:
        case.state = TransferState.FUNDS_RECEIVED.value


def _in_case(row: Any, body: dict[str, Any]) -> TransferCase:
    return _from_other_area(row, _case(body["transfer_id"], Side.IN))


def _from_other_area(row: Any, case: TransferCase | None) -> TransferCase:
    """The case a message answers, only when the message comes from the area the case is with: another node that
    learnt a transfer id cannot complete, reject or fund a transfer it is no party to (the row keeps the refusal)."""
    if case is None:
        raise NotFound("no transfer with this id on this side")
    if row.sender != case.other_area:
        raise NotFound(f"the transfer is with {case.other_area}, not with the sender {row.sender}")
    return case


@on("information_sheet")
def receive_information_sheet(row: Any, body: dict[str, Any]) -> TransferCase:
    case = _in_case(row, body)
    if case.sheet_on is not None or case.state in (TransferState.COMPLETED.value, TransferState.REJECTED.value):
        return case
    case.sheet_number, case.periods = body["sheet_number"], body["periods"]
    case.contribution_months = body["contribution_months"]
    case.account_balance = Decimal(body["account_balance"])
    case.sheet_on = clock.today()
    _arrived(case)
    _event(case, "sheet_received", sheet_number=case.sheet_number, months=case.contribution_months,
           issued_on=body["issued_on"])
    _flush()
    return case


@on("fund_transfer")
def receive_funds(row: Any, body: dict[str, Any]) -> TransferCase:
    case = _in_case(row, body)
    if case.funds_on is not None or case.state in (TransferState.COMPLETED.value, TransferState.REJECTED.value):
        return case
    case.funds_amount, case.funds_reference = Decimal(body["amount"]), body["reference"]
    case.funds_on = clock.today()
    _arrived(case)
    _event(case, "funds_received", amount=body["amount"], transferred_on=body["transferred_on"])
    _flush()
    return case


@on("contact_letter_rejection")
def receive_rejection(row: Any, body: dict[str, Any]) -> TransferCase:
    case = _in_case(row, body)
    if case.state != TransferState.LETTER_SENT.value:
        return case
    case.state, case.rejected_on = TransferState.REJECTED.value, clock.today()
    case.reject_code, case.reject_reason = body["reason_code"], body["reason"]
    _event(case, "rejected_by_other", code=body["reason_code"])
    _flush()
    return case


def completion_problem(case: TransferCase | None) -> str | None:
    """Why the receiving area cannot complete yet, or None."""
    if case is None:
        return _("The 联系函 has not been issued yet: issue it on the transfers page first.")
    if case.state == TransferState.REJECTED.value:
        return _("The other area rejected the 联系函: %(reason)s", reason=case.reject_reason)
    if case.state == TransferState.COMPLETED.value:
        return None
    if case.sheet_on is None or case.funds_on is None:
        return _("The 信息表 and the funds have not both arrived from the other area yet.")
    if case.transfer_account and case.funds_amount != case.account_balance:
        return _("The funds received (%(funds)s) differ from the balance on the 信息表 (%(balance)s): ask the other "
                 "area before completing.", funds=case.funds_amount, balance=case.account_balance)
    return None


def credit_transfer(application: Application) -> TransferCase:
    """At completion of the application: the other area's periods become this person's history (enrolment periods
    and paid months not yet on the records), the funds are credited to the personal account (转入), and the other area
    is told (办结). Raises InvalidTransition when the transfer is not ready."""
    case = case_of_application(application)
    problem = completion_problem(case)
    if problem:
        raise InvalidTransition(problem, code="transfer_not_ready")
    if case.state == TransferState.COMPLETED.value:
        return case
    person = db.session.get(Person, case.person_id)
    insurance = InsuranceType(case.insurance_type)
    credited = 0
    have = set(db.session.execute(select(Contribution.period_month).where(
        Contribution.person_id == person.id, Contribution.insurance_type == insurance)).scalars())
    for period in case.periods:
        first = date.fromisoformat(period["from_month"] + "-01")
        last = date.fromisoformat(period["to_month"] + "-01")
        db.session.add(Enrolment(person_id=person.id, insurance_type=insurance, status=EnrolmentStatus.TERMINATED,
                                 start_date=first, end_date=_next_month(last) - timedelta(days=1)))
        month = first
        while month <= last:
            if month not in have:
                db.session.add(Contribution(person_id=person.id, insurance_type=insurance, period_month=month,
                                            status=ContributionStatus.PAID, paid_at=clock.now()))
                have.add(month)
                credited += 1
            month = _next_month(month)
    amount = case.funds_amount or Decimal("0.00")
    if amount > 0:
        ledger.deposit(person.id, amount, AccountTransactionKind.TRANSFER_IN,
                       f"转入自{case.other_area_name}（{case.sheet_number}）")
    today = clock.today()
    case.state, case.completed_on, case.credited_months = TransferState.COMPLETED.value, today, credited
    queue("transfer_completed", case.other_area, {"transfer_id": case.transfer_id, "letter_number": case.letter_number,
                                                  "completed_on": today.isoformat()}, transfer_id=case.transfer_id)
    _event(case, "completed", months=credited, amount=f"{amount:.2f}",
           late=bool(case.complete_due and today > case.complete_due))
    record("transfer.completed", actor=Actor.system(), object_type="transfer_case", object_id=case.id,
           detail={"months": credited, "amount": f"{amount:.2f}", "application": application.id})
    _flush()
    return case


# --- lists for the workbench ---------------------------------------------------------------------------------


def letters_to_issue(limit: int = 200) -> list[tuple[Application, date]]:
    """Accepted transfer applications without a 联系函 yet, with the letter's deadline, oldest first."""
    item = transfer_item()
    if item is None:
        return []
    issued = select(TransferCase.application_id).where(TransferCase.application_id.is_not(None))
    rows = db.session.execute(select(Application).where(
        Application.item_code == item.code, Application.accepted_at.is_not(None),
        Application.state.in_(("accepted", "under_review", "approved")), Application.id.not_in(issued))
        .order_by(Application.accepted_at).limit(limit)).scalars().all()
    times = clocks()
    return [(a, times.letter_due(clock.to_local(a.accepted_at).date())) for a in rows]


def open_cases(limit: int = 300) -> list[TransferCase]:
    """Cases that still owe or await a step, by deadline."""
    done = (TransferState.COMPLETED.value, TransferState.CLOSED.value, TransferState.REJECTED.value)
    return list(db.session.execute(select(TransferCase).where(TransferCase.state.not_in(done))
                                   .order_by(TransferCase.sheet_due, TransferCase.complete_due, TransferCase.id)
                                   .limit(limit)).scalars())
