"""Changes to a unit's record: 单位信息变更 (the form's new values onto the unit that filed) and
单位合并、分立或注销."""

from __future__ import annotations

import re
from typing import Any

from ...core.errors import ValidationFailed
from ...core.translation import gettext as _
from ...core.validators import normalize_id_number, normalize_mobile
from ...insurance.constants import UnitNature, UnitStatus
from ...insurance.models import id_number_index
from ..base import FilingContext, Handler, register
from ..effects import EffectRefused, Ledger, revert
from ..enrolment.records import refusal
from ..enrolment.units import NATURE_WORDS, UnitRegister

NEW_PREFIXES = ("new_", "changed_")  # 吉林/商洛: new_…; 岳阳: changed_…
# Unit attribute ← the suffixes of the form keys that carry its new value, in the published forms
UNIT_KEYS = {
    "name": ("name", "unit_name"),
    "address": ("address",),
    "nature": ("unit_type",),
    "legal_rep_name": ("legal_rep_name",),
    "legal_rep_id_number": ("legal_rep_id", "legal_rep_id_number"),
    "legal_rep_phone": ("legal_rep_phone",),
    "bank_name": ("bank_name",),
    "bank_account": ("bank_account",),
}
TEXT_LIMITS = {"name": 200, "address": 200, "legal_rep_name": 64, "bank_name": 100}
UNIT_TYPES = "机关、事业单位、企业、社会团体、民办非企业单位、个体工商户"  # record data, as the forms name them
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
BANK_ACCOUNT_RE = re.compile(r"^\d{8,30}$")


def _new_value(data: dict[str, Any], suffixes: tuple[str, ...]) -> str | None:
    """The form's new value for one attribute, stripped; None when the form leaves it empty."""
    for prefix in NEW_PREFIXES:
        for suffix in suffixes:
            value = data.get(prefix + suffix)
            if value not in (None, "") and str(value).strip():
                return str(value).strip()
    return None


def _unit_nature(text: str) -> UnitNature | None:
    """The 单位类型 the form names, or None when it names none the records know."""
    nature = next((n for word, n in NATURE_WORDS if word in text), None)
    if nature is None and any(word in text for word in ("企业", "公司")):
        nature = UnitNature.ENTERPRISE
    return nature or next((n for n in UnitNature if text in {n.value, n.label}), None)


def _contact_phone(text: str) -> str:
    """A mobile number (normalised) or a landline; raises ValidationFailed otherwise."""
    if LANDLINE_RE.match(text.replace(" ", "")):
        return text.replace(" ", "")
    return normalize_mobile(text)


def _unit_problem(attribute: str, text: str) -> tuple[Any, str | None]:
    """(value for the record, None) or (None, why the value cannot go onto the record)."""
    if attribute in TEXT_LIMITS:
        if len(text) > TEXT_LIMITS[attribute]:
            return None, _("“%(value)s” is longer than the records keep (%(limit)d characters).", value=text[:20],
                           limit=TEXT_LIMITS[attribute])
        return text, None
    if attribute == "nature":
        nature = _unit_nature(text)
        return (nature, None) if nature else (None, _("the unit type “%(value)s” is not one the records know "
                                                      "(%(types)s).", value=text[:40], types=UNIT_TYPES))
    try:
        if attribute == "legal_rep_id_number":
            return normalize_id_number(text), None
        if attribute == "legal_rep_phone":
            return _contact_phone(text), None
    except ValidationFailed as error:
        return None, error.reasons[0][1]
    account = re.sub(r"[\s-]", "", text)
    if not BANK_ACCOUNT_RE.match(account):
        return None, _("a bank account number has 8 to 30 digits.")
    return account, None


UNIT_LABELS = {
    "name": "单位名称", "address": "住所(地址)", "nature": "单位类型", "legal_rep_name": "法定代表人姓名",
    "legal_rep_id_number": "法定代表人身份证件号码", "legal_rep_phone": "法定代表人联系电话",
    "bank_name": "开户银行", "bank_account": "银行账号",
}  # the published Chinese names of the form's fields, quoted in messages as the form shows them


@register("enrolment.unit_change")
class UnitChange(Handler):
    """单位信息变更: the form's new values go onto the filing unit; each is checked first."""

    name = "unit_change"

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        wanted = {a: v for a, keys in UNIT_KEYS.items() if (v := _new_value(case.form_data, keys)) is not None}
        if not wanted:
            return  # a form without the structured "new" column: the counter makes the change
        unit = case.unit
        if unit is None:
            raise EffectRefused(refusal([("unit", _("a unit's information is changed by the unit itself."))]))
        problems: list[tuple[str, str]] = []
        if unit.status is UnitStatus.CANCELLED:
            problems.append(("unit", _("the unit's registration is cancelled.")))
        values: dict[str, Any] = {}
        for attribute, text in wanted.items():
            value, problem = _unit_problem(attribute, text)
            if problem:
                problems.append((attribute, f"{UNIT_LABELS[attribute]}：{problem}"))
            elif getattr(unit, attribute) != value:
                values[attribute] = value
        if problems:
            raise EffectRefused(refusal(problems))
        if "legal_rep_id_number" in values:
            values["legal_rep_id_index"] = id_number_index(values["legal_rep_id_number"])
        ledger = Ledger()
        if values:
            ledger.changed(unit, **values)
        ledger.save(case, case.handler)

    def revoke_effect(self, case: Any, reason: str) -> None:
        revert(case, reason)


@register("enrolment.unit_close")
class UnitClose(UnitRegister):
    """单位合并、分立或注销: 暂停登记 and 注销登记 change the unit's status; 拆分合并分立 carries no change of its own
    (the staff move by the roster items); a 新参保登记 belongs to 单位参保登记 and is refused here."""

    name = "unit_close"

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        purpose = next((case.form_data[k] for k in ("purpose", "registration_type") if case.form_data.get(k)), None)
        if purpose == "新参保登记":
            problem = _("a new registration is filed as %(item)s, not here.", item="单位参保登记")
            raise EffectRefused(refusal([("purpose", problem)]))
        if purpose in {"暂停登记", "注销登记"}:
            super().apply_effect(case, context)
