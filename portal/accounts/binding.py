"""Real-name binding: an account sees an insured person's records only once it has proven it is that person.

Name and 身份证 number alone never suffice: both leak widely. ``bind_real_name`` checks them against the records
(five wrong tries block the account for 24 hours), then:

- when the login phone is the person's phone on record (compared by blind index) the account is bound at once.
  This is also how an owner reclaims their record: a binding of another account to the person is ended, and a
  "不是我" lock is lifted, both audited;
- otherwise a *pending* binding is recorded and nothing of the person is visible until a stronger proof comes:
  face verification (``prove_by_face``), the 医保电子凭证 (``prove_by_ecredential``), both through the identity
  port, or a member of staff who saw the ID card at the window (``confirm_at_window``).

Whenever an account is bound to a person, the person's phone on record gets an SMS with a signed, single-use,
expiring "不是我" link (``disown``): it ends the binding, logs the account out everywhere and locks the person, so
that only the phone on record or the window binds them again. Attempts are limited per IP and per person (the
blind index of the 身份证), on top of the account's own count. Like every operation here: flush, never commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from flask import current_app
from flask_babel import force_locale
from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..core import clock
from ..core.audit import Actor, record
from ..core.crypto import sha256_hex
from ..core.db import db
from ..core.errors import DomainError, NotFound, PermissionDenied, RateLimited, ValidationFailed
from ..core.masking import mask_phone
from ..core.translation import gettext as _
from ..core.validators import normalize_id_number
from ..insurance.models import Person, id_number_index
from ..integrations import sms
from ..integrations.identity import IdentityProofError, ecredential_verifier, face_verifier
from .models import Account, AccountKind, BindingLock, BindingMethod, BindingStatus, PersonBinding
from .operations import _normalised, revoke_all, throttle

BIND_MAX_FAILURES = 5
BIND_BLOCK = timedelta(hours=24)
DEFAULT_LIMITS = {
    "PORTAL_LIMIT_BIND_IP": "10/hour;30/day",  # binding attempts (name + 身份证) from one address
    "PORTAL_LIMIT_BIND_PERSON": "10/hour;20/day",  # binding attempts naming one person, from anywhere
    "PORTAL_LIMIT_BIND_PROOF_IP": "10/hour",  # face / e-credential attempts from one address
    "PORTAL_LIMIT_BIND_PROOF_PERSON": "5/hour;10/day",  # ... for one person
    "PORTAL_LIMIT_DISOWN_IP": "20/hour",  # "不是我" links opened from one address
}
STRONG_PROOFS = (BindingMethod.FACE, BindingMethod.ECREDENTIAL, BindingMethod.WINDOW)
DISOWN_SALT = "portal.binding.disown"


@dataclass(frozen=True)
class RealNameBinding:
    name: str
    id_number: str


@dataclass(frozen=True)
class FaceProof:
    live_token: str  # from the provider's capture (the mini-program's face verification, or the H5 page)


@dataclass(frozen=True)
class ECredentialProof:
    code: str  # the 医保电子凭证 code shown by the 国家医保服务平台 app


def _limit(name: str, *keys: str) -> None:
    throttle(name, *keys, default=DEFAULT_LIMITS[name])


def pending_binding(account: Account) -> PersonBinding | None:
    """The account's binding that waits for a proof, if any."""
    return db.session.execute(select(PersonBinding).where(
        PersonBinding.account_id == account.id, PersonBinding.status == BindingStatus.PENDING)
        .order_by(PersonBinding.id.desc()).limit(1)).scalar_one_or_none()


def available_proofs() -> list[str]:
    """The proofs a pending binding can use here: face and e-credential when their port is on, always the window."""
    app = current_app._get_current_object()
    proofs = [BindingMethod.FACE.value] if face_verifier(app) is not None else []
    if ecredential_verifier(app) is not None:
        proofs.append(BindingMethod.ECREDENTIAL.value)
    return [*proofs, BindingMethod.WINDOW.value]


def is_locked(person: Person) -> bool:
    return db.session.get(BindingLock, person.id) is not None


def _check_citizen(account: Account) -> None:
    if account.kind != AccountKind.CITIZEN:
        raise PermissionDenied(_("Only personal accounts are bound to an insured person."))
    if account.person_id is not None:
        raise DomainError(_("This account is already bound to an insured person."), code="already_bound")


