"""Operations of 异地就医备案: file (a case of the category's item, signed where a commitment replaces proof),
record the filing when the case completes, and change, cancel, extend, expire and revoke filings. Each of these
queues the filing's new state for the national platform in the same transaction (``national.filings``), so a
hospital at the destination sees what the insured area decided.

Like every operation (ARCHITECTURE.md) these flush and audit but never commit: the view or API call commits
once, so a refusal anywhere leaves neither a half-filed case nor an unsigned filing behind (S19).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ...applications import numbers
from ...applications import operations as cases
from ...applications.constants import MaterialMode
from ...applications.models import Application
from ...catalog.schema import Item, Requirement
from ...commitments import operations as commitments
from ...commitments.texts import REMOTE_CARE_FILING, current_text
from ...core import clock
from ...core.audit import Actor, record
from ...core.db import db
from ...core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ...core.formatting import local_date
from ...core.translation import gettext as _
from ...core.validators import normalize_mobile
from ...insurance.filings import FilingStatus, FilingTerm, RemoteCareFiling
from ...national.filings import report_filing
from . import divisions, rules, sheets
from .policy import BY_KEY, Category, category_of, offered, policy_for, proof_materials, rule

LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
METHOD_COMMITMENT, METHOD_UPLOAD, METHOD_PAPER = "commitment", "upload", "at_window"
METHODS = (METHOD_COMMITMENT, METHOD_UPLOAD, METHOD_PAPER)
MAX_TEXT = 200


# --- input objects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilingInput:
    """One filing as the citizen states it, from the filing page or the API."""

    category: str
    destination_code: str
    start_date: str = ""
    care_address: str = ""
    care_phone: str = ""
    method: str = METHOD_COMMITMENT  # commitment | upload | at_window
    commitment_consent: bool = False
    signed_name: str = ""
    insured_address: str = ""
    emergency_date: str = ""
    admitted_on: str = ""
    discharged: bool = False
    referral_hospital: str = ""
    care_phone2: str = ""  # 联系电话2 of the reference 备案表
    insurance_type: str = ""  # 险种: 职工医保 | 城乡居民医保, where the region's 备案表 asks
    signer: str = ""  # 本人 | 被委托人, where the region's 备案表 asks


@dataclass(frozen=True)
class ChangeInput:
    destination_code: str
    care_address: str = ""
    care_phone: str = ""


# --- helpers -----------------------------------------------------------------------------------------


def _catalog():
    return current_app.extensions["portal_catalog"]


def _region() -> str:
    return current_app.config["PORTAL_REGION"]


def offered_categories() -> list[tuple[Category, Item]]:
    return offered(_catalog())


def item_for(category_key: str) -> tuple[Category, Item]:
    """The region's item for a category; ValidationFailed when the region does not offer it."""
    for category, item in offered_categories():
        if category.key == category_key:
            return category, item
    raise ValidationFailed([("category", _("Choose one of the categories this region offers."))])


def insurance_of(person: Any) -> str:
    """The 险种 box the person's records tick: 职工医保 or 城乡居民医保 (the open enrolment), else empty."""
    from ...insurance.models import InsuranceType

    types = {e.insurance_type for e in getattr(person, "enrolments", ()) or () if e.status.value != "terminated"}
    if InsuranceType.EMPLOYEE_MEDICAL in types:
        return sheets.INSURANCE_TYPES[0]
    if InsuranceType.RESIDENT_MEDICAL in types:
        return sheets.INSURANCE_TYPES[1]
    return ""


def _phone(value: str) -> str | None:
    text = (value or "").strip()
    try:
        return normalize_mobile(text)
    except ValidationFailed:
        return text if LANDLINE_RE.match(text) else None


def _text(value: str) -> str:
    return " ".join((value or "").split())


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        db.session.rollback()
        raise Conflict(_("Someone else changed this filing a moment ago. Reload it to see where it stands.")) from error


# --- filing ------------------------------------------------------------------------------------------


