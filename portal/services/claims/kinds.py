"""Which kind of claim an item is, and which of its form's fields play which part.

Every money item (拨付) is registered to the claims handler; what its form asks for and how its amount is found
depend on its kind, read from the handler name and the item's published name:

- ``reimbursement`` — 零星报销 of medical costs (门诊/住院费用报销, 医疗救助 手工报销, 生育医疗费, 产前检查费,
  长护 零星报销): invoices as rows, the hospital's level and place, the payee account; computed from policy;
- ``allowance`` — 生育津贴: the unit's monthly average wage, the delivery date, 难产, the number of babies;
  computed from the statutory days;
- ``withdrawal`` — 个人账户一次性支取, and 跨省异地长期备案人员个人账户资金划转 (四川 SC14, its form the same
  《职工基本医疗保险个人账户支取（划转）申请表》): the balance of the account on the day;
- ``lump`` — other money items a person claims (围产补贴, 护理补贴, 一次性生育补助金 …) whose amount no seed
  gives: a payee account, and the reviewer sets the amount;
- None — the agency's own payments and recognitions: no claim form. Institutions' settlements are
  ``services.settlement``'s, which pays them through the same claims and payment batches (a claim of kind
  ``settlement``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ...catalog.schema import Item

CLAIM_HANDLERS = frozenset({
    "account.withdrawal", "account.transfer", "reimbursement.manual", "maternity.benefit", "maternity.allowance",
    "maternity.payment",
    "medical_aid.reimbursement", "medical_aid.payment", "long_term_care.payment",
})


class ClaimKind(StrEnum):
    REIMBURSEMENT = "reimbursement"
    ALLOWANCE = "allowance"
    WITHDRAWAL = "withdrawal"
    LUMP = "lump"


def kind_of(item: Item) -> ClaimKind | None:
    handler, name = item.handler or "", item.name.zh
    if handler.startswith("institution.") or "核准" in name or handler == "medical_aid.payment":
        return None  # institutions' settlements; recognitions (待遇核准) and the agency's own payments pay nobody here
    if handler in ("account.withdrawal", "account.transfer"):  # 划转 (四川 SC14) pays the balance out as 支取 does
        return ClaimKind.WITHDRAWAL
    if "生育津贴" in name:
        return ClaimKind.ALLOWANCE
    if "报销" in name or "医疗费" in name or "检查费" in name:
        return ClaimKind.REIMBURSEMENT
    if "补贴" in name or "补助" in name or "支付" in name:
        return ClaimKind.LUMP
    return None


def is_inpatient(item: Item) -> bool:
    return "住院" in item.name.zh


def scheme_of(item: Item, person: Any) -> str:
    """The policy scheme: maternity costs by the maternity table; otherwise the person's medical scheme."""
    if "生育" in item.name.zh or "产前" in item.name.zh:
        return "maternity"
    from ...insurance.constants import InsuranceType

    types = {e.insurance_type for e in getattr(person, "enrolments", None) or []}
    if InsuranceType.EMPLOYEE_MEDICAL in types or not types:
        return "employee_medical"
    return "resident_medical"


# Published fields that already hold a part: the seed's own key wins over ours.
ROLE_KEYS = {
    "payee_account": ("payee_account", "insured_account_no", "insured_account", "member_account_number"),
    "payee_bank": ("payee_bank", "insured_bank", "member_bank"),
    "heir_account": ("heir_account_no", "heir_account", "heir_account_number"),
    "heir_name": ("heir_name",),
}


def role_key(keys: set[str], role: str) -> str | None:
    """The key of the field playing ``role`` among ``keys``, if any."""
    return next((k for k in ROLE_KEYS.get(role, (role,)) if k in keys), None)


CLOSING_REASONS = ("死亡", "出国定居")


def closing_reason(case: Any) -> str | None:
    """The 支取原因 of the withdrawal if it closes the account (death, settling abroad), else None."""
    reason = str(case.form_data.get("reason") or "").strip()
    return reason if reason in CLOSING_REASONS else None