def bind_real_name(account: Account, data: RealNameBinding, *, actor: Actor,
                   client_ip: str | None = None) -> PersonBinding:
    """Check name + 身份证; bind at once when the login phone is the phone on record, else record a pending binding.

    Returns the binding: ``active`` (the account now sees the person) or ``pending`` (a proof is needed).
    """
    _check_citizen(account)
    now = clock.now()
    if account.bind_blocked_until is not None and now < account.bind_blocked_until:
        _refuse_blocked(account, actor)
    name = " ".join((data.name or "").split())
    if not name:
        raise ValidationFailed([("name", _("Enter your name as it is on your ID card."))])
    if len(name) > 64:
        raise ValidationFailed([("name", _("This name is too long."))])
    id_number = _normalised("id_number", normalize_id_number, data.id_number)
    index = id_number_index(id_number)
    if client_ip is not None:
        _limit("PORTAL_LIMIT_BIND_IP", client_ip)
    _limit("PORTAL_LIMIT_BIND_PERSON", index)
    if not _spend_try(account, now):
        _refuse_blocked(account, actor)
    person = db.session.execute(select(Person).where(Person.id_number_index == index)).scalar_one_or_none()
    if person is None or person.name != name:
        _count_failure(account, now, actor)
    earlier = pending_binding(account)
    if earlier is not None:
        earlier.status, earlier.ended_at, earlier.end_reason = BindingStatus.CANCELLED, now, "superseded"
    binding = PersonBinding(account=account, account_id=account.id, person=person, person_id=person.id,
                            status=BindingStatus.PENDING, created_at=now)
    db.session.add(binding)
    account.bind_failures = 0
    db.session.flush()
    if person.phone_index is not None and account.phone_index == person.phone_index:
        _activate(binding, BindingMethod.PHONE, actor=actor)
    else:
        record("bind.pending", actor=actor, object_type="person_binding", object_id=binding.id,
               detail={"person": person.id, "account": account.id, "locked": is_locked(person)})
        _notify_owner(binding, actor=actor)
    return binding


def _refuse_blocked(account: Account, actor: Actor) -> NoReturn:
    record("bind.failed", actor=actor, object_type="account", object_id=account.id, result="denied",
           detail={"reason": "blocked"})
    raise RateLimited(_("Too many wrong tries. You can try the real-name check again after 24 hours, or bring "
                        "your ID card to the service hall."), code="bind_blocked")


def _spend_try(account: Account, now) -> bool:
    """Spend one of the account's ``BIND_MAX_FAILURES`` tries before the records are consulted; False when none is
    left (blocked). A conditional statement on the account's row: tries sent at the same moment take the row in turn,
    and once one of them has used the last try up (and set the block), the others find the account blocked, so
    parallel tries never learn more than the limit allows. A right answer gives the tries back (``bind_failures``
    back to 0)."""
    spent = db.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.bind_failures < BIND_MAX_FAILURES,
               or_(Account.bind_blocked_until.is_(None), Account.bind_blocked_until <= now))
        .values(bind_failures=Account.bind_failures + 1).returning(Account.bind_failures),
        execution_options={"synchronize_session": False},
    ).scalar_one_or_none()
    if spent is None:
        return False
    set_committed_value(account, "bind_failures", spent)  # the database's count (the ORM would add 1 to ours)
    return True


def _count_failure(account: Account, now, actor: Actor) -> NoReturn:
    """A wrong try (already spent by ``_spend_try``): the last one blocks the account for ``BIND_BLOCK``."""
    left = BIND_MAX_FAILURES - account.bind_failures
    if left <= 0:
        account.bind_failures = 0
        account.bind_blocked_until = now + BIND_BLOCK
    db.session.flush()
    record("bind.failed", actor=actor, object_type="account", object_id=account.id, result="failed",
           detail={"tries_left": max(left, 0)})
    message = _("The name and ID card number do not match any insured person in our records. Check both "
                "(the name exactly as on the ID card).")
    if left > 0:
        message += " " + _("You have %(n)s tries left.", n=left)
    else:
        message += " " + _("You can try again after 24 hours.")
    raise ValidationFailed([(None, message)], message)


