"""The filing fixtures (citizens, staff by role, cases driven into any state) serve these tests too."""

import pytest

from portal.accounts import tokens
from portal.extensions import limiter
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    SYSTEM,
    case_in,
    catalog,
    citizen,
    make_case,
    make_citizen,
    request_context,
    staff,
)
from tests.conftest import csrf_from
from tests.factories import last_code


@pytest.fixture
def web_login(make_client, db_session):
    """A browser (English pages) logged in as ``account`` through the citizen pages; ``.csrf(url)`` reads a form's
    token."""

    def _login(account):
        db_session.commit()
        limiter.reset()  # the fixture that made the account sent its phone a code a moment ago
        browser = make_client()
        browser.csrf = lambda url: csrf_from(browser.get(url).get_data(as_text=True))
        browser.post("/login/citizen", data={"csrf_token": browser.csrf("/login/citizen"), "phone": account.phone})
        response = browser.post("/login/code", data={"csrf_token": browser.csrf("/login/code"),
                                                     "code": last_code(db_session, account.phone)})
        assert response.status_code == 302, response.get_data(as_text=True)
        return browser

    return _login


@pytest.fixture
def bearer(db_session):
    def _headers(account) -> dict[str, str]:
        raw = tokens.issue_token(account, label="test")[0]
        db_session.commit()
        return {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}

    return _headers
