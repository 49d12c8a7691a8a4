"""``/api/v1/certificates``: the certificates pages as JSON for the mini-program, and the public verification.

The same operations as the pages (views.py). A certificate of another person or unit answers 404 (S6).
"""

from __future__ import annotations

import re

from flask import request
from pydantic import BaseModel, ConfigDict, Field

from ..api import current_account, endpoint
from ..core.audit import actor_of
from ..core.db import db
from ..core.downloads import file_response
from ..core.errors import NotFound
from ..core.translation import gettext as _
from ..extensions import client_ip
from . import documents, operations, verification
from .constants import CertificateKind
from .models import Certificate

TAGS = ("certificates",)
MAX_ID = 2**31 - 1
KEY_RE = re.compile(r"^[\x21-\x7e]{8,52}$")  # an optional Idempotency-Key header: a repeat issues one certificate


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: CertificateKind = Field(description="person_voucher, person_proof or unit_proof")


def _out(certificate: Certificate) -> dict:
    return {"id": certificate.id, "kind": certificate.kind, "label": certificate.kind_enum.label,
            "number": certificate.number, "status": certificate.status, "issued_at": certificate.issued_at.isoformat(),
            "application_id": certificate.application_id,
            "verification_code": documents.codes.grouped(certificate.code),
            "verify_url": documents.verify_url(certificate.code)}


def _mine(certificate_id: int) -> Certificate:
    if not 0 < certificate_id <= MAX_ID:
        raise NotFound(_("No such certificate."))
    return operations.get_certificate(certificate_id, for_account=current_account())


@endpoint("/certificates", summary="My certificates (the person's or the unit's), newest first", tags=TAGS,
          errors=(401,))
def list_certificates() -> dict:
    account = current_account()
    return {"items": [_out(c) for c in operations.certificates_of(account)],
            "available": [k.value for k in operations.items_for(account)]}


@endpoint("/certificates", method="POST", summary="Request a certificate: files and submits the catalog item that "
          "issues it; completes at once when its rules pass (an Idempotency-Key header makes a repeat issue one)",
          tags=TAGS, body=RequestIn, status=201, errors=(401, 404, 409, 415, 422))
def request_certificate(body: RequestIn) -> dict:
    account = current_account()
    key = request.headers.get("Idempotency-Key", "")
    try:
        case = operations.request_certificate(body.kind, by=account, actor=actor_of(account),
                                              idempotency_key=f"certificate-{key}" if KEY_RE.match(key) else None)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    issued = operations.issued_by(case)
    return {"application_id": case.id, "application_number": case.number, "state": case.state,
            "certificate": _out(issued) if issued else None}


@endpoint("/certificates/<int:certificate_id>", summary="One certificate with what it states (masked)", tags=TAGS,
          errors=(401, 404))
def get_certificate(certificate_id: int) -> dict:
    certificate = _mine(certificate_id)
    context = documents.certificate_context(certificate)
    return {**_out(certificate), "title": context["title"],
            "blocks": [{"heading": b.heading, "rows": [{"label": k, "value": v} for k, v in b.rows]}
                       for b in context["blocks"]]}


@endpoint("/certificates/<int:certificate_id>/pdf", summary="The certificate as a PAdES-signed PDF", tags=TAGS,
          errors=(401, 404))
def certificate_pdf(certificate_id: int):
    certificate = _mine(certificate_id)
    return file_response(documents.render_certificate_pdf(certificate), mimetype="application/pdf",
                         filename=f"{certificate.kind}-{certificate.year}-{certificate.serial:04d}.pdf")


@endpoint("/certificates/verify/<code>", summary="Public verification of a certificate by its code (masked data)",
          tags=TAGS, auth=False, errors=(404, 429))
def verify_certificate(code: str) -> dict:
    result = verification.verify(code, client_ip=client_ip())
    if result is None:
        raise NotFound(_("No certificate has this verification code."))
    return {"authentic": True, "status": result.status.value, "status_label": result.status.label,
            "kind": result.kind.value, "number": result.number, "issued_at": result.issued_at.isoformat(),
            "issuer": result.issuer, "holder": result.holder, "id_number": result.id_number,
            "facts": [{"label": k, "value": v} for k, v in result.facts],
            "superseded_by": result.successor_number,
            "revoked_at": result.revoked_at.isoformat() if result.revoked_at else None}