def cancel_binding(account: Account, *, actor: Actor) -> None:
    """Withdraw the account's pending binding (to bind another person, or because it was a mistake)."""
    binding = pending_binding(account)
    if binding is None:
        raise NotFound(_("No binding of this account is waiting for a proof."))
    binding.status, binding.ended_at, binding.end_reason = BindingStatus.CANCELLED, clock.now(), "withdrawn"
    db.session.flush()
    record("bind.cancelled", actor=actor, object_type="person_binding", object_id=binding.id)


# --- proofs ---------------------------------------------------------------------------------------------------


def _pending_for_proof(account: Account, client_ip: str) -> PersonBinding:
    _check_citizen(account)
    binding = pending_binding(account)
    if binding is None:
        raise NotFound(_("No binding of this account is waiting for a proof. Enter your name and ID card number "
                         "first."))
    _limit("PORTAL_LIMIT_BIND_PROOF_IP", client_ip)
    _limit("PORTAL_LIMIT_BIND_PROOF_PERSON", binding.person.id_number_index)
    if is_locked(binding.person):
        record("bind.proof_failed", actor=Actor.system(), object_type="person_binding", object_id=binding.id,
               result="denied", detail={"reason": "locked"})
        raise DomainError(_("The owner of these records reported a binding that was not theirs, so they are locked. "
                            "Log in with the mobile number on record, or bring your ID card to the service hall."),
                          code="binding_locked")
    return binding


def _proof_failed(binding: PersonBinding, method: BindingMethod, actor: Actor, message: str, **detail) -> None:
    record("bind.proof_failed", actor=actor, object_type="person_binding", object_id=binding.id, result="failed",
           detail={"method": method.value, **detail})
    raise ValidationFailed([(None, message)], message)


def prove_by_face(account: Account, data: FaceProof, *, actor: Actor, client_ip: str) -> PersonBinding:
    """Finish a pending binding with face verification: the live face must be the person's, above the threshold."""
    binding = _pending_for_proof(account, client_ip)
    token = (data.live_token or "").strip()
    if not token or len(token) > 512 or not token.isprintable():
        raise ValidationFailed([("live_token", _("The face verification did not finish. Please start it again."))])
    verifier = face_verifier(current_app._get_current_object())
    if verifier is None:
        raise IdentityProofError("disabled")
    person = binding.person
    verdict = verifier.verify(person.name, person.id_number, token)
    if not verdict.passed or verdict.score < current_app.config["PORTAL_FACE_MIN_SCORE"]:
        _proof_failed(binding, BindingMethod.FACE, actor,
                      _("The face verification did not confirm that you are this person. You can try again, or "
                        "bring your ID card to the service hall."), score=verdict.score)
    _activate(binding, BindingMethod.FACE, actor=actor)
    return binding


def prove_by_ecredential(account: Account, data: ECredentialProof, *, actor: Actor, client_ip: str) -> PersonBinding:
    """Finish a pending binding with the 医保电子凭证: its holder must be the person, and it must be valid today."""
    binding = _pending_for_proof(account, client_ip)
    code = (data.code or "").strip()
    if not code or len(code) > 512 or not code.isprintable():
        raise ValidationFailed([("code", _("Enter the code of your medical insurance e-credential."))])
    verifier = ecredential_verifier(current_app._get_current_object())
    if verifier is None:
        raise IdentityProofError("disabled")
    credential = verifier.verify(code)
    person = binding.person
    try:
        same = id_number_index(normalize_id_number(credential.id_number)) == person.id_number_index
    except ValidationFailed:
        same = False
    valid = credential.valid_until is None or credential.valid_until >= clock.today()
    if not (same and credential.name == person.name and valid):
        _proof_failed(binding, BindingMethod.ECREDENTIAL, actor,
                      _("This e-credential is not this person's, or it is no longer valid."),
                      reason="expired" if same and not valid else "other holder")
    _activate(binding, BindingMethod.ECREDENTIAL, actor=actor)
    return binding


def pending_at_window(limit: int = 100) -> list[PersonBinding]:
    """Pending bindings, oldest first, for the window screen of the workbench."""
    return list(db.session.execute(select(PersonBinding).where(PersonBinding.status == BindingStatus.PENDING)
                                   .order_by(PersonBinding.id).limit(limit)).scalars())


