"""Issuing, finding, superseding and revoking certificates.

A certificate is issued only as the effect of a completed case of one of the catalog's certificate items
(``portal/services/certificates.py`` calls ``issue_for_case`` from ``apply_effect``, inside the transaction
that completes the case), so every certificate has a case, a receipt and a place in "my applications".
``request_certificate`` is the one-click path of the certificates page: it files that case and submits it.
Issuing a new certificate of a kind supersedes the holder's previous valid one of that kind.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..applications import operations as case_ops
from ..applications.constants import State
from ..applications.models import Application
from ..catalog.schema import Item
from ..core import clock
from ..core.audit import Actor, record
from ..core.db import db
from ..core.errors import NotFound, ValidationFailed
from ..core.translation import gettext as _
from . import codes, facts
from .constants import KIND_OF_HANDLER, CertificateKind, CertificateStatus
from .models import Certificate

MAX_NUMBER_ATTEMPTS = 5


def province_name() -> str:
    return facts.region().province.zh


def format_number(pool: str, year: int, serial: int) -> str:
    """凭证号 as the seed prints its pattern: ``(省份)(统筹区)(年份)(第XXXX号)``."""
    return f"({province_name()})({pool})({year})(第{serial:04d}号)"


def _next_serial(pool: str, year: int) -> int:
    last = db.session.execute(
        select(func.max(Certificate.serial)).where(Certificate.pool_code == pool, Certificate.year == year)
    ).scalar()
    return (last or 0) + 1


def issue_for_case(case: Application, kind: CertificateKind) -> Certificate:
    """Create the certificate a completed ``case`` asks for, from the records as they stand now.

    Raises ``ValidationFailed`` when the case names no holder the records know (then the case does not
    complete). The number is the next of its pooling area and year; two issues racing for it are told
    apart by the unique constraint, and the loser takes the next number inside a savepoint.
    """
    person, unit = (None, case.unit) if kind.is_for_unit else (case.person, None)
    if person is None and unit is None:
        raise ValidationFailed([(None, _("The insurance records hold no such person, so no certificate can be "
                                         "issued."))])
    stated = facts.facts_for(kind, person=person, unit=unit)
    pool, year = facts.pool_code(person, unit), clock.today().year
    for _attempt in range(MAX_NUMBER_ATTEMPTS):
        serial = _next_serial(pool, year)
        code = codes.new_code()
        certificate = Certificate(
            kind=kind.value, number=format_number(pool, year, serial), pool_code=pool, year=year, serial=serial,
            code=code, code_index=codes.code_index(code), application_id=case.id,
            person_id=person.id if person else None, unit_id=unit.id if unit else None,
            region=current_app.config["PORTAL_REGION"], issued_at=clock.now(),
        )
        certificate.facts = stated
        try:
            with db.session.begin_nested():  # a number taken meanwhile rolls back this savepoint only
                db.session.add(certificate)
        except IntegrityError:
            continue
        _supersede_previous(certificate)
        record("certificate.issue", actor=Actor.system(), object_type="certificate", object_id=certificate.id,
               detail={"kind": kind.value, "number": certificate.number, "case": case.number})
        return certificate
    raise ValidationFailed([(None, _("Could not number the certificate; please try again."))])


def _supersede_previous(certificate: Certificate) -> None:
    holder = (Certificate.unit_id == certificate.unit_id) if certificate.unit_id else (
        Certificate.person_id == certificate.person_id)
    older = db.session.execute(
        select(Certificate).where(holder, Certificate.kind == certificate.kind, Certificate.id != certificate.id,
                                  Certificate.status == CertificateStatus.VALID.value)
    ).scalars().all()
    for previous in older:
        previous.status = CertificateStatus.SUPERSEDED.value
        previous.superseded_by_id = certificate.id
    db.session.flush()


def revoke_certificate(certificate: Certificate, reason: str, *, actor: Actor) -> None:
    """The agency withdraws a certificate; its verification page says so from then on."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([("reason", _("Give the reason for revoking the certificate."))])
    certificate.status = CertificateStatus.REVOKED.value
    certificate.revoked_at = clock.now()
    certificate.revoke_reason = reason[:500]
    db.session.flush()
    record("certificate.revoke", actor=actor, object_type="certificate", object_id=certificate.id,
           detail={"number": certificate.number})


