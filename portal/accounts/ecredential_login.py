"""Logging in with the 医保电子凭证 (the national medical-insurance e-credential), beside SMS.

The citizen shows the credential's QR code (or types its code); the identity port resolves it through its issuer
(``integrations.identity.ecredential_verifier``: the HTTP adapter in production). The holder it names must be an insured
person on this area's records with a phone on record: the citizen account of that phone is the one logged in (made at
the first login, as an SMS login makes it), and it is bound to the person at once — the credential is the real-name
proof, so nobody types an ID number. Attempts are limited per IP and a code logs in once; a failure says what to do
instead and never says whether a person is insured here (S6), and nothing of the credential reaches a log line
(S14).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..core import clock
from ..core.audit import Actor, actor_of, record
from ..core.crypto import blind_index
from ..core.db import db
from ..core.errors import AuthenticationFailed, ValidationFailed
from ..core.translation import gettext as _
from ..core.validators import normalize_id_number
from ..insurance.models import Person, id_number_index
from ..integrations.identity import IdentityProofError, ecredential_verifier
from . import binding as binding_ops
from .models import Account, ECredentialUse
from .operations import citizen_account, throttle

REPLAY_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class ECredentialLogin:
    code: str


def _refused() -> AuthenticationFailed:
    return AuthenticationFailed(_("This e-credential cannot log you in here. Log in with your mobile number and an "
                                  "SMS code instead, or bring your ID card to the service hall."),
                                code="ecredential_refused")


def _first_use(code: str) -> bool:
    """Whether this is the first login with ``code`` here in the last day. The credential's QR code is shown at
    counters and pharmacies; whatever the issuer does, this service's own choice is that a code logs in once, so a
    code read off a screen or a log cannot be replayed. Kept in the database (``ECredentialUse``, by the code's keyed
    hash only): it holds whether or not requests are rate-limited, and in every worker at once; of two simultaneous
    logins with one code, the unique hash lets one through. Uses older than the window are forgotten here."""
    now = clock.now()
    db.session.execute(delete(ECredentialUse).where(ECredentialUse.used_at < now - REPLAY_WINDOW))
    try:
        with db.session.begin_nested():
            db.session.add(ECredentialUse(code_index=blind_index(code, "ecredential.code"), used_at=now))
    except IntegrityError:
        return False
    return True


def login_with_ecredential(data: ECredentialLogin, *, actor: Actor, client_ip: str) -> Account:
    """Resolve the credential, find its holder on the records, log in the account of the holder's phone on record
    and bind it to the holder. Raises ValidationFailed (no code), IdentityProofError (the issuer said no or could not
    be asked) or AuthenticationFailed (a holder this area cannot log in)."""
    code = (data.code or "").strip()
    if not code or len(code) > 512 or not code.isprintable():
        raise ValidationFailed([("code", _("Enter the code of your medical insurance e-credential."))])
    throttle("PORTAL_LIMIT_OTP_VERIFY_IP", client_ip)
    verifier = ecredential_verifier(current_app._get_current_object())
    if verifier is None:
        raise IdentityProofError("disabled")
    credential = verifier.verify(code)
    if not _first_use(code):
        record("login.failed", actor=actor, result="failed", detail={"method": "ecredential", "reason": "replayed"})
        raise _refused()
    try:
        index = id_number_index(normalize_id_number(credential.id_number))
    except ValidationFailed:
        index = None
    person = db.session.execute(select(Person).where(Person.id_number_index == index)).scalar_one_or_none() \
        if index else None
    valid = credential.valid_until is None or credential.valid_until >= clock.today()
    if person is None or person.name != credential.name or not valid or not person.phone:
        record("login.failed", actor=actor, result="failed",
               detail={"method": "ecredential", "reason": "expired" if person is not None and not valid
                       else "no phone on record" if person is not None and not person.phone else "not insured here"})
        raise _refused()
    account = citizen_account(person.phone, actor=actor)
    if account.person_id is not None and account.person_id != person.id:
        record("login.failed", actor=actor, object_type="account", object_id=account.id, result="failed",
               detail={"method": "ecredential", "reason": "phone bound to another person"})
        raise _refused()
    if account.person_id is None:
        binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number),
                                   actor=actor_of(account), client_ip=client_ip)
    account.last_login_at = clock.now()
    db.session.flush()
    record("login.ok", actor=actor_of(account), object_type="account", object_id=account.id,
           detail={"method": "ecredential"})
    return account