def confirm_at_window(binding: PersonBinding, id_number: str, *, by: Account, actor: Actor) -> None:
    """A member of staff, holding the person's ID card, confirms a pending binding. They type the number from the
    card, which must be the person's; nobody confirms a binding to themselves (S7)."""
    if binding.status != BindingStatus.PENDING:
        raise DomainError(_("This binding request is no longer waiting."), code="binding_not_pending")
    try:
        index = id_number_index(normalize_id_number(id_number))
    except ValidationFailed as exc:
        raise ValidationFailed([("id_number", msg) for _f, msg in exc.reasons]) from None
    if index != binding.person.id_number_index:
        record("bind.window_mismatch", actor=actor, object_type="person_binding", object_id=binding.id,
               result="failed")
        raise ValidationFailed([("id_number", _("This number is not the one of the person in the request. Check the "
                                                "ID card."))])
    if by.staff_id_index is not None and by.staff_id_index == binding.person.id_number_index:
        raise PermissionDenied(_("You cannot confirm a binding to yourself. Ask a colleague."))
    _activate(binding, BindingMethod.WINDOW, actor=actor, decided_by=by)


def refuse_at_window(binding: PersonBinding, *, by: Account, actor: Actor) -> None:
    if binding.status != BindingStatus.PENDING:
        raise DomainError(_("This binding request is no longer waiting."), code="binding_not_pending")
    binding.status, binding.ended_at, binding.end_reason = BindingStatus.CANCELLED, clock.now(), "refused"
    binding.decided_by_id = by.id
    db.session.flush()
    record("bind.window_refused", actor=actor, object_type="person_binding", object_id=binding.id,
           detail={"person": binding.person_id, "account": binding.account_id})


# --- activation, the owner's notice and "不是我" ----------------------------------------------------------------


def _end(binding: PersonBinding, reason: str, *, actor: Actor) -> None:
    account = binding.account
    binding.status, binding.ended_at, binding.end_reason = BindingStatus.ENDED, clock.now(), reason
    binding.disown_nonce_hash = None
    if account.person_id == binding.person_id:
        account.person = None
        account.person_id = None
    db.session.flush()
    record("bind.ended", actor=actor, object_type="person_binding", object_id=binding.id,
           detail={"reason": reason, "person": binding.person_id, "account": account.id})


def _activate(binding: PersonBinding, method: BindingMethod, *, actor: Actor, decided_by: Account | None = None):
    person, account, now = binding.person, binding.account, clock.now()
    reason = "reclaimed" if method == BindingMethod.PHONE else "taken over"
    for other in db.session.execute(select(PersonBinding).where(
            PersonBinding.person_id == person.id, PersonBinding.status == BindingStatus.ACTIVE)).scalars().all():
        _end(other, reason, actor=actor)
        revoke_all(other.account, reason="binding ended")
    holder = db.session.execute(select(Account).where(Account.person_id == person.id)).scalar_one_or_none()
    if holder is not None:  # a binding made before bindings were recorded
        holder.person = None
        holder.person_id = None
        db.session.flush()
        record("bind.ended", actor=actor, object_type="account", object_id=holder.id,
               detail={"reason": reason, "person": person.id})
    if method in (BindingMethod.PHONE, BindingMethod.WINDOW):
        lock = db.session.get(BindingLock, person.id)
        if lock is not None:
            db.session.delete(lock)
            record("bind.unlocked", actor=actor, object_type="person", object_id=person.id,
                   detail={"method": method.value})
    binding.status, binding.method, binding.proven_at = BindingStatus.ACTIVE, method.value, now
    binding.decided_by_id = decided_by.id if decided_by else None
    account.person = person
    account.person_id = person.id
    account.display_name = person.name
    account.bind_failures = 0
    db.session.flush()
    record("bind.ok", actor=actor, object_type="person", object_id=person.id,
           detail={"account": account.id, "binding": binding.id, "method": method.value})
    _notify_owner(binding, actor=actor)


class _ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _signer() -> _ClockSigner:
    return _ClockSigner(current_app.config["SECRET_KEY"], salt=DISOWN_SALT)


