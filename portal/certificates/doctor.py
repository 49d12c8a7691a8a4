"""The doctor's check of certificates: every issued certificate still opens and verifies.

A certificate's PDF is drawn and signed when it is downloaded, from the sealed record; so what must hold for every
certificate is its record: the sealed code and facts open under the loaded field keys, and the code's blind index
is the one the public verification page looks up (a wrong blind-index key makes every genuine certificate
"not found"). The agency's signature is then proven once, the way every download makes it: the newest certificate
is drawn, signed with the configured key and validated against the configured certificate and chain.
"""

from __future__ import annotations

import io

from flask import current_app
from sqlalchemy import Text, select, type_coerce

from ..core.crypto import KeyError_, keyring
from ..core.db import db
from ..core.doctor import Outcome, check, listed
from . import codes, signing
from .models import Certificate

TABLE = Certificate.__table__


@check("certificates", "every certificate's record opens and its verification code is found; the signature "
                       "of a freshly signed certificate validates against the configured certificate")
def certificates_verify() -> Outcome:
    # raw columns: each sealed value is opened here, so one that does not open is named instead of failing the query
    query = select(TABLE.c.id, TABLE.c.number, type_coerce(TABLE.c.code, Text).label("code"), TABLE.c.code_index,
                   type_coerce(TABLE.c.facts_json, Text).label("facts_json")).order_by(TABLE.c.id)
    problems, checked, newest = [], 0, None
    for row in db.session.execute(query):
        checked += 1
        try:
            code = keyring().open(row.code, "certificate.code")
            keyring().open(row.facts_json, "certificate.facts")
        except KeyError_ as exc:
            problems.append(f"certificate {row.number} (id {row.id}): sealed record does not open: {exc}")
            continue
        if codes.code_index(code) != row.code_index:
            problems.append(f"certificate {row.number} (id {row.id}): its verification code is no longer found "
                            "(blind-index key differs from the one that issued it)")
            continue
        newest = row.id
    signature = _signature_problem(newest)
    if signature:
        problems.append(signature)
    return Outcome(f"{checked} certificates checked; signature {'FAILS' if signature else 'validates'}",
                   listed(problems))


def _signature_problem(certificate_id: int | None) -> str | None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    settings = current_app.config["PORTAL_SIGNING"]
    try:
        pdf = _signed_sample(certificate_id, settings)
        roots = signing.trust_roots(settings)
        embedded = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
        status = validate_pdf_signature(embedded, ValidationContext(trust_roots=roots))
    except Exception as exc:  # any failure to sign or validate is what this check reports
        return f"signing key {settings['key']}: cannot sign and validate: {type(exc).__name__}: {exc}"
    if not (status.intact and status.valid and status.trusted):
        return (f"signing key {settings['key']} does not match the certificate {settings['cert']} "
                "(a signed certificate does not validate)")
    return None


def _signed_sample(certificate_id: int | None, settings: dict) -> bytes:
    if certificate_id is not None:
        from .documents import render_certificate_pdf

        certificate = db.session.get(Certificate, certificate_id)
        return render_certificate_pdf(certificate, verify_url_value=current_app.config["PORTAL_BASE_URL"] + "/v/")
    from reportlab.pdfgen import canvas

    drawn = io.BytesIO()
    page = canvas.Canvas(drawn)
    page.drawString(72, 720, "portal doctor")
    page.save()
    return signing.sign_pdf(drawn.getvalue(), settings, reason="portal doctor")
