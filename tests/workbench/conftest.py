"""Fixtures of the workbench tests: the filing fixtures (citizens, staff by role, cases in any state), and staff
logged in through the real staff login page."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from portal.accounts import passwords
from portal.accounts.models import Role
from tests.applications.conftest import (  # noqa: F401 (fixtures shared with the filing tests)
    MONEY_ITEM,
    PROMISE_ITEM,
    SYSTEM,
    case_in,
    catalog,
    citizen,
    make_case,
    make_citizen,
    request_context,
    staff,
)

INSTANT_ITEM = "G002036004001"  # 异地安置退休人员备案: 即办件 handled by staff


@pytest.fixture
def cheap_hashes(monkeypatch):
    """argon2id at the lowest cost: the default takes ~0.4 s a hash and these tests make many staff."""
    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def make_worker(make_staff, cheap_hashes):
    """A staff account with ``roles``; returns (account, totp secret)."""

    def _make(username: str, *roles: Role):
        return make_staff(username, roles=set(roles) or {Role.ACCEPTOR})

    return _make


@pytest.fixture
def browser_as(make_client, make_worker):
    """A browser (own cookies) logged in as a new staff member with ``roles``; returns (browser, account)."""
    from tests.factories import log_in_staff

    def _login(username: str, *roles: Role):
        account, secret = make_worker(username, *roles)
        return log_in_staff(make_client(), username, secret), account

    return _login
