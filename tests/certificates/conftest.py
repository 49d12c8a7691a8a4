"""Fixtures of the query and certificate tests: known records, and browsers logged in through the real pages."""

from __future__ import annotations

import pytest

from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from tests.factories import log_in_by_code as login

from .records import SYSTEM, build_insured


@pytest.fixture
def insured(db_session, make_person, make_unit):
    return build_insured(db_session, make_person, make_unit)


def bind(phone: str, person) -> object:
    code = account_ops.request_login_code(account_ops.CodeRequest(phone), actor=SYSTEM, client_ip="127.0.0.7")
    account = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                          client_ip="127.0.0.7")
    binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number), actor=SYSTEM)
    return account


@pytest.fixture
def citizen(app, insured):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        return bind(insured.phone, insured.person)


@pytest.fixture
def agent(insured, make_first_agent):
    return make_first_agent(insured.unit, name="赵经办")


@pytest.fixture
def citizen_browser(make_client, db_session, citizen, insured):
    db_session.commit()
    return login(make_client(), db_session, insured.phone)


@pytest.fixture
def agent_browser(make_client, db_session, agent, insured):
    db_session.commit()
    return login(make_client(), db_session, agent.phone, unit=insured.unit)
