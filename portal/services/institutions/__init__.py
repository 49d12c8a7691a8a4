"""The agreement items of designated institutions (定点医药机构协议管理) and their effects on the institution register.

The ``institution.*`` handlers of every seed except settlement (``services.settlement``): applying for the 定点
agreement and renewing it (``institution.agreement``), changing the name, address, legal representative, scope or
grade (``institution.change``), suspending or ending the agreement (``institution.suspend``: the form says which,
as 吉林's 《暂停（终止）申请表》 does), resuming it (``institution.resume``) and opening 异地就医直接结算
(``institution.remote_settlement``). Completing a case changes ``institution`` through the case's ``Ledger`` (so
post-hoc checking can revoke it) and leaves an ``institution_event`` saying what changed, from when, by which case.

What the seeds leave open is this service's own choice, and its fields say so: the agreement's last day is set by the
member of staff who approves (the seeds say the agency signs the agreement, not for how long); the national code and
the grade are asked where the seed's form does not carry them; a suspension or an ending takes effect on the day the
institution asks for (not before the case is filed) and is dated in the register.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ...applications.constants import Action
from ...applications.signals import case_moved
from ...catalog.schema import FieldType, Item, Name
from ...core import clock
from ...core.db import db
from ...core.errors import ValidationFailed
from ...core.translation import gettext as _
from ...core.translation import lazy_gettext as _l
from ...organisations.institutions import check_institution_code, history_event
from ...organisations.models import AgreementStatus, InstitutionLevel
from ..base import FilingContext, Finding, Handler, Severity, register
from ..effects import EffectRefused, Ledger, revert


def _n(zh: str, en: str) -> Name:
    return Name(zh=zh, en=en)


OWN = _n("本服务增设", "added by this service")
LEVELS = {"一级": InstitutionLevel.FIRST, "二级": InstitutionLevel.SECOND, "三级": InstitutionLevel.THIRD,
          "未定级": InstitutionLevel.UNRATED}
SUSPEND, TERMINATE = _n("暂停", "Suspension"), _n("终止", "Termination")


def _spec(key: str, zh: str, en: str, type_: FieldType = FieldType.text, required: bool = False,
          options: tuple[Name, ...] = (), help_: Name | None = None) -> Any:
    from ...applications.fields import FieldSpec

    return FieldSpec(key, _n(f"{zh}（本服务增设）", f"{en} (added by this service)"), type_, required,
                     options=options, help=help_)


def _published(item: Item, audience: str) -> list[Any]:
    from ...applications.fields import published_specs

    return published_specs(item, audience)


def _with(item: Item, audience: str, extra: list[Any]) -> list[Any]:
    """The seed's form first (its keys kept), then this service's fields it does not carry already."""
    specs = _published(item, audience)
    keys = {s.key for s in specs}
    return specs + [s for s in extra if s.key not in keys]


def institution_of(case: Any) -> Any:
    institution = getattr(case, "institution", None)
    if institution is None:
        raise EffectRefused(_("This case names no designated institution, so the register cannot be changed."))
    return institution


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    value = " ".join(str(value).split()) if value not in (None, "") else ""
    return value or None


def _day(data: dict[str, Any], key: str) -> date | None:
    try:
        return date.fromisoformat(str(data[key])) if data.get(key) else None
    except ValueError:
        return None


def apply(case: Any, kind: str, values: dict[str, Any], *, effective_on: date | None = None) -> None:
    """Change the institution as ``values`` say, through the case's ledger, and keep the history event."""
    institution = institution_of(case)
    changed = {k: v for k, v in values.items() if getattr(institution, k) != v}
    if not changed:
        return
    before = {k: getattr(institution, k) for k in changed}
    ledger = Ledger()
    ledger.changed(institution, **changed)
    institution.changed_at = clock.now()
    event = history_event(institution, kind, {k: (before[k], changed[k]) for k in changed},
                          effective_on=effective_on, case=case)
    ledger.created(event)
    ledger.save(case, case.handler)