def _form_data(category: Category, item: Item, data: FilingInput, division: divisions.Division,
               method_label: str, person: Any) -> dict[str, Any]:
    """The filing as the case keeps it: the region's 备案表 fields it asks (``sheets``), then this service's."""
    sheet = sheets.sheet_for(_region())
    form: dict[str, Any] = {
        "person_category": category.zh, "filing_method": method_label, "destination_code": division.code,
        "destination_name": divisions.full_name(division.code), "start_date": data.start_date,
        "care_address": _text(data.care_address), "care_phone": (data.care_phone or "").strip(),
        "insured_address": _text(data.insured_address), "care_phone2": (data.care_phone2 or "").strip(),
        "fill_date": clock.today().isoformat(),
    }
    if sheet.asks("gender"):
        form["gender"] = {"M": "男", "F": "女"}.get(getattr(person, "gender", "") or "", "")
    if sheet.asks("registration_type"):
        form["registration_type"] = sheets.NEW
    for key in ("insurance_type", "signer"):
        if sheet.asks(key):
            form[key] = getattr(data, key)
    if sheet.asks("signed_name"):
        form["signature"] = _text(data.signed_name)
    if category.term is FilingTerm.TEMPORARY:
        form |= {"admitted_on": data.admitted_on, "discharged": bool(data.discharged)}
    if category.key == "emergency":
        form |= {"emergency_date": data.emergency_date, "start_date": data.emergency_date}
    if category.key == "referral":
        form["referral_hospital"] = _text(data.referral_hospital)
    return {k: v for k, v in form.items() if v not in ("", None)}


def _sheet_reasons(data: FilingInput, person: Any) -> list[tuple[str | None, str]]:
    """What the region's 备案表 asks and the filing leaves out or gets wrong; fields it does not ask are optional."""
    sheet = sheets.sheet_for(_region())
    reasons: list[tuple[str | None, str]] = []
    if sheet.requires("care_address") and not _text(data.care_address):
        reasons.append(("care_address", _("Enter your address at the destination.")))
    for field in ("care_address", "insured_address"):
        if len(_text(getattr(data, field))) > MAX_TEXT:
            reasons.append((field, _("The address is too long (at most %(n)d characters).", n=MAX_TEXT)))
    if _phone(data.care_phone) is None:
        reasons.append(("care_phone", _("Enter a mobile number of 11 digits or a landline such as 0431-88888888.")))
    if (data.care_phone2 or "").strip() and _phone(data.care_phone2) is None:
        reasons.append(("care_phone2", _("Enter a mobile number of 11 digits or a landline such as 0431-88888888.")))
    if sheet.requires("insurance_type") and data.insurance_type not in sheets.INSURANCE_TYPES:
        reasons.append(("insurance_type", _("Choose your insurance: employee or urban-rural resident.")))
    if sheet.requires("signer") and data.signer not in sheets.SIGNERS:
        reasons.append(("signer", _("Say who signs the form: you, or the person you asked to file for you.")))
    typed = "".join((data.signed_name or "").split())
    if not sheet.asks("signed_name"):
        return reasons  # the commitment, where one is signed, checks its own signature
    if not typed:
        reasons.append(("signed_name", _("Type the full name of the person signing the form.")))
    elif data.signer == sheets.SIGNERS[0] and typed != "".join((getattr(person, "name", "") or "").split()):
        reasons.append(("signed_name", _("The name you typed is not the full name on your insurance record. "
                                         "Type your full name exactly as on your ID card.")))
    return reasons


