"""Fixtures of the settlement tests: the claims' (staff by role, cases, a citizen, staff browsers), a designated
institution with two agents, and a settlement case of it at any step."""

from __future__ import annotations

import pytest

from portal.applications import operations as ops
from tests.applications.conftest import all_materials
from tests.services.claims.conftest import (  # noqa: F401 (fixtures shared with the claims tests)
    SYSTEM,
    browser_as,
    catalog,
    cheap_hashes,
    make_case,
    make_worker,
    staff,
)

MONTHLY = "G002036001001_01"  # 吉林 定点机构医保费用月结算
ACCOUNT = "22050161000100012345"  # a company account: 20 digits, no card check digit


@pytest.fixture(autouse=True)
def request_context(app, db_session):
    """Operations translate their messages: here in Chinese, the institution's language."""
    with app.test_request_context("/", headers={"Cookie": "lang=zh_Hans_CN"}):
        yield


@pytest.fixture
def clinic(make_institution):
    return make_institution(name="演示第一诊所")


@pytest.fixture
def clinic_agents(clinic, make_institution_agent):
    """The clinic's first agent (its administrator) and a second agent."""
    from portal.accounts import operations as account_ops
    from tests.factories import mobile

    first = make_institution_agent(clinic, name="钱经办")
    second = account_ops.add_agent(clinic, account_ops.NewAgent(mobile(), "孙经办"), by=first, actor=SYSTEM)
    return first, second


def declaration(**changes) -> dict:
    data = {"period": "2026-10", "category": "职工基本医疗保险", "total_cost": "125000.00", "fund_paid": "80000.00",
            "account_paid": "20000.00", "self_paid": "25000.00", "visits": "812", "deducted": "1500.00",
            "payee_name": "演示第一诊所", "payee_bank": "中国建设银行长春分行", "payee_account": ACCOUNT}
    data.update(changes)
    return data


@pytest.fixture
def file_settlement(app):
    """A settlement declaration filed by ``by`` (submitted unless ``submit=False``)."""

    def _file(by, *, submit: bool = True, code: str = MONTHLY, **changes):
        item = app.extensions["portal_catalog"].get(code)
        case = ops.start_application(item, by=by, actor=SYSTEM)
        data = {**case.form_data, "agent_name": "钱经办", **declaration(**changes)}
        ops.save_draft(case, ops.DraftInput(form=data, materials=all_materials(item)), by=by, actor=SYSTEM)
        if submit:
            ops.submit_application(case, by=by, actor=SYSTEM)
        return case

    return _file


def to_paying(case, team, *, amount: str = "", reason: str = ""):
    """Accepted, reviewed, approved (with ``amount`` and ``reason`` when given) and payment started."""
    from portal.services.claims import operations as claims

    ops.accept_application(case, by=team["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=team["reviewer"], actor=SYSTEM)
    if amount:
        claims.decide_amount(case, amount, reason, by=team["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=team["reviewer"], actor=SYSTEM)
    ops.start_payment(case, by=team["finance"], actor=SYSTEM)
    return case