class InstitutionHandler(Handler):
    """What the agreement items share: the filer's institution must be in the state the item needs."""

    needs: tuple[AgreementStatus, ...] = ()  # the agreement states the item may be filed in (empty: any)
    wrong_state: Any = ""

    def precheck(self, context: FilingContext) -> list[Finding]:
        findings = super().precheck(context)
        institution = getattr(context.case, "institution", None) if context.case is not None else None
        if institution is not None and self.needs and institution.agreement_status not in self.needs:
            findings.append(Finding(Severity.BLOCKING, str(self.wrong_state), "institution_agreement_state"))
        return findings

    def acceptance_problem(self, case: Any) -> str | None:
        institution = getattr(case, "institution", None)
        if institution is not None and self.needs and institution.agreement_status not in self.needs:
            return str(self.wrong_state)
        return None

    def revoke_effect(self, case: Any, reason: str) -> None:
        revert(case, reason)


# --- 申请中: the register says an application for the agreement is being handled ---------------------------------

ENDED_UNDONE = (Action.WITHDRAW, Action.REFUSE, Action.DENY)  # the case ends without the agreement


def _not_applying(institution: Any) -> str:
    """What an institution is when no application of it is being handled: ended (it had an agreement) or none."""
    return (AgreementStatus.TERMINATED if institution.terminated_on is not None else AgreementStatus.NONE).value


def on_case_moved(case: Any, *, event: Any, action: Action, **_kw: Any) -> None:
    """An application for the agreement (not a renewal: the agreement is in force) puts the institution in 申请中
    when it is submitted, and out of it when the case ends without the agreement (withdrawn, not accepted, denied);
    completing puts it in force (``AgreementHandler.apply_effect``). Each move is in the register's history with its
    case. Connected to ``case_moved``: it runs in the move's transaction."""
    if case.handler != "institution.agreement" or case.institution is None:
        return
    institution = case.institution
    status = institution.agreement_status
    if action is Action.SUBMIT and status in (AgreementStatus.NONE, AgreementStatus.TERMINATED):
        after = AgreementStatus.APPLYING.value
    elif action in ENDED_UNDONE and status == AgreementStatus.APPLYING:
        after = _not_applying(institution)
    else:
        return
    institution.agreement_status = after
    institution.changed_at = clock.now()
    history_event(institution, "applying" if after == AgreementStatus.APPLYING else "application_ended",
                  {"agreement_status": (status, after)}, case=case)
    db.session.flush()


case_moved.connect(on_case_moved, weak=False)