def _check_input(category: Category, item: Item, data: FilingInput, person: Any) -> divisions.Division:
    """Every problem of the stated filing at once, by field."""
    reasons: list[tuple[str | None, str]] = []
    policy = policy_for(_region())
    division, where = rules.destination(data.destination_code, policy)
    reasons += where
    reasons += _sheet_reasons(data, person)
    if data.method not in METHODS:
        reasons.append(("method", _("Choose how you provide the proof.")))
    elif data.method == METHOD_COMMITMENT and not proof_materials(item):
        reasons.append(("method", _("This category cannot be filed with a commitment instead of proof: the "
                                    "hospital's documents are needed.")))
    for field in ("start_date", "emergency_date", "admitted_on"):
        value = getattr(data, field)
        if value and rules.parse_date(value) is None:
            reasons.append((field, _("Enter a date such as 2026-05-01.")))
    raw = {"start_date": data.emergency_date if category.key == "emergency" else data.start_date,
           "emergency_date": data.emergency_date, "admitted_on": data.admitted_on, "discharged": data.discharged}
    reasons += [r for r in rules.dates(item, category, raw, clock.today()) if r not in reasons]
    if reasons:
        raise ValidationFailed(reasons)
    existing = rules.one_long_term(category, person.id)
    if existing:
        raise Conflict(existing[0][1], code="long_term_filing_exists")
    return division


def _materials(item: Item, method: str) -> dict[str, str]:
    """How each required material is provided: proof replaced by the commitment when self-service, every other
    required material as chosen (uploaded or on paper); the identity and the form itself come with the filing."""
    out: dict[str, str] = {}
    replaceable = {m.id for m in proof_materials(item)}
    for material in item.materials:
        if material.provided_without_upload:
            out[material.id] = MaterialMode.DATA_SHARING.value
        elif material.requirement is not Requirement.required:
            continue
        elif material.id in replaceable and method == METHOD_COMMITMENT:
            out[material.id] = MaterialMode.COMMITMENT.value
        else:
            out[material.id] = (MaterialMode.UPLOAD if method == METHOD_UPLOAD else MaterialMode.AT_WINDOW).value
    return out


def commitment_data(case: Application) -> dict[str, Any]:
    """What the commitment covers: the region, the item, and the filed data as the case holds it."""
    return {"region": case.region, "item_code": case.item_code, "item_name": case.item_name,
            "form": case.form_data}


def file_remote_care(data: FilingInput, *, by: Any, actor: Actor, idempotency_key: str | None = None,
                     ) -> Application:
    """File a 异地就医备案 as ``by``.

    Self-service (``method`` commitment): the commitment is signed over the filed data and the case is submitted;
    the item being a 即办件, it completes at once and the filing takes effect. On paper: the case is submitted
    and a clerk completes it. Upload: the case stays a draft for the files to be attached, then submitted on
    the filing pages. A second long-term filing is refused (``long_term_filing_exists``): change the first.
    The same idempotency key returns the case it made the first time.
    """
    if idempotency_key:
        earlier = db.session.execute(select(Application).where(
            Application.applicant_id == getattr(by, "id", None),
            Application.idempotency_key == idempotency_key)).scalar_one_or_none()
        if earlier is not None:
            return earlier
    category, item = item_for(data.category)
    person = getattr(by, "person", None)
    if person is None:
        raise PermissionDenied(_("Bind your real name first: the portal must know who you are before you file."))
    division = _check_input(category, item, data, person)
    label = rules.SELF_SERVICE if data.method == METHOD_COMMITMENT else rules.WITH_PROOF
    case = cases.start_application(item, by=by, actor=actor)
    form = {**case.form_data, **_form_data(category, item, data, division, label, person)}
    cases.save_draft(case, cases.DraftInput(form=form, materials=_materials(item, data.method)), by=by, actor=actor)
    if data.method == METHOD_COMMITMENT:
        text = current_text(case.region, REMOTE_CARE_FILING)
        if text is None:
            raise ValidationFailed([("method", _("This region has no commitment text: file with proof."))])
        commitments.sign_commitment(text, commitment_data(case), commitments.SignatureInput(
            bool(data.commitment_consent), data.signed_name), by=by, actor=actor, application=case)
    if data.method == METHOD_UPLOAD:
        if idempotency_key:
            cases.check_idempotency_key(case, idempotency_key)
            case.idempotency_key = idempotency_key
        return case
    return cases.submit_application(case, by=by, actor=actor, idempotency_key=idempotency_key)


# --- the filing record -------------------------------------------------------------------------------


