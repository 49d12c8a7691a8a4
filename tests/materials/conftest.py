"""Fixtures of the upload tests (test_uploads, test_views, test_api): the filing fixtures of tests/applications (a
bound citizen, staff by role, cases of known items), a second citizen, and a draft. Nothing here is autouse, so
the content-check and storage tests of this folder are not affected; the upload tests import the autouse
``request_context`` of tests/applications themselves."""

from __future__ import annotations

import pytest

from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from tests.applications.conftest import PROMISE_ITEM, SYSTEM, catalog, citizen, make_case, staff  # noqa: F401


@pytest.fixture
def stranger(db_session, make_person):
    """A second citizen, bound to another insured person."""
    from tests.factories import mobile

    phone = mobile()
    person = make_person(name="陌生人", phone=phone)
    issued = account_ops.request_login_code(account_ops.CodeRequest(phone), actor=SYSTEM, client_ip="127.0.0.7")
    account = account_ops.login_with_code(account_ops.CodeLogin(issued.code, handle=issued.handle), actor=SYSTEM,
                                          client_ip="127.0.0.7")
    binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number), actor=SYSTEM)
    return account


@pytest.fixture
def draft(make_case, citizen):  # noqa: F811 (the imported fixtures)
    """A draft of PROMISE_ITEM with its required fields filled and every material on paper."""
    return make_case(PROMISE_ITEM, citizen, submit=False)


@pytest.fixture
def api_for(make_client, db_session):
    """``api_for(account)``: a test client and the headers of ``account``'s bearer token."""
    from portal.accounts import tokens

    def _make(account):
        raw = tokens.issue_token(account, label="test")[0]
        db_session.commit()
        return make_client(), {"Authorization": f"Bearer {raw}"}

    return _make
