"""What happens to a settlement declaration along its case.

- At submission and resubmission the declaration is written from the form (``record_declaration``) and the case's
  ``Claim`` of kind ``settlement`` gets the amount applied for (申请拨付金额 = 统筹基金支付 + 个人账户支付 −
  拒付扣款) as its computed amount, with the working. From there the claims machinery does the rest, exactly as for
  a person's claim: the reviewer approves that amount or another with the reason (both kept), finance's payment goes
  into a payment batch (the payee an institution's settlement account), the bank's return file pays it — the case
  completes — or fails it, and the institution gives another account.
- A withdrawn, refused or denied case frees its period for a new declaration (``live_key`` cleared).
- Once paid, every active agent of the institution is told the amount, not only the one who filed.

Like every operation these flush and never commit.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...applications.constants import Action, State
from ...applications.models import Application
from ...core import clock
from ...core.db import db
from .forms import categories
from .models import SettlementDeclaration
from .rules import Period, money, parse_period

KIND = "settlement"  # the Claim kind of a settlement
DEAD_ACTIONS = (Action.WITHDRAW, Action.REFUSE, Action.DENY)


def _item(case: Application) -> Any:
    return current_app.extensions["portal_catalog"].get(case.item_code)


def org_key(case: Application) -> str:
    """The institution the case is filed for; before an institution is known, the filing account stands for it."""
    institution_id = getattr(case, "institution_id", None)
    return f"institution:{institution_id}" if institution_id is not None else f"account:{case.applicant_id}"


def _live_key(case: Application, period: Period, category: str) -> str:
    return f"{org_key(case)}|{case.item_code}|{period.value}|{category}"[:120]


def declaration_of(case: Application) -> SettlementDeclaration | None:
    return db.session.execute(select(SettlementDeclaration).where(SettlementDeclaration.application_id == case.id)
                              ).scalar_one_or_none()


def standing_declaration(case: Application, item: Any, period: Period, category: str) -> str | None:
    """The number of another standing case declaring the same institution, item, period and 险种, or None."""
    query = (select(Application.number).join(SettlementDeclaration,
                                             SettlementDeclaration.application_id == Application.id)
             .where(SettlementDeclaration.live_key == _live_key(case, period, category)))
    if case.id is not None:
        query = query.where(Application.id != case.id)
    return db.session.execute(query.limit(1)).scalar_one_or_none()


def working(declaration: SettlementDeclaration) -> list[dict[str, Any]]:
    """The working of the amount applied for, as claim working lines (``claims.working.describe`` words them)."""
    source = ""  # the declaration itself, shown beside the working
    lines = [
        {"key": "settlement_total", "base": str(declaration.total_cost), "amount": str(declaration.total_cost),
         "source": source},
        {"key": "settlement_fund", "base": str(declaration.fund_paid), "amount": str(declaration.fund_paid),
         "source": source},
        {"key": "settlement_account", "base": str(declaration.account_paid),
         "amount": str(declaration.fund_paid + declaration.account_paid), "source": source},
    ]
    if declaration.deducted:
        lines.append({"key": "settlement_deducted", "deduction": str(declaration.deducted),
                      "amount": str(declaration.payable), "source": source})
    lines.append({"key": "settlement_payable", "amount": str(declaration.payable), "source": source})
    return lines


def record_declaration(case: Application) -> SettlementDeclaration:
    """Write the declaration of a filed case from its form, and the claim's amount applied for."""
    from ..claims.models import Claim
    from ..claims.operations import claim_of

    item = _item(case)
    data = case.form_data
    period, problem = parse_period(item, data)
    if period is None:  # the form's checks ran at submission: this is a form that changed under us
        from ...core.errors import InvalidTransition

        raise InvalidTransition(problem or "settlement period missing")
    category = str(data.get("category") or "")
    declaration = declaration_of(case) or SettlementDeclaration(application_id=case.id)
    declaration.organisation, declaration.item_code = org_key(case), case.item_code
    declaration.period_kind, declaration.period, declaration.category = period.kind, period.value, category
    for key in ("total_cost", "fund_paid", "account_paid", "self_paid", "deducted"):
        setattr(declaration, key, money(data, key).quantize(Decimal("0.01")))
    declaration.visits = int(Decimal(str(data.get("visits") or "0")))
    declaration.live_key = _live_key(case, period, category)
    declaration.updated_at = clock.now()
    try:
        with db.session.begin_nested():  # another agent's declaration of the period, committed a moment ago
            db.session.add(declaration)
            db.session.flush()
    except IntegrityError:
        from ...core.errors import ValidationFailed
        from ...core.translation import gettext as _
        from .rules import category_label

        raise ValidationFailed([("period", _(
            "Your institution has already declared %(period)s (%(category)s) for this item in case %(number)s. "
            "A period is declared once: withdraw that case first, or ask the agency to correct it.",
            period=period.value, category=category_label(item, category),
            number=standing_declaration(case, item, period, category) or "—"))]) from None
    claim = claim_of(case) or Claim(application_id=case.id, kind=KIND)
    claim.computed_amount = declaration.payable
    claim.working_json = json.dumps(working(declaration), ensure_ascii=False, sort_keys=True)
    claim.policy_ref, claim.computed_at = None, clock.now()
    claim.benefit_year = int(period.value[:4])
    db.session.add(claim)
    db.session.flush()
    return declaration


def agents_to_tell(case: Application) -> list[Any]:
    """The institution's active agents other than the filer (who hears of the case as its applicant)."""
    from ...accounts.models import Account, AccountKind

    institution_id = getattr(case, "institution_id", None)
    column = getattr(Account, "institution_id", None)
    if institution_id is None or column is None:
        return []
    agents = db.session.execute(select(Account).where(column == institution_id, Account.kind == AccountKind.AGENT,
                                                      Account.id != case.applicant_id)).scalars()
    from ...organisations.permissions import covers_code

    return [a for a in agents if a.is_active and covers_code(a, case.item_code)]


def on_case_moved(case: Application, *, event: Any, action: Action, **_kw: Any) -> None:
    """Keep the declaration in step with its case (connected to ``case_moved``; raising undoes the move)."""
    if not (case.handler or "").startswith("institution.settlement"):
        return
    if action in (Action.SUBMIT, Action.RESUBMIT):
        record_declaration(case)
        return
    declaration = declaration_of(case)
    if declaration is None:
        return
    if action in DEAD_ACTIONS or case.state in (State.WITHDRAWN, State.NOT_ACCEPTED, State.DENIED):
        declaration.live_key = None  # the period may be declared again
        db.session.flush()
    if action is Action.COMPLETE and event.from_state == State.PAYING:
        from ...notifications.constants import Event
        from ...notifications.operations import notify
        from ...notifications.receivers import case_context

        for agent in agents_to_tell(case):
            notify(agent, Event.PAID, case_context(case, {"result": case.result_text or ""}), application_id=case.id)


def view(case: Application) -> dict[str, Any] | None:
    """The declaration as the case pages show it (staff and the institution's agents): the figures declared."""
    declaration = declaration_of(case)
    if declaration is None:
        return None
    item = _item(case)
    names = {o.zh: o for o in categories(item)} if item is not None else {}
    return {"declaration": declaration, "period": Period(declaration.period_kind, declaration.period),
            "category": names.get(declaration.category)}