def _new_number(region: str, case_number: str | None = None) -> str:
    """The 备案编号: "YD" and the 受理编号 of the application that made the filing (YDJL20261206K7M3QX for
    JL20261206K7M3QX), so a person meets one number, not two; a fresh random one when there is none."""
    if case_number:
        number = "YD" + case_number
        if db.session.execute(select(RemoteCareFiling.id).where(RemoteCareFiling.number == number)).first() is None:
            return number
    for _attempt in range(10):
        number = "YD" + numbers.new_number(region, clock.today())
        if db.session.execute(select(RemoteCareFiling.id).where(RemoteCareFiling.number == number)).first() is None:
            return number
    raise Conflict(_("Could not give the filing a number; please try again."))


def validity(item: Item, category: Category, start: date, region: str) -> date | None:
    """The last day of a new filing: open-ended for long-term filings unless the region sets an end; a referral
    until 31 December where the catalog says so; other temporary filings for the region's window."""
    policy = policy_for(region)
    if category.term is FilingTerm.LONG_TERM:
        return rules.add_months(start, policy.long_term_months) - timedelta(days=1) if policy.long_term_months else None
    if rule(item, "filing_valid_until_year_end") is not None:
        return date(start.year, 12, 31)
    months = rule(item, "filing_valid_months")
    window = int(months.params["months"]) if months else policy.temporary_months
    return rules.add_months(start, window) - timedelta(days=1)


def lock_until(category: Category, region: str, today: date) -> date | None:
    """The first day a long-term filing may be changed or cancelled again; None when not locked."""
    months = policy_for(region).lock_months
    if category.term is not FilingTerm.LONG_TERM or not months:
        return None
    return rules.add_months(today, months)


def record_filing(case: Application, item: Item) -> RemoteCareFiling:
    """At completion: the filing record, from the case's data; self-service filings carry their commitment's hash
    and only take effect while the stored commitment still matches it."""
    existing = db.session.execute(
        select(RemoteCareFiling).where(RemoteCareFiling.application_id == case.id)).scalar_one_or_none()
    if existing is not None:
        return existing
    category = category_of(item) or BY_KEY["other_temporary"]
    form = case.form_data
    self_service = form.get("filing_method") == rules.SELF_SERVICE
    signature = commitments.signature_for(case.id)
    if self_service and (signature is None or commitments.verify_signature(signature)):
        raise InvalidTransition(_("The signed commitment of this filing is missing or no longer matches; the "
                                  "filing cannot take effect."))
    today = clock.today()
    start = rules.parse_date(form.get("start_date")) or today
    if case.person is None and case.person_id is None:
        raise InvalidTransition(_("This filing is not about an insured person on the records."))
    filing = RemoteCareFiling(
        number=_new_number(case.region, case.number), region=case.region, person_id=case.person_id,
        application_id=case.id,
        item_code=case.item_code, category=category.key, term=category.term.value, status=FilingStatus.ACTIVE.value,
        destination_code=form.get("destination_code", ""), destination_name=form.get("destination_name", ""),
        start_date=start, end_date=validity(item, category, start, case.region),
        lock_until=lock_until(category, case.region, today), care_address=form.get("care_address"),
        care_phone=form.get("care_phone"), self_service=self_service,
        commitment_id=signature.id if self_service and signature else None,
        commitment_hash=signature.hash if self_service and signature else None,
        emergency_on=rules.parse_date(form.get("emergency_date")),
        admitted_on=rules.parse_date(form.get("admitted_on")),
        created_at=clock.now(), updated_at=clock.now(),
    )
    db.session.add(filing)
    try:
        _flush()
    except IntegrityError as error:  # another request made this person's long-term filing a moment ago
        db.session.rollback()
        raise Conflict(_("You already have a valid long-term filing. A person has one long-term filing at a time: "
                         "change that filing instead of filing again."), code="long_term_filing_exists") from error
    ends = local_date(filing.end_date) if filing.end_date else _("until changed or cancelled")
    if not case.result_text or case.result_text == _("Completed on submission."):  # staff's own words stay
        case.result_text = _("Filed: %(number)s, to %(place)s, valid from %(start)s, %(end)s.", number=filing.number,
                             place=filing.destination_name, start=local_date(filing.start_date), end=ends)
        if filing.commitment_hash:  # printed on the completion slip (业务单) with the filing
            case.result_text += " " + _("Commitment hash (SHA-256): %(hash)s", hash=filing.commitment_hash)
    record("remote_care.filed", actor=Actor.system(), object_type="remote_care_filing", object_id=filing.id,
           detail={"number": filing.number, "application": case.id, "self_service": self_service,
                   "commitment_hash": filing.commitment_hash})
    report_filing(filing, "filed")
    return filing


