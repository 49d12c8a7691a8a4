"""Fixtures of the 异地就医备案 tests: a bound citizen, a region switch and a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.catalog.loader import get_catalog
from portal.core import clock
from tests.conftest import csrf_from
from tests.factories import mobile
from tests.services.remote_care_support import SYSTEM


@pytest.fixture
def english(app, db_session) -> Iterator[None]:
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


@pytest.fixture
def region(app) -> Iterator:
    """Switch the deployment's region for one test (the suite's app serves jilin)."""
    saved = app.extensions["portal_catalog"], app.config["PORTAL_REGION"]

    def _use(name: str) -> None:
        app.extensions["portal_catalog"] = get_catalog(name)
        app.config["PORTAL_REGION"] = name

    yield _use
    app.extensions["portal_catalog"], app.config["PORTAL_REGION"] = saved


@pytest.fixture
def at() -> Iterator:
    """Freeze the clock at a local (Asia/Shanghai) time: ``at(2026, 12, 1)``; returns the frozen source."""
    stack = []

    def _at(year: int, month: int, day: int, hour: int = 10):
        if stack:
            stack.pop().__exit__(None, None, None)
        manager = clock.frozen(datetime(year, month, day, hour))
        source = manager.__enter__()
        stack.append(manager)
        return source

    yield _at
    while stack:
        stack.pop().__exit__(None, None, None)


@pytest.fixture
def make_citizen(db_session, make_person):
    """A citizen account bound to a new insured person."""

    def _make(name: str = "李秀兰"):
        phone = mobile()
        person = make_person(name=name, phone=phone)
        code = account_ops.request_login_code(account_ops.CodeRequest(phone), actor=SYSTEM, client_ip="127.0.0.9")
        account = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                              client_ip="127.0.0.9")
        binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number), actor=SYSTEM)
        return account

    return _make


@pytest.fixture
def citizen(make_citizen):
    return make_citizen()


@pytest.fixture
def browser_for(make_client, db_session):
    """A browser logged in as ``account`` through the citizen login pages (code read from the SMS outbox)."""

    def _make(account):
        from portal.extensions import limiter
        from tests.factories import last_code

        limiter.reset()  # the fixture's own login already sent this phone a code a moment ago
        db_session.commit()
        browser = make_client()
        token = csrf_from(browser.get("/login/citizen").get_data(as_text=True))
        browser.post("/login/citizen", data={"csrf_token": token, "phone": account.phone})
        token = csrf_from(browser.get("/login/code").get_data(as_text=True))
        response = browser.post("/login/code", data={"csrf_token": token, "code": last_code(db_session, account.phone)})
        assert response.status_code == 302, response.get_data(as_text=True)
        return browser

    return _make
