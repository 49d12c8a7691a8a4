"""The public verification of a certificate: what anyone holding it (or its code) may learn.

Only the verification code leads here, and it carries about 79 bits, so the page cannot be walked. It confirms
that the agency issued the certificate, whether it still stands (superseded or revoked ones say so), and shows
the facts a reader needs to compare with the paper, masked (S12): the holder's name as 张*, the 身份证 as
first 1 + last 2. Rate limited per IP and globally, like the receipts' progress page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..accounts.operations import throttle as shared_throttle
from ..core.masking import mask_id_number, mask_name
from .constants import CertificateKind, CertificateStatus
from .models import Certificate
from .operations import find_by_code

DEFAULT_LIMITS = {
    "PORTAL_LIMIT_VERIFY_IP": "30/minute;300/day",  # /v/<code>, per client IP
    "PORTAL_LIMIT_VERIFY_GLOBAL": "6000/minute",  # /v/<code>, all clients together
}


def throttle(name: str, *keys: str) -> None:
    shared_throttle(name, *keys, default=DEFAULT_LIMITS.get(name))


@dataclass(frozen=True)
class Verification:
    kind: CertificateKind
    status: CertificateStatus
    number: str
    issued_at: datetime
    issuer: str
    holder: str  # masked
    id_number: str  # masked, short style; blank for a unit
    facts: tuple[tuple[str, str], ...]  # what to compare with the paper
    revoked_at: datetime | None
    successor_number: str | None


def _facts(kind: CertificateKind, facts: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    from .documents import _ym

    if kind is CertificateKind.PERSON_VOUCHER:
        return (("参保时间", f"{_ym(facts['period_from'])} — {_ym(facts['period_to'])}"),
                ("其中累计实际缴费月数", f"{facts['months_paid']} 月"),
                ("个人账户余额", f"￥{facts['balance']}"))
    if kind is CertificateKind.PERSON_PROOF:
        return tuple(("参保记录", f"{_ym(e['from'])} — {_ym(e['to']) or '至今'}，累计实际缴费 {e['months_paid']} 个月")
                     for e in facts["enrolments"])
    return (("参保总人数", str(facts["counts"]["count_total"])), ("数据截止", facts["as_of"]))


def verify(raw_code: str, *, client_ip: str) -> Verification | None:
    """What the verification page shows for ``raw_code``; None when no certificate has that code."""
    throttle("PORTAL_LIMIT_VERIFY_IP", client_ip)
    throttle("PORTAL_LIMIT_VERIFY_GLOBAL")
    certificate = find_by_code(raw_code)
    return None if certificate is None else verification_of(certificate)


def verification_of(certificate: Certificate) -> Verification:
    facts, kind = certificate.facts, certificate.kind_enum
    if kind.is_for_unit:
        holder, id_number = facts["unit"]["name"], ""
    else:
        holder = mask_name(facts["person"]["name"])
        id_number = mask_id_number(facts["person"]["id_number"])  # stored long-masked; shown shorter still
    successor = None
    if certificate.status_enum is CertificateStatus.SUPERSEDED and certificate.superseded_by_id:
        from ..core.db import db

        successor = db.session.get(Certificate, certificate.superseded_by_id).number
    return Verification(kind, certificate.status_enum, certificate.number, certificate.issued_at,
                        facts["agency"]["name"], holder, id_number, _facts(kind, facts), certificate.revoked_at,
                        successor)