def revoke_filing(case: Application, reason: str) -> RemoteCareFiling | None:
    """Post-hoc checking found the commitment false: the filing ends today, with the reason kept on it."""
    filing = db.session.execute(
        select(RemoteCareFiling).where(RemoteCareFiling.application_id == case.id)).scalar_one_or_none()
    if filing is None or not filing.is_active:
        return filing
    _end(filing, FilingStatus.REVOKED, reason.strip()[:2000] or _("Revoked after checking."))
    record("remote_care.revoked", actor=Actor.system(), object_type="remote_care_filing", object_id=filing.id,
           detail={"number": filing.number, "application": case.id})
    report_filing(filing, "revoked")
    return filing


def _end(filing: RemoteCareFiling, status: FilingStatus, reason: str, on: date | None = None) -> None:
    filing.status = status.value
    filing.ended_on = on or clock.today()
    filing.end_reason = reason
    filing.updated_at = clock.now()
    filing.add_history({"at": clock.now().isoformat(), "what": status.value})
    _flush()


# --- my filings --------------------------------------------------------------------------------------


def filings_of(account: Any) -> list[RemoteCareFiling]:
    """The filings of the account's bound person, newest first."""
    person_id = getattr(account, "person_id", None)
    if person_id is None:
        return []
    return list(db.session.execute(select(RemoteCareFiling).where(RemoteCareFiling.person_id == person_id)
                                   .order_by(RemoteCareFiling.created_at.desc(), RemoteCareFiling.id.desc()))
                .scalars())


def get_filing(filing_id: int, *, for_account: Any) -> RemoteCareFiling:
    """The filing if it is the account's own person's; NotFound otherwise, the same answer for any other (S6)."""
    filing = db.session.get(RemoteCareFiling, filing_id) if 0 < filing_id < 2**31 else None
    if filing is None or getattr(for_account, "person_id", None) is None or filing.person_id != for_account.person_id:
        raise NotFound(_("No such filing."))
    return filing


def _refuse_in_lock(filing: RemoteCareFiling, verb: str) -> None:
    if not filing.is_active:
        raise InvalidTransition(_("This filing is no longer valid: it cannot be changed."), code="filing_not_active")
    today = clock.today()
    if filing.lock_until is not None and today < filing.lock_until:
        raise InvalidTransition(_("%(verb)s is not possible yet: a long-term filing cannot be changed or cancelled "
                                  "until %(date)s.", verb=verb, date=local_date(filing.lock_until)),
                                code="filing_locked")


def change_filing(filing: RemoteCareFiling, data: ChangeInput, *, by: Any, actor: Actor) -> RemoteCareFiling:
    """变更: a new destination, address or phone. Refused during the lock; a long-term change starts a new lock."""
    _refuse_in_lock(filing, _("Changing it"))
    division, reasons = rules.destination(data.destination_code, policy_for(filing.region))
    phone = _phone(data.care_phone) if data.care_phone else filing.care_phone
    if data.care_phone and phone is None:
        reasons.append(("care_phone", _("Enter a mobile number of 11 digits or a landline such as 0431-88888888.")))
    if len(_text(data.care_address)) > MAX_TEXT:
        reasons.append(("care_address", _("The address is too long (at most %(n)d characters).", n=MAX_TEXT)))
    if reasons:
        raise ValidationFailed(reasons)
    before = filing.destination_code
    filing.destination_code, filing.destination_name = division.code, divisions.full_name(division.code)
    filing.care_address = _text(data.care_address) or filing.care_address
    filing.care_phone = phone
    filing.lock_until = lock_until(BY_KEY[filing.category], filing.region, clock.today())
    filing.updated_at = clock.now()
    filing.add_history({"at": clock.now().isoformat(), "what": "changed", "from": before, "to": division.code})
    _flush()
    record("remote_care.changed", actor=actor, object_type="remote_care_filing", object_id=filing.id,
           detail={"number": filing.number, "from": before, "to": division.code})
    report_filing(filing, "changed")
    return filing


