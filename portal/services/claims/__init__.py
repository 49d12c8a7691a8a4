"""Claims that pay (拨付): reimbursements, maternity allowances, account withdrawals and other money items.

The package of the money items (ARCHITECTURE.md: ``services/claims/``): their online form (``forms.py``), its
checks and the seeds' claim deadlines (``rules.py``), the calculation from policy data (``calculation.py``,
``policy.py``, ``data/policy.yaml``) and its working in words (``working.py``), the claim, its invoices and
payments (``models.py``, ``operations.py``), the yearly cap as the claimant sees it on /me/records (``caps.py``).
Separation of duties around payment stays with the workbench (S7: the acceptor of a money item cannot approve it,
the approver cannot pay it).
"""

from __future__ import annotations

from typing import Any

from ...applications.signals import case_moved
from ..base import FilingContext, Finding, Handler, register
from .forms import claim_specs, is_invoice_material
from .kinds import CLAIM_HANDLERS
from .operations import _item as case_item
from .operations import on_case_moved
from .rules import check_form, deadline_findings


@register(*sorted(CLAIM_HANDLERS))
class ClaimItem(Handler):
    name = "claims"
    is_money = True

    def form_specs(self, item: Any, audience: str) -> list[Any] | None:
        return claim_specs(item, audience)

    def shown_specs(self, case: Any, item: Any, specs: list[Any]) -> list[Any]:
        from .forms import shown_specs

        return shown_specs(case, item, specs)

    def upload_kinds(self, item: Any, material: Any) -> frozenset[str] | None:
        from ...materials.checks import E_RECEIPTS

        return E_RECEIPTS if is_invoice_material(item, material) else None

    def read_upload(self, case: Any, material: Any, invoice: dict[str, str]) -> int | None:
        from .operations import prefill_invoice

        return prefill_invoice(case, invoice) if is_invoice_material(case_item(case), material) else None

    def check_form(self, context: FilingContext, *, complete: bool) -> list[tuple[str, str]]:
        return check_form(context, complete=complete)

    def precheck(self, context: FilingContext) -> list[Finding]:
        return super().precheck(context) + deadline_findings(context)

    def before_approve(self, case: Any, *, by: Any, actor: Any) -> None:
        from .operations import approve_amount

        approve_amount(case, by=by, actor=actor)

    def before_complete(self, case: Any, *, by: Any, actor: Any) -> None:
        from .effects import money_left_note
        from .operations import claim_of, confirm_paid

        claim = claim_of(case)
        if case.state == "paying" and claim is not None:
            confirm_paid(case, by=by, actor=actor)
            note = money_left_note(case, claim)
            if note:
                case.result_text = f"{case.result_text.strip()}\n{note}"

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        from .effects import apply_claim

        apply_claim(case)


case_moved.connect(on_case_moved, weak=False)