# --- finding -------------------------------------------------------------------------------------------


def find_by_code(raw: str | None) -> Certificate | None:
    """The certificate whose verification code was typed or scanned; None for anything else."""
    code = codes.normalise(raw)
    if code is None:
        return None
    return db.session.execute(select(Certificate).where(Certificate.code_index == codes.code_index(code))
                              ).scalar_one_or_none()


def _holder_filter(account: Any):
    from sqlalchemy import and_, false

    from ..accounts.models import AccountKind

    if account.kind == AccountKind.CITIZEN and account.person_id is not None:
        return Certificate.person_id == account.person_id
    if account.kind == AccountKind.AGENT and account.unit_id is not None:
        from ..organisations.permissions import case_filter, restricted

        if not restricted(account):
            return Certificate.unit_id == account.unit_id
        # an agent limited to some items sees the certificates of the cases of those items only
        return and_(Certificate.unit_id == account.unit_id, Certificate.application_id.in_(
            select(Application.id).where(case_filter(account, Application.item_code))))
    return false()


def certificates_of(account: Any, *, limit: int = 50) -> list[Certificate]:
    """The certificates of the account's person or unit, newest first."""
    return list(db.session.execute(
        select(Certificate).where(_holder_filter(account)).order_by(Certificate.issued_at.desc(),
                                                                    Certificate.id.desc()).limit(limit)
    ).scalars())


def get_certificate(certificate_id: int, *, for_account: Any) -> Certificate:
    """A certificate of the account's person or unit; ``NotFound`` for any other (S6)."""
    found = db.session.execute(
        select(Certificate).where(Certificate.id == certificate_id, _holder_filter(for_account))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_("No such certificate."))
    return found


def certificate_of_case(case: Application) -> Certificate | None:
    return db.session.execute(select(Certificate).where(Certificate.application_id == case.id)).scalar_one_or_none()


# --- the one-click path ------------------------------------------------------------------------------------


def items_for(account: Any) -> dict[CertificateKind, Item]:
    """The region's certificate items this account may file, by kind (the first item of each kind)."""
    from ..applications.permissions import cannot_file

    catalog = current_app.extensions["portal_catalog"]
    found: dict[CertificateKind, Item] = {}
    for item in catalog.items:
        kind = KIND_OF_HANDLER.get(item.handler)
        if kind is not None and kind not in found and not cannot_file(account, item):
            found[kind] = item
    return found


def request_certificate(kind: CertificateKind, *, by: Any, actor: Actor, idempotency_key: str | None = None,
                        ) -> Application:
    """File and submit the region's item that issues ``kind`` for the account itself.

    Online, the account's real-name binding (or the unit agent's login) stands for the identity documents
    the seed asks for at the window (see ``CertificateItem.provided_online``), so nothing needs filling in.
    Raises ``NotFound`` when the region has no such item for this account. With ``idempotency_key``, a
    request repeated with the same key returns the case the first one made (S19).
    """
    item = items_for(by).get(kind)
    if item is None:
        raise NotFound(_("This certificate cannot be requested online here."))
    if idempotency_key:  # the same request again (a double press): the case it made, not a second certificate
        earlier = db.session.execute(select(Application).where(
            Application.applicant_id == by.id, Application.idempotency_key == idempotency_key)).scalar_one_or_none()
        if earlier is not None and earlier.item_code == item.code:
            return earlier
    case = case_ops.start_application(item, by=by, actor=actor)
    case_ops.submit_application(case, by=by, actor=actor, idempotency_key=idempotency_key)
    return case


def issued_by(case: Application) -> Certificate | None:
    """The certificate a completed case issued, if any."""
    if case.state not in (State.COMPLETED.value, State.DELIVERED.value):
        return None
    return certificate_of_case(case)
