"""An attacker's view of organisations' agents: the administrator of one unit changes an id in a URL or an API path
to reach another unit's agent; a suspended agent or one past the mandate's last day keeps a logged-in browser or an
API token; a unit's agent files an institution's item or the reverse."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts import operations as account_ops
from portal.accounts.models import Account
from portal.accounts.tokens import issue_token
from portal.applications.models import Application
from portal.applications.permissions import cannot_file
from portal.core import clock
from portal.core.audit import Actor
from portal.organisations.models import AgentStatus
from tests.conftest import csrf_from
from tests.factories import log_in_by_code, mobile

SYSTEM = Actor.system()
UNIT_ITEM = "J002036011001"  # 单位缴费基数申报(年度)
INSTITUTION_ITEM = "G002036009001"  # 医疗机构申请定点协议管理


@pytest.fixture
def two_units(db_session, make_unit, make_first_agent):
    ours, theirs = make_unit("甲公司"), make_unit("乙公司")
    our_admin, their_admin = make_first_agent(ours), make_first_agent(theirs)
    their_agent = account_ops.add_agent(theirs, account_ops.NewAgent(mobile(), "孙五"), by=their_admin, actor=SYSTEM)
    db_session.flush()
    return ours, our_admin, theirs, their_agent


def _untouched(db_session, agent: Account) -> None:
    db_session.expire_all()
    agent = db_session.get(Account, agent.id)
    assert agent.is_enabled and agent.is_active
    assert agent.mandate is None or (agent.mandate.scope is None and agent.mandate.status == AgentStatus.ACTIVE)


def test_an_administrator_cannot_reach_another_units_agent_through_the_api(two_units, client, db_session):
    _ours, our_admin, _theirs, their_agent = two_units
    headers = {"Authorization": f"Bearer {issue_token(our_admin)[0]}"}
    url = f"/api/v1/unit/agents/{their_agent.id}"
    assert client.put(url, headers=headers, json={"scope": {"items": [UNIT_ITEM]}}).status_code == 404
    assert client.put(url + "/status", headers=headers, json={"status": "suspended"}).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    listed = client.get("/api/v1/unit/agents", headers=headers).get_json()["agents"]
    assert their_agent.id not in {a["id"] for a in listed}
    _untouched(db_session, their_agent)


def test_an_administrator_cannot_reach_another_units_agent_on_the_pages(two_units, make_client, db_session):
    ours, our_admin, _theirs, their_agent = two_units
    browser = log_in_by_code(make_client(), db_session, our_admin.phone, unit=ours)
    page = browser.get("/me/agents")
    assert page.status_code == 200 and "孙五" not in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    assert browser.get(f"/me/agents/{their_agent.id}").status_code == 404
    assert browser.post(f"/me/agents/{their_agent.id}", data={"csrf_token": token, "everything": "some",
                                                             "items": [UNIT_ITEM]}).status_code == 404
    for action in ("suspend", "remove"):
        assert browser.post(f"/me/agents/{their_agent.id}/{action}",
                            data={"csrf_token": token}).status_code == 404
    _untouched(db_session, their_agent)


def _cut_off(agent: Account, how: str, admin: Account, db_session) -> None:
    if how == "suspended":
        account_ops.suspend_agent(agent, by=admin, actor=SYSTEM)
    elif how == "removed":
        account_ops.remove_agent(agent, by=admin, actor=SYSTEM)
    else:  # the mandate's last day was yesterday (set in the row: the pages refuse a last day in the past)
        account_ops.change_agent(agent, account_ops.AgentChange(None, clock.today() + timedelta(days=1)), by=admin,
                                 actor=SYSTEM)
        agent.mandate.expires_on = clock.today() - timedelta(days=1)
    db_session.commit()  # as the page or API that did it commits (a refused request's rollback keeps it)


@pytest.mark.parametrize("how", ["suspended", "removed", "past the last day"])
def test_a_cut_off_agent_keeps_neither_browser_session_nor_api_token(how, two_units, make_client, client,
                                                                     db_session):
    _ours, _our_admin, theirs, agent = two_units
    admin = next(a for a in account_ops.unit_agents(theirs) if a.is_unit_admin)
    browser = log_in_by_code(make_client(), db_session, agent.phone, unit=theirs)
    headers = {"Authorization": f"Bearer {issue_token(agent)[0]}"}
    assert browser.get("/applications/").status_code == 200
    assert client.get("/api/v1/applications", headers=headers).status_code == 200
    _cut_off(agent, how, admin, db_session)
    assert browser.get("/applications/").status_code in (302, 401)
    assert browser.get("/me/agents").status_code in (302, 401)  # the session is gone, not just this page
    assert "csrf_token" not in browser.get(f"/apply/{UNIT_ITEM}").get_data(as_text=True)  # no apply form either
    assert db_session.execute(select(func.count()).select_from(Application).where(
        Application.applicant_id == agent.id)).scalar_one() == 0
    assert client.get("/api/v1/applications", headers=headers).status_code == 401
    assert client.post("/api/v1/applications", json={"item_code": UNIT_ITEM}, headers=headers).status_code == 401


def test_a_unit_files_no_institution_item_and_an_institution_no_unit_item(app, db_session, client, make_unit,
                                                                         make_first_agent, make_institution,
                                                                         make_institution_agent):
    unit_agent = make_first_agent(make_unit())
    institution_agent = make_institution_agent(make_institution())
    catalog = app.extensions["portal_catalog"]
    for item in catalog.items:
        if item.online and "unit" not in item.audience:
            assert cannot_file(unit_agent, item) is not None, item.code
        if item.online and "institution" not in item.audience:
            assert cannot_file(institution_agent, item) is not None, item.code
    assert cannot_file(unit_agent, catalog.get(UNIT_ITEM)) is None
    assert cannot_file(institution_agent, catalog.get(INSTITUTION_ITEM)) is None
    for agent, item_code in ((unit_agent, INSTITUTION_ITEM), (institution_agent, UNIT_ITEM)):
        headers = {"Authorization": f"Bearer {issue_token(agent)[0]}"}
        refused = client.post("/api/v1/applications", json={"item_code": item_code}, headers=headers)
        assert refused.status_code == 403, (item_code, refused.get_json())