def cancel_filing(filing: RemoteCareFiling, *, by: Any, actor: Actor) -> RemoteCareFiling:
    """取消: the filing ends today. Refused during the lock, saying the date it lifts."""
    _refuse_in_lock(filing, _("Cancelling it"))
    _end(filing, FilingStatus.CANCELLED, _("Cancelled by the insured person."))
    record("remote_care.cancelled", actor=actor, object_type="remote_care_filing", object_id=filing.id,
           detail={"number": filing.number})
    report_filing(filing, "cancelled")
    return filing


def extension_opens(filing: RemoteCareFiling) -> date | None:
    """The first day an extension may be filed, or None when the filing has no end or cannot be extended."""
    if filing.end_date is None or not filing.is_active or filing.category == "referral":
        return None
    return filing.end_date - timedelta(days=policy_for(filing.region).extend_within_days)


def extend_filing(filing: RemoteCareFiling, *, by: Any, actor: Actor) -> RemoteCareFiling:
    """事前核准延期: before the end date, the filing runs one more period from the day after its end."""
    if not filing.is_active:
        raise InvalidTransition(_("This filing is no longer valid: file again instead."), code="filing_not_active")
    opens = extension_opens(filing)
    if filing.end_date is None:
        raise InvalidTransition(_("This filing has no end date: it needs no extension."), code="no_end_date")
    if opens is None:
        raise InvalidTransition(_("A referral filing is valid until the end of the year and cannot be extended; "
                                  "file a new referral."), code="not_extendable")
    today = clock.today()
    if today < opens:
        raise InvalidTransition(_("An extension can be filed from %(date)s.", date=local_date(opens)),
                                code="extension_not_open")
    policy = policy_for(filing.region)
    months = policy.long_term_months if filing.term == FilingTerm.LONG_TERM else policy.temporary_months
    before = filing.end_date
    period = months or policy.temporary_months
    filing.end_date = rules.add_months(before + timedelta(days=1), period) - timedelta(days=1)
    filing.extensions += 1
    filing.updated_at = clock.now()
    filing.add_history({"at": clock.now().isoformat(), "what": "extended", "from": before.isoformat(),
                        "to": filing.end_date.isoformat()})
    _flush()
    record("remote_care.extended", actor=actor, object_type="remote_care_filing", object_id=filing.id,
           detail={"number": filing.number, "until": filing.end_date.isoformat()})
    report_filing(filing, "extended")
    return filing


def expire_filings(*, actor: Actor, today: date | None = None) -> int:
    """End every active filing whose last day has passed without an extension; returns how many."""
    today = today or clock.today()
    rows = db.session.execute(select(RemoteCareFiling).where(
        RemoteCareFiling.status == FilingStatus.ACTIVE.value, RemoteCareFiling.end_date.is_not(None),
        RemoteCareFiling.end_date < today)).scalars().all()
    for filing in rows:
        _end(filing, FilingStatus.EXPIRED, _("Its validity ended on %(date)s without an extension.",
                                             date=local_date(filing.end_date)), on=filing.end_date + timedelta(days=1))
        record("remote_care.expired", actor=actor, object_type="remote_care_filing", object_id=filing.id,
               detail={"number": filing.number})
        report_filing(filing, "expired")
    return len(rows)