def _notify_owner(binding: PersonBinding, *, actor: Actor) -> None:
    """Tell the person, on their phone on record, that an account asked to be bound to them (pending) or was bound
    to them (active), with a "不是我" link that refuses or ends it.

    This is the one place binding sends a text: through the accounts SMS gateway, in the default language.
    A gateway refusal refuses the binding (raised): nobody is bound without the owner being told.
    """
    person = binding.person
    if not person.phone:
        record("bind.owner_not_notified", actor=actor, object_type="person_binding", object_id=binding.id,
               result="failed", detail={"reason": "no phone on record"})
        return
    nonce = secrets.token_urlsafe(12)
    binding.disown_nonce_hash = sha256_hex(nonce)
    token = _signer().sign(f"{binding.id}.{nonce}").decode()
    link = f"{current_app.config['PORTAL_BASE_URL']}/b/{token}"
    phone = mask_phone(binding.account.phone)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        if binding.status == BindingStatus.ACTIVE:
            body = _("Your medical insurance records were just bound to the account of mobile %(phone)s. If this was "
                     "not you, tap %(link)s to undo it and lock your records.", phone=phone, link=link)
        else:
            body = _("Someone asked to bind your medical insurance records to the account of mobile %(phone)s; it is "
                     "not done until they prove it is you. If this was not you, tap %(link)s to refuse it and lock "
                     "your records.", phone=phone, link=link)
    template = "binding_active" if binding.status == BindingStatus.ACTIVE else "binding_pending"
    try:
        sms.get_gateway().send(person.phone, template, {"phone": phone, "link": link}, text=body,
                               business_id=f"binding-{binding.id}-{nonce[:6]}")
    except sms.SmsError as error:  # the binding stands or waits as decided; the failed notice is on record
        record("bind.owner_notice_failed", actor=actor, object_type="person_binding", object_id=binding.id,
               result="failed", detail={"reason": error.reason})
        db.session.flush()
        return
    db.session.flush()
    record("bind.owner_notified", actor=actor, object_type="person_binding", object_id=binding.id,
           detail={"phone": mask_phone(person.phone), "status": binding.status})


def binding_of_link(token: str) -> PersonBinding:
    """The pending or active binding a "不是我" link names; one NotFound for a bad, expired, used or ended link."""
    gone = NotFound(_("This link has expired or has already been used. If your records were bound to an account "
                      "that is not yours, log in with your mobile number, or call the service hall."))
    max_age = current_app.config["PORTAL_BINDING_DISOWN_DAYS"] * 86400
    try:
        value = _signer().unsign((token or "")[:200], max_age=max_age).decode()
    except (BadSignature, UnicodeDecodeError):
        raise gone from None
    binding_id, _dot, nonce = value.partition(".")
    binding = db.session.get(PersonBinding, int(binding_id)) if binding_id.isdigit() else None
    live = (BindingStatus.PENDING, BindingStatus.ACTIVE)
    if (binding is None or binding.status not in live or binding.disown_nonce_hash is None
            or binding.disown_nonce_hash != sha256_hex(nonce)):
        raise gone
    return binding


def disown(token: str, *, actor: Actor, client_ip: str) -> PersonBinding:
    """"不是我": refuse the pending binding the link names, or end the active one and log its account out everywhere;
    lock the person until the owner binds from the phone on record (or at the window). The link works once."""
    _limit("PORTAL_LIMIT_DISOWN_IP", client_ip)
    binding = binding_of_link(token)
    if binding.status == BindingStatus.ACTIVE:
        _end(binding, "disowned", actor=actor)
        revoke_all(binding.account, reason="binding disowned")
    else:
        binding.status, binding.ended_at, binding.end_reason = BindingStatus.CANCELLED, clock.now(), "disowned"
        binding.disown_nonce_hash = None
    if db.session.get(BindingLock, binding.person_id) is None:
        db.session.add(BindingLock(person_id=binding.person_id, locked_at=clock.now(), binding_id=binding.id))
    db.session.flush()
    record("bind.disowned", actor=actor, object_type="person_binding", object_id=binding.id, result="ok",
           detail={"person": binding.person_id, "account": binding.account_id})
    return binding
