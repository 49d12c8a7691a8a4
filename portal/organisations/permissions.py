"""What an organisation's agent may file and see: the items of their mandate, while their organisation allows it.

An agent without a mandate row (agents made before mandates existed) and the organisation's administrator may
file every item of the organisation's audience. A unit that is only registering (``UnitStatus.PENDING``) files
nothing but its 单位参保登记 until that is completed.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import false, true

from ..accounts.models import AccountKind
from ..core.translation import gettext as _
from ..insurance.constants import UnitStatus

REGISTRATION_HANDLER = "enrolment.unit_register"  # the 单位参保登记 of every region


def _catalog() -> Any:
    return current_app.extensions["portal_catalog"]


def is_agent(account: Any) -> bool:
    return getattr(account, "is_authenticated", False) and account.kind == AccountKind.AGENT


def unit_is_registering(account: Any) -> bool:
    unit = getattr(account, "unit", None)
    return unit is not None and unit.status is UnitStatus.PENDING


def restricted(account: Any) -> bool:
    """Whether the agent's items are limited (by their mandate or by the unit still registering)."""
    if not is_agent(account):
        return False
    if unit_is_registering(account):
        return True
    mandate = account.mandate
    return not account.is_unit_admin and mandate is not None and mandate.scope is not None


def covers(account: Any, item: Any) -> bool:
    """Whether ``account`` (an agent) may file and see cases of ``item``."""
    if not is_agent(account):
        return False
    if unit_is_registering(account):
        return item.handler == REGISTRATION_HANDLER
    if account.is_unit_admin or account.mandate is None:
        return True
    return account.mandate.covers(item.code, item.part)


def covers_code(account: Any, item_code: str) -> bool:
    item = _catalog().get(item_code)
    return item is not None and covers(account, item)


def cannot_file_reason(account: Any, item: Any) -> str | None:
    """Why the agent may not file ``item`` (None when they may)."""
    if covers(account, item):
        return None
    if unit_is_registering(account):
        return _("Your unit is not enrolled yet. File its enrolment registration (单位参保登记) first; the other "
                 "items open once it is completed.")
    return _("Your unit's administrator has not given you this item. Ask them to add it to your permissions.")


def allowed_codes(account: Any) -> list[str]:
    """The item codes the agent may see, when restricted."""
    return [item.code for item in _catalog().items if covers(account, item)]


def case_filter(account: Any, item_code_column: Any) -> Any:
    """A SQL condition: the cases of the agent's unit that the agent may see — the items they may file now (an
    item taken away hides its cases, the agent's own earlier ones too)."""
    if not restricted(account):
        return true()
    codes = allowed_codes(account)
    return item_code_column.in_(codes) if codes else false()


def registration_item_code() -> str | None:
    """The region's 单位参保登记 item, which a registering unit files first."""
    return next((item.code for item in _catalog().items if item.handler == REGISTRATION_HANDLER), None)


# --- the unit's records (/unit/records and /api/v1/records/unit…) --------------------------------------------------

STAFF_RECORDS, CONTRIBUTION_RECORDS = "staff", "contributions"
UNIT_QUERY_HANDLER = "queries.unit"  # 单位参保信息查询: the records are its online answer, both sections
CONTRIBUTION_HANDLERS = frozenset({"enrolment.contribution_base", "enrolment.back_payment",
                                   "enrolment.premium_assessment", "enrolment.retirement_top_up"})


def _sections_of(handler: str) -> frozenset[str]:
    if handler == UNIT_QUERY_HANDLER:
        return frozenset({STAFF_RECORDS, CONTRIBUTION_RECORDS})
    if handler in CONTRIBUTION_HANDLERS:
        return frozenset({CONTRIBUTION_RECORDS})
    if handler.startswith("enrolment.staff_") or handler == "enrolment.retiree_manage":
        return frozenset({STAFF_RECORDS})
    return frozenset()


def record_sections(account: Any) -> frozenset[str]:
    """Which parts of the unit's records the agent may see, like cases by the items they may file: the staff list
    (headcounts, insured staff) with any staff item (职工参保登记, 变更, 中断…), the contributions (months, arrears,
    应缴核定单) with any contribution item (缴费基数申报, 补缴…), both with the unit's records query (单位参保信息查询);
    the administrator and an agent without limits see both; a unit still registering has no records to see."""
    if not is_agent(account) or getattr(account, "unit", None) is None:
        return frozenset()
    if not restricted(account):
        return frozenset({STAFF_RECORDS, CONTRIBUTION_RECORDS})
    sections: set[str] = set()
    for item in _catalog().items:
        if "unit" in item.audience and covers(account, item):
            sections |= _sections_of(item.handler)
    return frozenset(sections)