@register("institution.agreement")
class AgreementHandler(InstitutionHandler):
    """申请定点协议管理 and 服务协议续签: the agreement in force until the last day staff set on approval.

    An institution not in an agreement (none yet, applying, or ended) gets a new one from the completion date; one
    in force has it renewed to the new last day."""

    staff_sets_validity = True
    validity_label = (_n("协议期满日（签订协议时确定）", "Last day of the agreement (set when it is signed)"),
                      _n("医保协议的最后一天，例如 2027-12-31。办结时写入机构登记。",
                         "The last day of the medical-insurance agreement, for example 2027-12-31. It is written "
                         "into the institution register when the case completes."))
    needs = (AgreementStatus.NONE, AgreementStatus.APPLYING, AgreementStatus.IN_FORCE, AgreementStatus.TERMINATED)
    wrong_state = _l("Your institution's agreement is suspended: apply to resume it instead (or contact the agency).")

    def form_specs(self, item: Item, audience: str) -> list[Any] | None:
        return _with(item, audience, [
            _spec("institution_code", "定点医药机构编码", "Designated institution code",
                  help_=_n("医保信息业务编码平台赋予的 12 位编码（H 或 P 加 11 位数字）；登记中已有的可不填。",
                           "The 12-character code of the medical security coding platform (H or P and 11 digits); "
                           "leave it empty when the register holds it already.")),
            _spec("institution_level", "医疗机构等级", "Grade of the medical institution", FieldType.choice,
                  options=tuple(_n(zh, en) for zh, en in (("一级", "Level 1"), ("二级", "Level 2"),
                                                          ("三级", "Level 3"), ("未定级", "Not graded")))),
            _spec("institution_area", "所在区县", "District or county"),
        ])

    def check_form(self, context: FilingContext, *, complete: bool) -> list[tuple[str, str]]:
        code = _text(context.data, "institution_code")
        if not code:
            return []
        institution = getattr(context.case, "institution", None) if context.case is not None else None
        try:
            check_institution_code(code, getattr(institution, "kind", None))
        except ValidationFailed as exc:
            return [("institution_code", exc.reasons[0][1])]
        return []

    def revoke_effect(self, case: Any, reason: str) -> None:
        """Undo the agreement; the 申请中 it replaced is over (its case is done): none, or ended if it had one."""
        revert(case, reason)
        institution = getattr(case, "institution", None)
        if institution is not None and institution.agreement_status == AgreementStatus.APPLYING:
            institution.agreement_status = _not_applying(institution)

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        from ..benefits import approved_terms

        institution = institution_of(case)
        data = case.form_data
        terms = approved_terms(case)
        last_day = _day(terms, "valid_until")
        today = clock.today()
        if last_day is None or last_day < today:
            raise EffectRefused(_("The approval gives no last day of the agreement (or one in the past): approve "
                                  "the case again with the agreement's last day."))
        values: dict[str, Any] = {"agreement_end": last_day}
        renewal = institution.agreement_status == AgreementStatus.IN_FORCE
        if renewal:
            if institution.agreement_end is not None and last_day <= institution.agreement_end:
                raise EffectRefused(_("The new last day must be after the current one (%(day)s).",
                                      day=institution.agreement_end.isoformat()))
        else:
            values |= {"agreement_status": AgreementStatus.IN_FORCE.value, "agreement_start": today,
                       "suspended_on": None, "terminated_on": None}
        code = _text(data, "institution_code")
        if code and not institution.code:
            values["code"] = check_institution_code(code, institution.kind)
        level = LEVELS.get(_text(data, "institution_level") or _text(data, "grade") or "")
        if level is not None and institution.kind == "medical":
            values["level"] = level.value
        for key, source in (("area", ("institution_area",)),
                            ("address", ("business_address", "institution_address", "address"))):
            value = next((v for k in source if (v := _text(data, k))), None)
            if value and not getattr(institution, key):
                values[key] = value[:200 if key == "address" else 64]
        apply(case, "renewed" if renewal else "agreement", values, effective_on=today)


CHANGES = (  # (form key of the new value, register column, label)
    ("unit_name_after", "name", _n("变更后机构名称", "New name")),
    ("business_address_after", "address", _n("变更后经营地址", "New address")),
    ("legal_rep_name_after", "legal_rep_name", _n("变更后法定代表人", "New legal representative")),
    ("legal_rep_id_number_after", "legal_rep_id_number",
     _n("变更后法定代表人身份证号", "New legal representative's ID number")),
    ("business_scope_after", "scope", _n("变更后经营范围（诊疗科目）", "New scope (services)")),
    ("grade_after", "level", _n("变更后医疗机构等级（一级、二级、三级或未定级）",
                                "New grade (一级, 二级, 三级 or 未定级)")),
)


