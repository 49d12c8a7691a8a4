"""Unit registration (单位参保登记): a new registration creates or reinstates the unit; 暂停 and 注销 change
its status."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ...accounts.models import Account
from ...core.db import db
from ...core.translation import gettext as _
from ...insurance.constants import EnrolmentStatus, UnitNature, UnitStatus
from ...insurance.models import Enrolment, Unit
from ..base import FilingContext, Handler, register
from ..effects import EffectRefused, Ledger, revert
from .records import unique_number

PURPOSE_KEYS = ("purpose", "registration_type")
NATURE_WORDS = (("机关", UnitNature.GOVERNMENT), ("事业", UnitNature.PUBLIC_INSTITUTION),
                ("社会团体", UnitNature.SOCIAL_ORGANISATION), ("民办非企业", UnitNature.PRIVATE_NON_ENTERPRISE),
                ("个体", UnitNature.INDIVIDUAL_BUSINESS))


def _first(data: dict[str, Any], *keys: str) -> Any:
    return next((data[k] for k in keys if data.get(k)), None)


def _nature(text: str | None) -> UnitNature:
    return next((n for word, n in NATURE_WORDS if text and word in text), UnitNature.ENTERPRISE)


def _details(data: dict[str, Any]) -> dict[str, Any]:
    """The unit's details as the registration form gives them."""
    return {"nature": _nature(_first(data, "unit_type", "unit_nature")),
            "legal_rep_name": _first(data, "legal_rep_name"), "legal_rep_phone": _first(data, "legal_rep_phone"),
            "bank_name": _first(data, "bank_name"), "bank_account": _first(data, "bank_account"),
            "address": _first(data, "address", "mailing_address")}


@register("enrolment.unit_register")
class UnitRegister(Handler):
    """单位参保登记: 新参保登记 creates the unit (or reinstates a cancelled one); 暂停 and 注销 change its status."""

    name = "unit_register"

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        data = case.form_data
        purpose = _first(data, *PURPOSE_KEYS) or "新参保登记"
        code = _first(data, "credit_code") or getattr(case.unit, "credit_code", None)
        if not code:
            raise EffectRefused(_("The records cannot take this change: %(problems)s",
                                  problems=_("the unified social credit code is missing.")))
        unit = db.session.execute(select(Unit).where(Unit.credit_code == code)).scalar_one_or_none()
        ledger = Ledger()
        if purpose == "新参保登记":
            self._register(unit, data, code, ledger, case)
        elif purpose in {"暂停登记", "注销登记"}:
            self._stop(unit, UnitStatus.SUSPENDED if purpose == "暂停登记" else UnitStatus.CANCELLED, ledger)
        ledger.save(case, case.handler)  # 拆分合并分立: staff carry the staff over by the roster items

    def revoke_effect(self, case: Any, reason: str) -> None:
        revert(case, reason)

    def _register(self, unit: Unit | None, data: dict[str, Any], code: str, ledger: Ledger, case: Any) -> None:
        if unit is not None and unit.status is UnitStatus.PENDING:
            self._complete_registration(unit, data, ledger, case)
            return
        if unit is not None and unit.status is not UnitStatus.CANCELLED:
            raise EffectRefused(_("The records cannot take this change: %(problems)s",
                                  problems=_("a unit with this credit code is already registered.")))
        if unit is not None:
            ledger.changed(unit, status=UnitStatus.ACTIVE)
            return
        name = _first(data, "unit_name")
        if not name:
            raise EffectRefused(_("The records cannot take this change: %(problems)s",
                                  problems=_("the unit's name is missing.")))
        unit = Unit(code=unique_number(Unit, Unit.code, "U"), credit_code=code, name=str(name)[:200],
                    status=UnitStatus.ACTIVE, established_on=None, **_details(data))
        unit.set_legal_rep_id_number(_first(data, "legal_rep_id", "legal_rep_id_number"))
        ledger.created(unit)

    def _complete_registration(self, unit: Unit, data: dict[str, Any], ledger: Ledger, case: Any) -> None:
        """A unit that registered its first agent online (待参保登记) becomes a registered unit with the form's
        details, and the agent who filed is its administrator (``portal.organisations``)."""
        values: dict[str, Any] = {k: v for k, v in _details(data).items() if v}
        name = _first(data, "unit_name")
        if name:
            values["name"] = str(name)[:200]
        id_number = _first(data, "legal_rep_id", "legal_rep_id_number")
        if id_number:
            probe = Unit()
            probe.set_legal_rep_id_number(id_number)
            values.update(legal_rep_id_number=probe.legal_rep_id_number, legal_rep_id_index=probe.legal_rep_id_index)
        ledger.changed(unit, status=UnitStatus.ACTIVE, **values)
        filer = case.applicant
        if filer is not None and filer.unit_id == unit.id and not filer.is_unit_admin:
            administered = db.session.execute(select(Account.id).where(Account.unit_id == unit.id,
                                                                        Account.is_unit_admin)).first()
            if administered is None:
                ledger.changed(filer, is_unit_admin=True)

    def _stop(self, unit: Unit | None, status: UnitStatus, ledger: Ledger) -> None:
        if unit is None or unit.status is UnitStatus.CANCELLED:
            raise EffectRefused(_("The records cannot take this change: %(problems)s",
                                  problems=_("no registered unit has this credit code.")))
        if status is UnitStatus.CANCELLED:
            insured = db.session.execute(select(Enrolment.id).where(
                Enrolment.unit_id == unit.id, Enrolment.status != EnrolmentStatus.TERMINATED).limit(1)).first()
            if insured is not None:
                raise EffectRefused(_("The records cannot take this change: %(problems)s",
                                      problems=_("staff are still insured through the unit; end their enrolments "
                                                 "first.")))
        if unit.status is not status:
            ledger.changed(unit, status=status)
