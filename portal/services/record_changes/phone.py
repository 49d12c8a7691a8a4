"""参保人员电话号码新增和更改 (四川 SC07, ``enrolment.phone_change``): the phone on record, proven by SMS.

The seed: "符合条件的办理电话号码新增或更改", 即时办结. Online, the applicant proves the new number the way a login
does: a 6-digit code sent to it (``request_code``), typed back (``confirm``). Only then is the case filed; it
completes at once and its effect puts the new number on the person's record **and** makes it the login of the
applicant's account (the login phone is the phone on record, ``accounts/binding.py``): afterwards the old number
no longer reaches the account and the new one does. The owner of the old number is told by SMS.

The proof travels in the case as the code's handle (``phone_check``), a secret only the browser session that
asked for the code holds; the pre-check and the effect both require it to name a used code of this purpose sent
to exactly this number, so a filing through the generic form or the API without the check is refused. As every
effect, the change is recorded in the case's ``CaseEffect`` (numbers sealed) so post-hoc checking can undo it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from ...accounts import operations as account_ops
from ...accounts import otp
from ...accounts.models import Account, OtpChallenge, OtpPurpose, citizen_login_key
from ...catalog.schema import FieldType, Item, Name
from ...core import clock
from ...core.audit import Actor, AuditEvent, record
from ...core.db import db
from ...core.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from ...core.masking import mask_phone
from ...core.translation import gettext as _
from ...core.validators import normalize_mobile
from ...insurance.models import phone_index
from ...integrations import sms
from ..base import FilingContext, Finding, Severity, register
from ..effects import EffectRefused, Ledger, revert
from ..instant import SelfServiceItem

CHECK_KEY = "phone_check"  # the form key holding the code's handle
PHONE_KEY = "new_phone"
# a code proves the number for the filing it was typed for: the case must be filed soon after
PROOF_MINUTES = 30


def form_specs() -> list[Any]:
    from ...applications.fields import FieldSpec

    return [
        FieldSpec(PHONE_KEY, Name(zh="新手机号码", en="New mobile number"), FieldType.phone, True),
        FieldSpec(CHECK_KEY, Name(zh="短信验证", en="SMS check"), FieldType.text, True,
                  help=Name(zh="本服务的做法：新号码须先用发往该号码的短信验证码核验",
                            en="This service's practice: the new number is first proven by a code sent to it")),
    ]


def _proof(data: dict[str, Any], account_id: int | None = None) -> OtpChallenge | None:
    """The used phone-change code the form names, sent to the form's number and used lately, and (with
    ``account_id``) asked for by that account; else None. A handle proven through one account proves nothing for
    another one (an API token of the victim plus a handle of the attacker's own account)."""
    handle, phone = data.get(CHECK_KEY), data.get(PHONE_KEY)
    if not isinstance(handle, str) or not isinstance(phone, str) or not handle:
        return None
    challenge = otp.find_by_handle(handle)
    if (challenge is None or challenge.purpose != OtpPurpose.PHONE_CHANGE or challenge.used_at is None
            or challenge.phone_index != phone_index(phone)
            or challenge.used_at < clock.now() - timedelta(minutes=PROOF_MINUTES)):
        return None
    if account_id is not None and _asked_by(challenge) != account_id:
        return None
    return challenge


def _asked_by(challenge: OtpChallenge) -> int | None:
    """The account that asked for the code (kept in the audit row of its sending)."""
    detail = db.session.execute(select(AuditEvent.detail).where(
        AuditEvent.action == "phone_change.code_sent", AuditEvent.object_type == "otp_challenge",
        AuditEvent.object_id == str(challenge.id)).order_by(AuditEvent.id)).scalars().first()
    try:
        account = json.loads(detail or "{}").get("account")
    except ValueError:
        return None
    return account if isinstance(account, int) else None


def _not_proven() -> str:
    return _("The new number has not been proven by the code sent to it. Apply through “Apply online” on the item's "
             "guide page: we send a code to the new number and file the change when you type it back.")


def _login_taken(phone: str, account_id: int | None) -> bool:
    other = db.session.execute(select(Account.id).where(Account.login_key == citizen_login_key(phone))).scalar()
    return other is not None and other != account_id


@register("enrolment.phone_change")
class PhoneChange(SelfServiceItem):
    name = "phone_change"

    def form_specs(self, item: Item, audience: str) -> list[Any] | None:
        return form_specs()

    def provided_online(self, material: Any, case: Any) -> bool:
        """The identity document: the real-name binding stands for it when the person files for themselves."""
        return not case.on_behalf

    def web_entry(self, item: Item) -> str | None:
        from flask import url_for

        return url_for("phone_change.start")

    def precheck(self, context: FilingContext) -> list[Finding]:
        findings = super().precheck(context)
        filer = getattr(context.case, "applicant_id", None)
        if context.data and _proof(context.data, filer) is None:
            findings.append(Finding(Severity.BLOCKING, _not_proven(), "phone_check"))
        return findings

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        proof = _proof(case.form_data, case.applicant_id)
        person, account = case.person, db.session.get(Account, case.applicant_id)
        if proof is None:
            raise EffectRefused(_not_proven())
        if person is None or case.on_behalf:
            raise EffectRefused(_("Only the insured person can change their own phone number online."))
        new = proof.phone
        if person.phone_index == proof.phone_index and account.phone_index == proof.phone_index:
            raise EffectRefused(_("This is already the number on record."))
        if _login_taken(new, account.id):
            raise EffectRefused(_("This number already logs in to another account of the service hall; it cannot "
                                  "become yours online. Please go to the service window."))
        old = person.phone
        ledger = Ledger()
        ledger.changed(person, phone=new, phone_index=proof.phone_index)
        ledger.changed(account, phone=new, phone_index=proof.phone_index, login_key=citizen_login_key(new))
        ledger.save(case, case.handler)
        if old and phone_index(old) != proof.phone_index:
            body = _("The phone number on record of your medical insurance was changed to %(phone)s (application "
                     "%(number)s). If you did not ask for this, call the service hall.", phone=mask_phone(new),
                     number=case.number)
            sms.get_gateway().send(old, "phone_changed", {"phone": mask_phone(new), "number": case.number or ""},
                                   business_id=f"phone-change-{case.id}", text=body)

    def revoke_effect(self, case: Any, reason: str) -> None:
        revert(case, reason)


# --- the online flow: a code to the new number, then the filing --------------------------------------------


def _phone(raw: str) -> str:
    try:
        return normalize_mobile(raw or "")
    except ValidationFailed as error:
        raise ValidationFailed([("phone", m) for _f, m in error.reasons]) from None


def request_code(account: Any, raw_phone: str, *, actor: Actor, client_ip: str) -> otp.IssuedCode:
    """Send a code to the new number. Refused when it is the number on record already or the login of another
    account; limited as login codes are (per IP, per phone)."""
    if getattr(account, "person", None) is None:
        raise PermissionDenied(_("Bind your real name first: the portal must know who you are before you file."))
    phone = _phone(raw_phone)
    if phone_index(phone) in {account.phone_index, account.person.phone_index}:
        raise ValidationFailed([("phone", _("This is already the number on record."))])
    if _login_taken(phone, account.id):
        raise ValidationFailed([("phone", _("This number already logs in to another account of the service hall; "
                                            "it cannot become yours online. Please go to the service window."))])
    account_ops.throttle("PORTAL_LIMIT_OTP_SEND_IP", client_ip)
    account_ops.throttle("PORTAL_LIMIT_OTP_SEND_PHONE", phone)
    issued = otp.issue(OtpPurpose.PHONE_CHANGE, phone)
    minutes = current_app.config["PORTAL_OTP_TTL_SECONDS"] // 60
    body = _("Your code to make this number your phone on record at the medical security service hall is "
             "%(code)s. It is valid for %(minutes)s minutes. Never tell it to anyone, including staff.",
             code=issued.code, minutes=minutes)
    sms.get_gateway().send(phone, "otp_phone_change", {"code": issued.code, "minutes": str(minutes)},
                           business_id=f"otp-{issued.challenge.id}", text=body)
    record("phone_change.code_sent", actor=actor, object_type="otp_challenge", object_id=issued.challenge.id,
           detail={"phone": mask_phone(phone), "account": account.id})
    return issued


def prove(handle: str | None, code: str, *, actor: Actor, client_ip: str) -> OtpChallenge:
    """Check the code typed back (a wrong one counts against the code and the IP, as at login)."""
    code = (code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        raise ValidationFailed([("code", _("The code has 6 digits."))])
    account_ops.throttle("PORTAL_LIMIT_OTP_VERIFY_IP", client_ip)
    challenge = otp.find_by_handle(handle) if handle else None
    if challenge is None or challenge.purpose != OtpPurpose.PHONE_CHANGE or not otp.check(challenge, code):
        record("phone_change.code_failed", actor=actor, object_type="otp_challenge",
               object_id=challenge.id if challenge else None, result="failed")
        raise AuthenticationFailed(_("The code is wrong or has expired. Check the text message, or ask for a new "
                                     "code."), code="wrong_code")
    return challenge


def file_change(account: Any, item: Item, challenge: OtpChallenge, handle: str, *, actor: Actor) -> Any:
    """File the change the proven code stands for; it completes at once (or the whole filing is refused)."""
    from ...applications import operations as case_ops

    case, _created = case_ops.resume_or_start(item, by=account, actor=actor)
    case_ops.save_draft(case, case_ops.DraftInput(form={PHONE_KEY: challenge.phone, CHECK_KEY: handle}),
                        by=account, actor=actor)
    return case_ops.submit_application(case, by=account, actor=actor)
