"""异地就医备案 (filing for medical care outside the insured area): the handler of the region's filing items.
(The recognitions that need a long-term filing first are the ``benefits`` family's, which asks ``rules`` here.)

The filing is a case of the category's catalog item, on the generic filing machinery: the handler gives the
form its fields, checks the rules (``rules.py``) before submission, completes a self-service filing with a
signed commitment at once (即办件), and at completion writes the filing record (``apply_effect``); post-hoc
checking (事后核查) that finds a commitment false calls ``revoke_effect``. Pages: ``views.py``; API: ``api.py``;
operations on filings: ``operations.py``; the printable 异地就医登记备案表: ``document.py``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from ...catalog.schema import FieldType, Item, Name
from ...core import clock
from ...core.translation import gettext as _
from ..base import FilingContext, Finding, Handler, Severity, register
from . import rules
from .policy import category_of, policy_for


def _n(zh: str, en: str) -> Name:
    return Name(zh=zh, en=en)


def form_specs(item: Item) -> list[Any]:
    """The fields of a 异地就医备案 on the generic draft pages: the region's 备案表 (``sheets``) — required where the
    sheet asks — then this service's optional ones."""
    from ...applications.fields import FieldSpec
    from .sheets import CHANGE, INSURANCE_TYPES, NEW, SIGNERS, sheet_for

    category = category_of(item)
    sheet = sheet_for(current_app.config["PORTAL_REGION"])
    spec = FieldSpec
    out = [
        spec("name", _n("姓名", "Name"), FieldType.text, True, prefill="person.name", locked=True),
        spec("id_number", _n("身份证件号码", "ID number"), FieldType.id_number, True, prefill="person.id_number",
             locked=True),
        spec("person_category", _n("人员类别", "Person category"), FieldType.choice, True,
             options=(_n(category.zh, str(category.label)),) if category else ()),
        spec("filing_method", _n("备案方式", "How you file"), FieldType.choice, True,
             options=(_n(rules.WITH_PROOF, "With proof documents"),
                      _n(rules.SELF_SERVICE, "Self-service, with a signed commitment"))),
        spec("destination_code", _n("就医地行政区划代码", "Destination division code"), FieldType.division, True),
        spec("destination_name", _n("转往（就医地）", "Destination"), FieldType.text, False),
    ]
    if sheet.asks("gender"):
        out.append(spec("gender", _n("性别", "Sex"), FieldType.choice, sheet.requires("gender"),
                        options=(_n("男", "Male"), _n("女", "Female")), prefill="person.gender", locked=True))
    if sheet.asks("insurance_type"):
        out.append(spec("insurance_type", _n("险种", "Insurance"), FieldType.choice, True,
                        options=(_n(INSURANCE_TYPES[0], "Employee medical insurance"),
                                 _n(INSURANCE_TYPES[1], "Urban-rural resident medical insurance"))))
    phone = sheet.field("care_phone")
    out += [
        spec("care_address", _n("就医地联系地址", "Address at the destination"), FieldType.address,
             sheet.requires("care_address")),
        spec("care_phone", _n(phone.label if phone else "联系电话", "Phone"), FieldType.phone, True),
    ]
    if sheet.asks("care_phone2"):
        out.append(spec("care_phone2", _n("联系电话2", "Phone 2"), FieldType.phone, False))
    out.append(spec("insured_address", _n("参保地联系地址", "Address at home"), FieldType.address, False,
                    prefill="person.address"))
    if sheet.asks("registration_type"):
        out.append(spec("registration_type", _n("登记类别", "Registration"), FieldType.choice, True,
                        options=(_n(NEW, "New"), _n(CHANGE, "Change"))))
    if sheet.asks("signer"):
        out.append(spec("signer", _n("本人/被委托人", "Who signs"), FieldType.choice, True,
                        options=(_n(SIGNERS[0], "The person"), _n(SIGNERS[1], "The proxy"))))
    if sheet.asks("signed_name"):
        out.append(spec("signature", _n("签名", "Signature (full name typed)"), FieldType.text, True))
    out.append(spec("fill_date", _n("填表日期", "Date filled in"), FieldType.date, False))
    out.append(spec("start_date", _n("开始日期（本服务增设，选填）", "Start date (this service's, optional)"),
                    FieldType.date, False))
    if category is not None and category.term.value == "temporary":
        out += [
            spec("admitted_on", _n("入院日期（已住院的；本服务增设，选填）",
                                   "Admission date, if already admitted (this service's, optional)"), FieldType.date),
            spec("discharged", _n("已出院结算（本服务增设）", "Already discharged and settled (this service's)"),
                 FieldType.boolean),
        ]
    if category is not None and category.key == "emergency":
        window = any(r.key == "emergency_filing_within_working_days" for r in item.rules)
        out.append(spec("emergency_date", _n("急诊日期", "Date of the emergency"), FieldType.date, window))
    if category is not None and category.key == "referral":
        out.append(spec("referral_hospital", _n("转出医院（本服务增设，选填）", "Referring hospital (this service's, "
                                                                         "optional)"), FieldType.text, False))
    return out


def _signed(case: Any) -> bool:
    """The case carries a commitment whose stored text and data still give its hash."""
    from ...commitments.operations import signature_for, verify_signature

    signature = signature_for(case.id) if case is not None and case.id is not None else None
    return signature is not None and not verify_signature(signature)


@register("remote_care.long_term", "remote_care.temporary", "remote_care.referral", "remote_care.emergency")
class RemoteCareFilingHandler(Handler):
    """A 异地就医备案. Self-service with a commitment completes at once; with proof, a clerk looks first."""

    name = "remote_care"
    completes_at_once = True

    def form_specs(self, item: Item, audience: str) -> list[Any] | None:
        return form_specs(item) if category_of(item) is not None else None

    def web_entry(self, item: Item) -> str | None:
        """The guide's "apply online" leads to the 异地就医备案 pages, where the commitment is signed."""
        from flask import url_for

        category = category_of(item)
        if category is None:
            return None
        return url_for("remote_care.file", category=category.key)

    def precheck(self, context: FilingContext) -> list[Finding]:
        findings = super().precheck(context)
        if not context.data.get("destination_code"):
            return findings  # before a draft exists: the rules only
        person_id = getattr(context.person, "id", None)
        policy = policy_for(current_app.config["PORTAL_REGION"])
        reasons = rules.check_filing(context.item, context.data, person_id, policy, clock.today())
        if context.data.get("filing_method") == rules.SELF_SERVICE and not _signed(context.case):
            reasons.append((None, _("A self-service filing needs the signed commitment: file it on the 异地就医备案 "
                                    "page, where you sign it, or choose to provide the proof.")))
        return findings + [Finding(Severity.BLOCKING, message, "remote_care") for _field, message in reasons]

    def may_complete_at_once(self, context: FilingContext) -> bool:
        """Only a self-service filing (commitment instead of proof) takes effect at once; proof is looked at."""
        return context.data.get("filing_method") == rules.SELF_SERVICE and super().may_complete_at_once(context)

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        from .operations import record_filing

        record_filing(case, context.item)

    def revoke_effect(self, case: Any, reason: str) -> None:
        from .operations import revoke_filing

        revoke_filing(case, reason)
