"""The claim's online form: the item's published fields, plus what paying it needs where the seed's form lacks it.

The seeds' materials name the invoices (医疗费用发票), the itemised fee list, the hospital and, in 林口, the bank
card number; their forms (岳阳 生育津贴申领表, the 个人账户一次性支取 forms) carry their own fields. What the
published form already asks for keeps its key and wording; what this service adds to pay the claim (invoice rows,
hospital level and place, admission dates, the payee account) is grouped under headings that say so. The
逾期申报原因 field (added by this service) is shown only where the dates entered are past the seed's claim deadline
(``shown_specs``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...applications.fields import FieldSpec, published_specs
from ...catalog.schema import FieldType, Item, Name
from .kinds import ClaimKind, is_inpatient, kind_of, role_key


def _n(zh: str, en: str) -> Name:
    return Name(zh=zh, en=en)


INVOICES_GROUP = _n("医疗费用票据（本服务为计算报销金额增设）",
                    "Medical invoices (added by this service to compute the amount)")
CARE_GROUP = _n("就医情况（本服务为计算报销金额增设）", "Care received (added by this service to compute the amount)")
PAYEE_GROUP = _n("收款账户（本服务为拨付增设）", "Payee account (added by this service to pay the claim)")
LATE_GROUP = _n("逾期申报（本服务增设）", "Claiming late (added by this service)")
BIRTH_GROUP = _n("生育情况（本服务为计算生育津贴增设）", "The birth (added by this service to compute the allowance)")

VISIT_TYPES = (_n("门诊", "Outpatient"), _n("急诊", "Emergency"), _n("住院", "Inpatient"), _n("购药", "Pharmacy"))
LEVELS = (_n("一级", "Level 1"), _n("二级", "Level 2"), _n("三级", "Level 3"))
LEVEL_VALUES = {"一级": "1", "二级": "2", "三级": "3"}
AREAS = (_n("参保地（统筹区内）", "Where insured (in area)"), _n("省内异地", "Elsewhere in the province"),
         _n("跨省异地", "In another province"))
AREA_VALUES = {"参保地（统筹区内）": "in_area", "省内异地": "out_of_area", "跨省异地": "out_of_area"}
YES_NO = (_n("是", "Yes"), _n("否", "No"))
MAX_INVOICES = 30

INVOICES = FieldSpec(
    "invoices", _n("票据", "Invoices"), FieldType.table, True, max_rows=MAX_INVOICES, group=INVOICES_GROUP,
    help=_n("每张发票或医疗收费电子票据一行，按票面填写。",
            "One row per invoice or medical e-receipt, as printed on it."),
    columns=(
        FieldSpec("number", _n("票据号码", "Invoice number"), FieldType.text, True),
        FieldSpec("issued_on", _n("开票日期", "Date issued"), FieldType.date, True),
        FieldSpec("institution", _n("医疗机构", "Medical institution"), FieldType.text, True),
        FieldSpec("visit_type", _n("就诊类型", "Kind of visit"), FieldType.choice, True, options=VISIT_TYPES),
        FieldSpec("total", _n("总金额（元）", "Total (CNY)"), FieldType.money, True),
        FieldSpec("self_pay", _n("个人自付（元，票面有则填）", "Co-payment (CNY, if printed)"), FieldType.money),
        FieldSpec("self_funded", _n("个人自费（元，票面有则填）", "Paid out of pocket (CNY, if printed)"),
                  FieldType.money),
    ),
)
CARE = (
    FieldSpec("hospital_level", _n("医疗机构等级", "Hospital level"), FieldType.choice, True, options=LEVELS,
              group=CARE_GROUP),
    FieldSpec("care_area", _n("就医地", "Where the care was given"), FieldType.choice, True, options=AREAS,
              group=CARE_GROUP),
)
INPATIENT = (
    FieldSpec("admitted_on", _n("入院日期", "Admitted on"), FieldType.date, True, group=CARE_GROUP),
    FieldSpec("discharged_on", _n("出院日期", "Discharged on"), FieldType.date, True, group=CARE_GROUP),
)
BIRTH = (
    FieldSpec("unit_average_wage",
              _n("单位上年度职工月平均工资（元/月）", "Unit's average monthly wage last year (CNY)"),
              FieldType.money, True, group=BIRTH_GROUP),
    FieldSpec("delivery_date", _n("分娩日期", "Date of delivery"), FieldType.date, True, group=BIRTH_GROUP),
    FieldSpec("dystocia", _n("是否难产", "Difficult birth?"), FieldType.choice, True, options=YES_NO,
              group=BIRTH_GROUP),
    FieldSpec("babies", _n("本次生育婴儿数", "Number of babies born"), FieldType.number, True, group=BIRTH_GROUP,
              help=_n("多胞胎每多生育 1 个婴儿增加产假 15 天。", "Each additional baby adds 15 days of leave.")),
)
LATE = FieldSpec(
    "late_reason", _n("逾期申报原因", "Why the claim is late"), FieldType.textarea, False, group=LATE_GROUP,
    help=_n("仅在因不可抗力未能在申报期限内申报时填写，并说明情况；是否受理由经办机构决定。",
            "Only if force majeure kept you from claiming within the deadline: say what happened. The agency "
            "decides whether to accept the claim."))
PAYEE = (
    FieldSpec("payee_name", _n("收款人姓名（户名）", "Account holder's name"), FieldType.text, True, group=PAYEE_GROUP,
              help=_n("须为参保人本人；代办或继承的，为所填代办人或继承人。",
                      "The insured person; when filed by an agent or for an heir, the agent or heir stated.")),
    FieldSpec("payee_bank", _n("开户银行", "Bank"), FieldType.text, True, group=PAYEE_GROUP),
    FieldSpec("payee_account", _n("银行卡号", "Bank card number"), FieldType.bank_account, True, group=PAYEE_GROUP),
)


def claim_specs(item: Item, audience: str) -> list[FieldSpec] | None:
    """The fields of a claim's online form, or None for an item that is not a claim (the published form stays)."""
    kind = kind_of(item)
    if kind is None:
        return None
    specs = published_specs(item, audience)
    keys = {s.key for s in specs}
    added: list[FieldSpec] = []
    if kind is ClaimKind.REIMBURSEMENT:
        added += [INVOICES, *CARE]
        if is_inpatient(item):
            added += INPATIENT
    elif kind is ClaimKind.ALLOWANCE:
        # the seed's own fields (岳阳: 单位平均缴费工资, 分娩或中止妊娠时间, 是否难产) are kept and required
        specs = [_required(s) if s.key in {"unit_average_wage", "delivery_date", "dystocia"} else s for s in specs]
        added += [s for s in BIRTH if s.key not in keys]
    if role_key(keys, "payee_account") is None:
        added += [s for s in PAYEE if s.key not in keys]
    if any(rule.key == "claim_deadline" for rule in item.rules):
        added.append(LATE)
    return specs + [s for s in added if s.key not in keys]


