"""Who may do what with accounts: ``can_<verb>(user, obj)`` predicates, used by views and operations."""

from __future__ import annotations

from typing import Any

from .models import AccountKind, Role


def is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.kind == AccountKind.STAFF


def can_manage_agents(user: Any, unit: Any) -> bool:
    """The organisation's administrator (its first agent), or a staff administrator, manages its agents (of a unit or
    an institution); not while
    the unit is only registering (its 单位参保登记 not completed)."""
    if not getattr(user, "is_authenticated", False) or unit is None:
        return False
    if getattr(unit, "status", None) == "pending":
        return False
    if user.kind == AccountKind.AGENT:
        own = user.institution_id if getattr(unit, "__tablename__", "") == "institution" else user.unit_id
        return bool(user.is_unit_admin) and own == unit.id and user.is_active
    return user.kind == AccountKind.STAFF and Role.ADMIN in user.roles


def can_change_roles(user: Any, account: Any) -> bool:
    """Administrators change the roles of other staff (never their own: a second administrator must)."""
    return (is_staff(user) and Role.ADMIN in user.roles and getattr(account, "kind", None) == AccountKind.STAFF
            and account.id != user.id)


def can_read_outbox(app_env: str) -> bool:
    """The SMS outbox page exists in development only."""
    return app_env == "development"
