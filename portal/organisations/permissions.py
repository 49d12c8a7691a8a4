"""What an organisation's agent may file and see: the items of their mandate, while their organisation allows it.

An agent without a mandate row (agents made before mandates existed) and the organisation's administrator may
file every item of the organisation's audience. A unit that is only registering (``UnitStatus.PENDING``) files
nothing but its 单位参保登记 until that is completed.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import false, true

from ..accounts.models import AccountKind
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
