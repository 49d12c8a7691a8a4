"""Settlement of designated institutions' costs (定点医药机构费用结算): monthly and annual settlement declarations.

The family of the ``institution.settlement`` items of every seed (费用结算 of 定点医疗机构 and 零售药店, 吉林's 月结算
and 年结算): the institution's agent declares the period's amounts on a structured form (``forms.py``, checked in
``rules.py``), the declaration is kept (``models.py``, ``operations.py``) and its amount applied for becomes the case's
claim of kind ``settlement``, so staff review, decide and pay it with the claims' machinery (``services.claims``:
separation of duties, payment batches with the bank file and return file). The institution's 结算单 is a signed PDF
(``statement.py``) once the money is paid.
"""

from __future__ import annotations

from typing import Any

from ...applications.signals import case_moved
from ..base import FilingContext, Finding, Handler, Severity, register
from .forms import settlement_specs
from .operations import on_case_moved
from .rules import check_form

NOT_DESIGNATED = ("none", "applying")  # institution agreement states with no costs to settle yet


@register("institution.settlement")
class SettlementItem(Handler):
    name = "settlement"
    is_money = True

    def form_specs(self, item: Any, audience: str) -> list[Any] | None:
        return settlement_specs(item, audience)

    def check_form(self, context: FilingContext, *, complete: bool) -> list[tuple[str, str]]:
        return check_form(context, complete=complete)

    def precheck(self, context: FilingContext) -> list[Finding]:
        from ...core.translation import gettext as _

        warnings = window_findings(context)
        said = {w.message for w in warnings}  # the window's rule, said as a warning instead of as information
        findings = [f for f in super().precheck(context) if f.message not in said] + warnings
        institution = getattr(context.case, "institution", None) if context.case is not None else None
        if institution is not None and institution.agreement_status in NOT_DESIGNATED:
            findings.append(Finding(Severity.BLOCKING, _(
                "Your institution has no medical-insurance service agreement yet, so it has no costs "
                "to settle: apply for the agreement first."), "settlement_agreement"))
        return findings

    def before_approve(self, case: Any, *, by: Any, actor: Any) -> None:
        from ..claims.operations import approve_amount

        approve_amount(case, by=by, actor=actor)

    def before_complete(self, case: Any, *, by: Any, actor: Any) -> None:
        from ..claims.operations import claim_of, confirm_paid

        if case.state == "paying" and claim_of(case) is not None:
            confirm_paid(case, by=by, actor=actor)


def window_findings(context: FilingContext) -> list[Finding]:
    """吉林's monthly settlement period (每月 3–8 日, "节假日不顺延"): outside it, the seed's words as a warning (the
    agency decides what a declaration filed outside it gets; the filing itself is not refused)."""
    from ...core import clock
    from ...core.translation import get_locale

    out = []
    for rule in context.item.rules:
        params = rule.params or {}
        if params.get("topic") != "monthly_window":
            continue
        try:
            first, last = int(params["start_day"]), int(params["end_day"])
        except (KeyError, TypeError, ValueError):
            continue  # a window we cannot read is not held against the institution
        if not first <= clock.today().day <= last:
            out.append(Finding(Severity.WARNING, rule.text.get(str(get_locale() or "zh")), "monthly_window"))
    return out


case_moved.connect(on_case_moved, weak=False)
