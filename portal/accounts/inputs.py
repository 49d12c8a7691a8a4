"""The input objects of the account operations: what a login, a binding or an administration form sends, frozen.

``accounts.operations`` imports them, and callers keep naming them from there (``operations.CodeRequest``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .models import AccountKind, Role


@dataclass(frozen=True)
class CodeRequest:
    phone: str
    kind: str = AccountKind.CITIZEN  # citizen | agent
    credit_code: str | None = None  # agents: the unit's 统一社会信用代码 (an institution's, or its 医保机构编码)
    org_kind: str = "unit"  # agents: OrgKind of the organisation they act for


@dataclass(frozen=True)
class CodeLogin:
    code: str
    phone: str | None = None  # the API names the phone ...
    kind: str = AccountKind.CITIZEN
    credit_code: str | None = None
    handle: str | None = None  # ... the web flow keeps the challenge's handle in its session instead
    org_kind: str = "unit"



@dataclass(frozen=True)
class StaffLogin:
    username: str
    password: str
    totp: str


@dataclass(frozen=True)
class NewAgent:
    phone: str
    name: str
    id_number: str | None = field(default=None, repr=False)  # the agent's 身份证 (kept sealed on the mandate)
    scope: dict[str, list[str]] | None = None  # {"items": [...], "parts": [...]}; None: every item
    expires_on: date | None = None  # the last day the agent may act; None: no end


@dataclass(frozen=True)
class AgentChange:
    """What the organisation's administrator changes about an agent: the items and groups, the last day."""

    scope: dict[str, list[str]] | None
    expires_on: date | None


@dataclass(frozen=True)
class NewStaff:
    username: str
    display_name: str
    password: str
    roles: frozenset[Role]
    totp_secret: str | None = None  # None: a new random secret


@dataclass(frozen=True)
class PasswordChange:
    current_password: str
    new_password: str