@register("institution.change")
class ChangeHandler(InstitutionHandler):
    """定点医药机构信息变更: the new name, address, legal representative, scope or grade into the register."""

    needs = (AgreementStatus.IN_FORCE, AgreementStatus.SUSPENDED)
    wrong_state = _l("Only a designated institution in its agreement (or suspended) files changes to it.")

    def form_specs(self, item: Item, audience: str) -> list[Any] | None:
        types = {"legal_rep_id_number_after": FieldType.id_number}
        return _with(item, audience, [_spec(key, label.zh, label.en, types.get(key, FieldType.text))
                                      for key, _column, label in CHANGES])

    def check_form(self, context: FilingContext, *, complete: bool) -> list[tuple[str, str]]:
        data = context.data
        problems = []
        grade = _text(data, "grade_after")
        if grade and grade not in LEVELS:
            problems.append(("grade_after", _("Write the grade as 一级, 二级, 三级 or 未定级.")))
        if complete and not any(_text(data, key) for key, _c, _l in CHANGES):
            problems.append(("unit_name_after", _("Fill in at least one new value (after the change).")))
        return problems

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        data = case.form_data
        values: dict[str, Any] = {}
        for key, column, _label in CHANGES:
            value = _text(data, key)
            if value is None:
                continue
            if column == "level":
                if value not in LEVELS:
                    raise EffectRefused(_("Write the grade as 一级, 二级, 三级 or 未定级."))
                value = LEVELS[value].value
            elif column == "legal_rep_id_number":
                value = value.upper()
            values[column] = value[:200] if column in ("name", "address") else value
        if not values:
            raise EffectRefused(_("The case gives no new value to write into the register."))
        apply(case, "changed", values)


@register("institution.suspend")
class SuspendHandler(InstitutionHandler):
    """暂停（终止）协议: the form's 申请业务 says which; dated from the day the institution asks for."""

    needs = (AgreementStatus.IN_FORCE, AgreementStatus.SUSPENDED)
    wrong_state = _l("Only a designated institution in its agreement can suspend or end it.")

    def form_specs(self, item: Item, audience: str) -> list[Any] | None:
        return _with(item, audience, [
            _spec("request", "申请业务", "Request", FieldType.choice, True, options=(SUSPEND, TERMINATE)),
            _spec("effective_on", "暂停（终止）起始日期", "Suspended (ended) from", FieldType.date, True,
                  help_=_n("不早于提交申请之日。", "Not before the day the application is submitted.")),
            _spec("reason", "暂停（终止）原因", "Reason", FieldType.textarea),
        ])

    def check_form(self, context: FilingContext, *, complete: bool) -> list[tuple[str, str]]:
        day = _day(context.data, "effective_on")
        if day is not None and day < clock.today() and (context.case is None or context.case.state == "draft"):
            return [("effective_on", _("The date cannot be in the past."))]
        return []

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        institution = institution_of(case)
        data = case.form_data
        day = _day(data, "effective_on") or clock.today()
        if _text(data, "request") == TERMINATE.zh:
            apply(case, "terminated", {"agreement_status": AgreementStatus.TERMINATED.value, "terminated_on": day},
                  effective_on=day)
            return
        if institution.agreement_status == AgreementStatus.SUSPENDED:
            raise EffectRefused(_("The agreement is suspended already."))
        apply(case, "suspended", {"agreement_status": AgreementStatus.SUSPENDED.value, "suspended_on": day},
              effective_on=day)


@register("institution.resume")
class ResumeHandler(InstitutionHandler):
    """恢复协议: a suspended agreement in force again from completion (the suspension stays in the history)."""

    needs = (AgreementStatus.SUSPENDED,)
    wrong_state = _l("Only a suspended agreement can be resumed.")

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        institution = institution_of(case)
        if institution.agreement_status != AgreementStatus.SUSPENDED:
            raise EffectRefused(_("The agreement is not suspended."))
        apply(case, "resumed", {"agreement_status": AgreementStatus.IN_FORCE.value, "suspended_on": None})


@register("institution.remote_settlement")
class RemoteSettlementHandler(InstitutionHandler):
    """开通异地就医直接结算业务: the register says the institution settles care of people insured elsewhere."""

    needs = (AgreementStatus.IN_FORCE,)
    wrong_state = _l("Only a designated institution in its agreement can open direct settlement of care elsewhere.")

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        apply(case, "remote_settlement", {"remote_settlement": True})