def shown_specs(case: Any, item: Item, specs: list[FieldSpec]) -> list[FieldSpec]:
    """The claim's fields as the claimant sees them now: 逾期申报原因 only where the dates entered (the day of care,
    the discharge, the birth) are past the seed's claim deadline, with that deadline in its help; a claim in time
    never sees it. A reason already saved stays shown (so it can be read and removed). The server-side rule is
    ``rules.deadline_findings``, whatever the form shows."""
    from babel.dates import format_date

    from ..base import FilingContext
    from .rules import missed_deadline

    if not any(s.key == LATE.key for s in specs):
        return specs
    data = case.form_data or {}
    missed = missed_deadline(FilingContext(item=item, person=case.person, unit=case.unit, data=data, case=case))
    if missed is None:
        if str(data.get(LATE.key) or "").strip():
            return specs
        return [s for s in specs if s.key != LATE.key]
    last = missed[0]
    help_ = _n(f"你填写的日期已超过本事项的申报期限（{format_date(last, 'long', locale='zh_Hans_CN')}）。"
               f"{LATE.help.zh}",
               f"The dates you entered are past this item's claim deadline ({format_date(last, 'long', locale='en')})."
               f" {LATE.help.en}")
    return [replace(s, help=help_) if s.key == LATE.key else s for s in specs]


INVOICE_WORDS = ("票据", "发票", "结算单")


def is_invoice_material(item: Item, material: object) -> bool:
    """Whether ``material`` of a claim item is its invoices (医院收费票据, 医疗费用发票, 医保结算票据, 结算单…),
    which may be uploaded as OFD e-receipts as well as PDF or images."""
    name = getattr(getattr(material, "name", None), "zh", "") or ""
    return kind_of(item) is not None and any(word in name for word in INVOICE_WORDS)


def _required(spec: FieldSpec) -> FieldSpec:
    return replace(spec, required=True)
