"""Kinds and standings of certificates, stored as text, with lazily translated labels."""

from __future__ import annotations

from enum import StrEnum

from ..core.translation import lazy_gettext as _l


class CertificateKind(StrEnum):
    PERSON_VOUCHER = "person_voucher"  # 《基本医疗保险参保凭证》 (transfer voucher, seed 000 附件 2)
    PERSON_PROOF = "person_proof"  # 个人参保证明 (the person's insurance standing, for an employer or hospital)
    UNIT_PROOF = "unit_proof"  # 单位参保证明 / 单位参保凭证 (seed 000, G002036003001_02)

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])

    @property
    def is_for_unit(self) -> bool:
        return self is CertificateKind.UNIT_PROOF

    @property
    def number_label(self) -> str:
        """What the document itself calls its number (凭证号 on a voucher, 证明编号 on a proof), on every page
        that shows it — never 受理编号, which is an application's."""
        return str(_l("Voucher number") if self is CertificateKind.PERSON_VOUCHER else _l("Certificate number"))


KIND_LABELS = {
    CertificateKind.PERSON_VOUCHER: _l("Basic medical insurance voucher"),
    CertificateKind.PERSON_PROOF: _l("Certificate of insurance (person)"),
    CertificateKind.UNIT_PROOF: _l("Certificate of insurance (unit)"),
}

# The Chinese titles printed on the documents: data of the seeds, not interface text.
TITLES_ZH = {
    CertificateKind.PERSON_VOUCHER: "基本医疗保险参保凭证",
    CertificateKind.PERSON_PROOF: "基本医疗保险参保证明",
    CertificateKind.UNIT_PROOF: "医疗保险单位参保证明",
}

# Which certificate each catalog handler issues.
KIND_OF_HANDLER = {
    "certificates.person_voucher": CertificateKind.PERSON_VOUCHER,
    "certificates.person_proof": CertificateKind.PERSON_PROOF,
    "queries.person": CertificateKind.PERSON_PROOF,  # 参保人员参保信息查询: 按查询内容出具相关明细 (seed 000)
    "certificates.unit_proof": CertificateKind.UNIT_PROOF,
}


class CertificateStatus(StrEnum):
    VALID = "valid"
    SUPERSEDED = "superseded"  # a newer certificate of the same kind was issued to the same holder
    REVOKED = "revoked"  # withdrawn by the agency (e.g. issued on wrong records)

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    CertificateStatus.VALID: _l("Valid"),
    CertificateStatus.SUPERSEDED: _l("Superseded by a newer certificate"),
    CertificateStatus.REVOKED: _l("Revoked"),
}
