"""How an organisation gets its first agent (its administrator): three paths, one core.

- **电子营业执照** (online): ``start_with_license`` records the request and asks the licence service for the holder's
  authorisation; ``finish_with_license`` reads the answer when the browser comes back and, when the licence's
  credit code, registered name and legal representative are the ones typed and the holder authorised this person,
  makes the agent at once.
- **授权委托书** (online): ``submit_letter`` stores the signed letter through the materials machinery (checked,
  encrypted) and waits for staff, who ``approve`` or ``refuse`` it in the workbench.
- **At the window**: ``register_at_window`` (the staff screen and ``portal units agent add``): staff saw the papers.

Each ends in ``accounts.operations.register_first_agent``. A credit code the records do not know yet gets a unit
in status 待参保登记 (``UnitStatus.PENDING``), whose agent can file only its 单位参保登记; completing that case makes
the unit a registered one (``services.enrolment.units``). Same conventions as the other operations: inputs
frozen, the audit ``actor`` passed in, nothing committed, refusals as DomainErrors with field-level reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import select

from ..accounts import operations as account_ops
from ..accounts.models import Account
from ..accounts.organisation import org_column
from ..core import clock
from ..core.audit import Actor, record
from ..core.db import db
from ..core.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from ..core.masking import mask_phone
from ..core.translation import gettext as _
from ..core.validators import check_credit_code, normalize_id_number, normalize_mobile
from ..insurance.constants import UnitStatus
from ..insurance.models import Unit, id_number_index, normalize_name
from ..integrations import business_license
from ..integrations.business_license import AuthorisationRequest
from . import institutions
from .institutions import check_institution_code
from .models import (
    AgreementStatus,
    Institution,
    InstitutionKind,
    OrgKind,
    OrgRegistration,
    ProofMethod,
    RegistrationStatus,
)

LETTER_MATERIAL = "authorisation_letter"  # the material slot name of an uploaded 授权委托书
DEFAULT_LIMIT = "10/hour;30/day"  # PORTAL_LIMIT_REGISTER_IP: registrations started per address


class RegistrationRefused(DomainError):
    """The licence service's answer does not make this person the unit's agent (refused, other data)."""

    code = "registration_refused"
    status = 422


@dataclass(frozen=True)
class FirstAgentRequest:
    """What the person registering types: the unit, its legal representative, and who they are."""

    credit_code: str
    org_name: str
    legal_rep_name: str
    agent_name: str = field(repr=False)
    agent_id_number: str = field(repr=False)
    agent_phone: str = field(repr=False)
    org_kind: str = OrgKind.UNIT.value  # or institution (a 定点医药机构 registering its first agent)
    institution_kind: str | None = None  # institutions: InstitutionKind (医疗机构 / 零售药店)
    institution_code: str | None = None  # institutions: the 医保机构编码, when it has one already


def checked(data: FirstAgentRequest, *, allow_bad_checksum: bool = False) -> FirstAgentRequest:
    """The request normalised; every problem at its field at once (ValidationFailed)."""
    problems: list[tuple[str, str]] = []
    values: dict[str, str] = {}

    def run(name: str, check: Any) -> None:
        try:
            values[name] = check()
        except ValidationFailed as exc:
            problems.extend((name, message) for _f, message in exc.reasons)

    def credit_code() -> str:
        result = check_credit_code(data.credit_code)
        if not result.checksum_ok and not allow_bad_checksum:
            raise ValidationFailed([(None, _("The last character of this unified social credit code does not match "
                                             "the others. Please check for a typo; if the code is printed so on the "
                                             "business licence, register at the service hall."))])
        return result.code

    def text(raw: str, limit: int, message: str) -> Any:
        def check() -> str:
            value = normalize_name(raw or "")
            if not value or len(value) > limit:
                raise ValidationFailed([(None, message)])
            return value
        return check

    run("credit_code", credit_code)
    run("org_name", text(data.org_name, 200, _("Enter the unit's name as registered (at most 200 characters).")))
    run("legal_rep_name", text(data.legal_rep_name, 64,
                               _("Enter the legal representative's name (at most 64 characters).")))
    run("agent_name", text(data.agent_name, 64, _("Enter the agent's name (at most 64 characters).")))
    run("agent_id_number", lambda: normalize_id_number(data.agent_id_number))
    run("agent_phone", lambda: normalize_mobile(data.agent_phone))
    values["org_kind"] = data.org_kind if data.org_kind in set(OrgKind) else OrgKind.UNIT.value
    if values["org_kind"] == OrgKind.INSTITUTION:
        run("institution_kind", lambda: _institution_kind(data.institution_kind))
        if (data.institution_code or "").strip():
            run("institution_code", lambda: check_institution_code(data.institution_code,
                                                                    values.get("institution_kind")))
    if problems:
        raise ValidationFailed(problems)
    return FirstAgentRequest(**values)


def _institution_kind(raw: str | None) -> str:
    if raw not in set(InstitutionKind):
        raise ValidationFailed([(None, _("Choose whether the institution is a medical institution or a retail "
                                         "pharmacy."))])
    return raw


def _unit(credit_code: str) -> Unit | None:
    return db.session.execute(select(Unit).where(Unit.credit_code == credit_code)).scalar_one_or_none()


def _organisation(data: FirstAgentRequest | OrgRegistration) -> Unit | Institution | None:
    if data.org_kind == OrgKind.INSTITUTION:
        return institutions.find(data.credit_code, data.institution_code)
    return _unit(data.credit_code)


def _refuse_if_administered(data: FirstAgentRequest) -> None:
    org = _organisation(data)
    if org is not None and db.session.execute(select(Account.id).where(
            org_column(org) == org.id, Account.is_unit_admin)).first():
        raise ValidationFailed([("credit_code", _("This unit already has its administrator. Ask them to add you as "
                                                  "an agent, or contact the service hall."))])
    if isinstance(org, Institution) and data.institution_code and org.code and org.code != data.institution_code:
        raise ValidationFailed([("institution_code", _("The register holds another designated institution code "
                                                       "for this credit code. Check the code, or contact the "
                                                       "service hall."))])


def _new_registration(data: FirstAgentRequest, method: ProofMethod, status: RegistrationStatus) -> OrgRegistration:
    registration = OrgRegistration(
        org_kind=data.org_kind, institution_kind=data.institution_kind, institution_code=data.institution_code,
        credit_code=data.credit_code, org_name=data.org_name,
        legal_rep_name=data.legal_rep_name, agent_name=data.agent_name, agent_id_number=data.agent_id_number,
        agent_id_index=id_number_index(data.agent_id_number), agent_phone=data.agent_phone, method=method.value,
        status=status.value, created_at=clock.now())
    db.session.add(registration)
    db.session.flush()
    return registration


def _audit(action: str, registration: OrgRegistration, actor: Actor, result: str = "ok", **detail: Any) -> None:
    record(action, actor=actor, object_type="org_registration", object_id=registration.id, result=result,
           detail={"credit_code": registration.credit_code, "method": registration.method,
                   "phone": mask_phone(registration.agent_phone), **detail})


def _service() -> Any:
    service = business_license.license_service(current_app._get_current_object())
    if service is None:
        raise business_license.LicenseServiceError("disabled")
    return service


# --- 电子营业执照 ------------------------------------------------------------------------------------------


def start_with_license(data: FirstAgentRequest, *, return_url: str, actor: Actor,
                       client_ip: str) -> tuple[OrgRegistration, str]:
    """Record the request and ask the licence service for the holder's authorisation; returns the registration and
    the URL to send the browser to."""
    data = checked(data)
    account_ops.throttle("PORTAL_LIMIT_REGISTER_IP", client_ip, default=DEFAULT_LIMIT)
    _refuse_if_administered(data)
    started = _service().start(AuthorisationRequest(data.credit_code, data.agent_name, data.agent_id_number,
                                                    return_url))  # first: a service that fails leaves no row
    registration = _new_registration(data, ProofMethod.BUSINESS_LICENSE, RegistrationStatus.AWAITING_LICENSE)
    registration.license_ticket = started.ticket
    db.session.flush()
    _audit("registration.started", registration, actor)
    return registration, started.authorize_url


def registration_of_ticket(ticket: str) -> OrgRegistration:
    found = db.session.execute(select(OrgRegistration).where(
        OrgRegistration.license_ticket == ticket)).scalar_one_or_none() if ticket and len(ticket) <= 128 else None
    if found is None:
        raise NotFound(_("This registration has expired or is unknown. Please start again."))
    return found


def finish_with_license(registration: OrgRegistration, *, actor: Actor) -> Account:
    """Read the licence service's answer and, when it authorises this person for this unit, make the agent.

    A refusal by the holder, or a licence whose data differ from what was typed, ends the registration (kept,
    refused, with the reason); the caller commits that before showing the error (``commit_failures``)."""
    if registration.status == RegistrationStatus.APPROVED and registration.account_id is not None:
        return db.session.get(Account, registration.account_id)
    if registration.status != RegistrationStatus.AWAITING_LICENSE or not registration.license_ticket:
        raise InvalidTransition(_("This registration has already ended. Please start again."),
                                code="registration_ended")
    outcome = _service().result(registration.license_ticket)
    if outcome.status == "pending":
        raise InvalidTransition(_("The licence holder has not confirmed the authorisation yet. Confirm it in the "
                                  "electronic business licence app, then try again."), code="license_pending")
    problems = _license_problems(registration, outcome)
    if problems:
        _decide(registration, RegistrationStatus.REFUSED, reason="; ".join(problems), by=None)
        _audit("registration.refused", registration, actor, result="denied", by="license")
        raise RegistrationRefused(_("The registration was not accepted: %(problems)s", problems="; ".join(problems)))
    return approve(registration, by=None, actor=actor)


def _license_problems(registration: OrgRegistration, outcome: Any) -> list[str]:
    if outcome.status != "authorised" or outcome.license is None:
        return [_("the licence holder refused the authorisation")]
    license_ = outcome.license
    problems = []
    if license_.credit_code.upper() != registration.credit_code:
        problems.append(_("the licence is of another unified social credit code"))
    if normalize_name(license_.name) != registration.org_name:
        problems.append(_("the unit's name differs from the name on the licence (%(name)s)", name=license_.name))
    if normalize_name(license_.legal_rep_name) != registration.legal_rep_name:
        problems.append(_("the legal representative differs from the one on the licence"))
    if outcome.grantee_id_number and outcome.grantee_id_number.upper() != registration.agent_id_number:
        problems.append(_("the licence holder authorised someone else"))
    return problems


# --- 授权委托书 ------------------------------------------------------------------------------------------


def submit_letter(data: FirstAgentRequest, stream: BinaryIO | bytes, filename: str, *, actor: Actor,
                  client_ip: str) -> OrgRegistration:
    """Record the request with its signed letter of authorisation (checked and encrypted like every upload) for
    staff to verify."""
    from ..materials.operations import store_document

    data = checked(data)
    account_ops.throttle("PORTAL_LIMIT_REGISTER_IP", client_ip, default=DEFAULT_LIMIT)
    _refuse_if_administered(data)
    try:
        letter = store_document(stream, filename, material_id=LETTER_MATERIAL, by=None, actor=actor,
                                object_type="org_registration")
    except DomainError as error:
        raise ValidationFailed([("letter", error.message)]) from None
    registration = _new_registration(data, ProofMethod.LETTER, RegistrationStatus.AWAITING_REVIEW)
    registration.letter_file_id = letter.id
    db.session.flush()
    _audit("registration.submitted", registration, actor)
    return registration


def awaiting_review(limit: int = 200) -> list[OrgRegistration]:
    return list(db.session.execute(
        select(OrgRegistration).where(OrgRegistration.status == RegistrationStatus.AWAITING_REVIEW.value)
        .order_by(OrgRegistration.created_at, OrgRegistration.id).limit(limit)).scalars())


def refuse(registration: OrgRegistration, reason: str, *, by: Account, actor: Actor) -> None:
    """Staff refuse a letter (unreadable, unsigned, not the unit's, someone else named...)."""
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 500:
        raise ValidationFailed([("reason", _("Say why the registration is refused (at most 500 characters)."))])
    if registration.status != RegistrationStatus.AWAITING_REVIEW:
        raise DomainError(_("This registration has already been decided."), code="registration_decided")
    _decide(registration, RegistrationStatus.REFUSED, reason=reason, by=by)
    _audit("registration.refused", registration, actor, by="staff")
    _tell_refused(registration, actor)


def _tell_refused(registration: OrgRegistration, actor: Actor) -> None:
    """The registrant hears of the refusal and its reason by SMS (in Chinese), in the decision's transaction. They
    have no account, so no inbox message: the text goes straight to the SMS port (the development outbox, or the
    real gateway) as the notification would word it. A gateway that does not take it does not undo the decision;
    the audit log records the failure (``registration.sms_failed``); it is not retried."""
    from ..integrations import sms
    from ..notifications.constants import Event
    from ..notifications.messages import render

    event = Event.REGISTRATION_REFUSED
    message = render(event, {"unit": registration.org_name, "reason": registration.decision_reason or ""},
                     locale="zh_Hans_CN")
    try:
        sms.get_gateway().send(registration.agent_phone, event.value, dict(message.params),
                               business_id=f"registration-{registration.id}", text=message.sms)
    except sms.SmsError as error:
        _audit("registration.sms_failed", registration, actor, result="failed", reason=error.reason)


# --- the core --------------------------------------------------------------------------------------------


def _decide(registration: OrgRegistration, status: RegistrationStatus, *, reason: str | None,
            by: Account | None) -> None:
    registration.status = status.value
    registration.decision_reason = reason
    registration.decided_by_id = getattr(by, "id", None)
    registration.decided_at = clock.now()
    db.session.flush()


def approve(registration: OrgRegistration, *, by: Account | None, actor: Actor) -> Account:
    """Make the registration's person the first agent of the unit (a unit awaiting its 单位参保登记 when the records
    do not know the credit code yet)."""
    if registration.status not in (RegistrationStatus.AWAITING_REVIEW, RegistrationStatus.AWAITING_LICENSE):
        raise InvalidTransition(_("This registration has already been decided."), code="registration_decided")
    if registration.org_kind == OrgKind.INSTITUTION:
        return _approve_institution(registration, by=by, actor=actor)
    unit = _unit(registration.credit_code)
    if unit is None:
        from ..services.enrolment.records import unique_number

        unit = Unit(code=unique_number(Unit, Unit.code, "U"), credit_code=registration.credit_code,
                    name=registration.org_name, status=UnitStatus.PENDING, legal_rep_name=registration.legal_rep_name,
                    created_at=clock.now())
        db.session.add(unit)
        db.session.flush()
        record("unit.registering", actor=actor, object_type="unit", object_id=unit.id,
               detail={"credit_code": unit.credit_code, "registration": registration.id})
    agent = account_ops.register_first_agent(
        unit, account_ops.NewAgent(registration.agent_phone, registration.agent_name, registration.agent_id_number),
        actor=actor, proof=ProofMethod(registration.method), by=by)
    registration.account_id, registration.unit_id = agent.id, unit.id
    by_staff = registration.method == ProofMethod.LETTER and registration.status == RegistrationStatus.AWAITING_REVIEW
    _decide(registration, RegistrationStatus.APPROVED, reason=None, by=by)
    _audit("registration.approved", registration, actor, unit=unit.id, agent=agent.id)
    if by_staff:  # a letter staff checked: the registrant is waiting to hear (inbox and SMS, retried by the worker)
        from ..notifications import notify
        from ..notifications.constants import Channel, Event

        notify(agent, Event.REGISTRATION_APPROVED, {"unit": unit.name}, channels=(Channel.INBOX, Channel.SMS),
               dedupe_key=f"registration-{registration.id}-approved")
    return agent


def _approve_institution(registration: OrgRegistration, *, by: Account | None, actor: Actor) -> Account:
    """The institution's first agent; an institution the register does not know yet is entered in it, not
    designated (its agent then files the application for the 定点 agreement)."""
    institution = _organisation(registration)
    if institution is None:
        institution = Institution(
            credit_code=registration.credit_code, code=registration.institution_code, name=registration.org_name,
            kind=registration.institution_kind, region=current_app.config["PORTAL_REGION"],
            legal_rep_name=registration.legal_rep_name, agreement_status=AgreementStatus.NONE.value,
            created_at=clock.now(), changed_at=clock.now())
        db.session.add(institution)
        db.session.flush()
        institutions.history_event(institution, "registered", {"name": (None, institution.name),
                                                               "code": (None, institution.code)})
        record("institution.registering", actor=actor, object_type="institution", object_id=institution.id,
               detail={"credit_code": institution.credit_code, "registration": registration.id})
    agent = account_ops.register_first_agent(
        institution, account_ops.NewAgent(registration.agent_phone, registration.agent_name,
                                          registration.agent_id_number),
        actor=actor, proof=ProofMethod(registration.method), by=by)
    registration.account_id, registration.institution_id = agent.id, institution.id
    _decide(registration, RegistrationStatus.APPROVED, reason=None, by=by)
    _audit("registration.approved", registration, actor, institution=institution.id, agent=agent.id)
    return agent


def register_at_window(data: FirstAgentRequest, *, by: Account | None, actor: Actor) -> Account:
    """Staff saw the unit's papers and the agent's ID card at the window: make the first agent now."""
    data = checked(data, allow_bad_checksum=True)
    _refuse_if_administered(data)
    registration = _new_registration(data, ProofMethod.WINDOW, RegistrationStatus.AWAITING_REVIEW)
    return approve(registration, by=by, actor=actor)
