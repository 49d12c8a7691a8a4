"""Which organisation an agent acts for: a 参保单位 (``account.unit_id``) or a 定点医药机构
(``account.institution_id``).

The helpers the account operations share to treat both kinds alike (one model of organisation + agents): the login
key of an organisation's agent, the account column naming it, the challenge columns of a login code, and the
organisation an agent names at login (a unit by its 统一社会信用代码; an institution by that or its 医保机构编码).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..core.db import db
from ..core.errors import ValidationFailed
from ..core.validators import check_credit_code
from ..insurance.models import Unit
from ..organisations.models import Institution, OrgKind
from .models import Account, agent_login_key, institution_agent_login_key

Organisation = Unit | Institution  # the kinds of organisation with agents (organisations.models.OrgKind)


def org_kind_of(org: Organisation) -> OrgKind:
    return OrgKind.INSTITUTION if isinstance(org, Institution) else OrgKind.UNIT


def org_login_key(org: Organisation, phone: str) -> str:
    """The login key of ``org``'s agent with ``phone`` (a unit's or an institution's)."""
    return institution_agent_login_key(org.id, phone) if isinstance(org, Institution) else \
        agent_login_key(org.id, phone)


def org_column(org: Organisation) -> Any:
    """The account column that names ``org``."""
    return Account.institution_id if isinstance(org, Institution) else Account.unit_id


def unit_by_credit_code(raw: str | None) -> Unit | None:
    try:
        code = check_credit_code(raw or "").code
    except ValidationFailed as exc:
        raise ValidationFailed([("credit_code", msg) for _f, msg in exc.reasons]) from None
    return db.session.execute(select(Unit).where(Unit.credit_code == code)).scalar_one_or_none()


def organisation_named(kind: str | None, raw: str | None) -> Organisation | None:
    """The unit (by 统一社会信用代码) or institution (by that or its 医保机构编码) an agent names at login."""
    if kind != OrgKind.INSTITUTION:
        return unit_by_credit_code(raw)
    from ..organisations.institutions import institution_by_code

    try:
        return institution_by_code(raw)
    except ValidationFailed as exc:
        raise ValidationFailed([("credit_code", msg) for _f, msg in exc.reasons]) from None


def challenge_ids(org: Organisation | None) -> dict[str, int | None]:
    """The login-code challenge's columns naming ``org``."""
    if isinstance(org, Institution):
        return {"unit_id": None, "institution_id": org.id}
    return {"unit_id": org.id if org else None, "institution_id": None}
