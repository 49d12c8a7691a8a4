"""Signing a commitment, checking a signature later, and purging signatures past their retention.

``commitment_hash`` is the one definition of what a signature covers: the text version and its exact
words, the data filed with it, the name typed and the time of signing, serialised as canonical JSON (keys
sorted, no insignificant whitespace, UTF-8) and hashed with SHA-256. Changing any word of the text or any
field of the data changes the hash; ``verify_signature`` recomputes it from what is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..core import clock
from ..core.audit import Actor, record
from ..core.crypto import sha256_hex
from ..core.db import db
from ..core.errors import Conflict, PermissionDenied, ValidationFailed
from ..core.translation import gettext as _
from .models import CommitmentSignature, CommitmentTextRecord
from .texts import CommitmentText

MIN_RETENTION_YEARS = 2  # S17 and seed 000 附件1: "两年内不得销毁"


@dataclass(frozen=True)
class SignatureInput:
    """What the signer does: tick the explicit consent and type their full name."""

    consent: bool
    typed_name: str


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and UTF-8 text: the same data always gives the same bytes."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def commitment_hash(*, version: str, body: str, data: dict[str, Any], signed_name: str, signed_at: datetime) -> str:
    """SHA-256 (hex) over the text version and words, the filed data, the typed name and the time of signing."""
    payload = {"commitment": {"version": version, "text": body}, "data": data,
               "signer": signed_name, "signed_at": signed_at.isoformat()}
    return sha256_hex(canonical_json(payload))


def retention_years() -> int:
    """How long signatures are kept: the configured years, never less than two (S17)."""
    years = int(current_app.config.get("PORTAL_COMMITMENT_RETENTION_YEARS", MIN_RETENTION_YEARS))
    return max(years, MIN_RETENTION_YEARS)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def text_record(text: CommitmentText) -> CommitmentTextRecord:
    """The stored row of ``text``'s version, created on first use. A version whose stored words differ from
    the code's is refused: published words are never edited, a new wording needs a new version."""
    row = db.session.execute(
        select(CommitmentTextRecord).where(CommitmentTextRecord.version == text.version)).scalar_one_or_none()
    if row is None:
        row = CommitmentTextRecord(region=text.region, purpose=text.purpose, version=text.version, title=text.title,
                                   body=text.body, body_sha256=sha256_hex(text.body))
        try:
            with db.session.begin_nested():  # two first signatures at once: the second one reads the first's row
                db.session.add(row)
        except IntegrityError:
            row = db.session.execute(
                select(CommitmentTextRecord).where(CommitmentTextRecord.version == text.version)).scalar_one()
    if row.body != text.body:
        raise Conflict(_("The commitment text of version %(version)s has changed since it was published; it cannot "
                         "be signed until it has a new version.", version=text.version), code="commitment_text_changed")
    return row


def _normalised_name(name: str) -> str:
    return "".join((name or "").split())


def sign_commitment(text: CommitmentText, data: dict[str, Any], signature: SignatureInput, *, by: Any,
                    actor: Actor, application: Any = None) -> CommitmentSignature:
    """Sign ``text`` over ``data`` as the logged-in, real-name-bound ``by``.

    Refused without the explicit consent, or when the typed name is not the full name on the records (the
    applicant reads which). Flushes, writes an audit row (no personal data), never commits.
    """
    person = getattr(by, "person", None)
    if person is None:
        raise PermissionDenied(_("Bind your real name first: only the insured person can sign a commitment."))
    reasons: list[tuple[str | None, str]] = []
    if signature.consent is not True:
        reasons.append(("commitment_consent", _("Tick the box to confirm that you make this commitment.")))
    typed = _normalised_name(signature.typed_name)
    if not typed:
        reasons.append(("signed_name", _("Type your full name to sign the commitment.")))
    elif typed != _normalised_name(person.name):
        reasons.append(("signed_name", _("The name you typed is not the full name on your insurance record. "
                                         "Type your full name exactly as on your ID card.")))
    if reasons:
        raise ValidationFailed(reasons)
    row = text_record(text)
    now = clock.now()
    signed_on = clock.to_local(now).date()
    digest = commitment_hash(version=text.version, body=text.body, data=data, signed_name=typed, signed_at=now)
    signed = CommitmentSignature(
        text=row, text_id=row.id, person_id=person.id, account_id=getattr(by, "id", None),
        application_id=getattr(application, "id", None), consent=True, signed_name=typed, signed_at=now,
        signed_on=signed_on, data_json=canonical_json(data), hash=digest,
        retain_until=_add_years(signed_on, retention_years()),
    )
    db.session.add(signed)
    db.session.flush()
    record("commitment.sign", actor=actor, object_type="commitment_signature", object_id=signed.id,
           detail={"version": text.version, "hash": digest, "application": getattr(application, "id", None)})
    return signed


def verify_signature(signature: CommitmentSignature) -> list[str]:
    """What no longer matches (translated), or [] when the stored text and signature still match.

    The stored words must still give their stored SHA-256, and the signature's hash must still be the hash of
    the stored words, data, name and time.
    """
    problems: list[str] = []
    text = signature.text
    if sha256_hex(text.body) != text.body_sha256:
        problems.append(_("The stored commitment text has changed since it was signed."))
    data = json.loads(signature.data_json)
    expected = commitment_hash(version=text.version, body=text.body, data=data, signed_name=signature.signed_name,
                               signed_at=_aware(signature.signed_at))
    if expected != signature.hash:
        problems.append(_("The signed data or text no longer gives the hash printed on the record."))
    return problems


def _aware(moment: datetime) -> datetime:
    """Stored times come back naive on SQLite; they were stored in UTC."""
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def signature_for(application_id: int) -> CommitmentSignature | None:
    """The newest commitment signed with a case, if any."""
    return db.session.execute(
        select(CommitmentSignature).where(CommitmentSignature.application_id == application_id)
        .order_by(CommitmentSignature.id.desc()).limit(1)).scalar_one_or_none()


def purge_expired_signatures(*, actor: Actor, today: date | None = None) -> int:
    """Delete signatures whose retention has ended (``retain_until`` before today); returns how many.

    Nothing younger than the retention period is ever deleted, whatever happened to its case.
    """
    today = today or clock.today()
    ids = list(db.session.execute(
        select(CommitmentSignature.id).where(CommitmentSignature.retain_until < today)).scalars())
    if ids:
        db.session.execute(delete(CommitmentSignature).where(CommitmentSignature.id.in_(ids)))
        db.session.flush()
    record("commitment.purge", actor=actor, object_type="commitment_signature", detail={"count": len(ids)})
    return len(ids)
