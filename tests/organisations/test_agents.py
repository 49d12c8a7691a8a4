"""Agents with permissions: the administrator limits an agent to items or groups and a last day, suspends and
removes them (pages and API, audited); an agent without an item cannot file it or see its cases (pages and API)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.accounts import operations as account_ops
from portal.accounts.models import Account
from portal.accounts.tokens import issue_token
from portal.applications import operations as ops
from portal.applications.constants import MaterialMode
from portal.core import clock
from portal.core.audit import Actor, AuditEvent
from portal.core.errors import DomainError, PermissionDenied, ValidationFailed
from tests.applications.conftest import sample_value
from tests.conftest import csrf_from
from tests.factories import mobile

SYSTEM = Actor.system()
ALLOWED_ITEM = "J002036011001"  # 单位缴费基数申报(年度), part I
OTHER_ITEM = "G002036001001"  # 单位参保登记, part A
NOW = datetime(2026, 12, 1, 10, 0)


def _filed(app, item_code, by):
    item = app.extensions["portal_catalog"].get(item_code)
    case = ops.start_application(item, by=by, actor=SYSTEM)
    data = dict(case.form_data)
    for spec in ops.specs_for(case, item):
        if spec.required and spec.key not in data:
            data[spec.key] = sample_value(spec)
    ops.save_draft(case, ops.DraftInput(form=data, materials={m.id: MaterialMode.AT_WINDOW.value
                                                               for m in item.materials}), by=by, actor=SYSTEM)
    ops.submit_application(case, by=by, actor=SYSTEM)
    return case


@pytest.fixture
def unit_with_agents(app, db_session, make_unit, make_first_agent):
    unit = make_unit()
    admin = make_first_agent(unit)
    limited = account_ops.add_agent(unit, account_ops.NewAgent(mobile(), "周二", scope={"items": [ALLOWED_ITEM],
                                                                                      "parts": []}),
                                    by=admin, actor=SYSTEM)
    allowed_case = _filed(app, ALLOWED_ITEM, admin)
    other_case = _filed(app, OTHER_ITEM, admin)
    db_session.flush()
    return unit, admin, limited, allowed_case, other_case


def test_an_agent_without_the_item_cannot_file_or_see_it_on_the_pages(unit_with_agents, make_client, db_session):
    from tests.factories import log_in_by_code

    unit, _admin, limited, allowed_case, other_case = unit_with_agents
    browser = log_in_by_code(make_client(), db_session, limited.phone, unit=unit)
    assert "has not given you this item" not in browser.get(f"/apply/{ALLOWED_ITEM}").get_data(as_text=True)
    page = browser.get(f"/apply/{OTHER_ITEM}").get_data(as_text=True)
    assert "has not given you this item" in page
    response = browser.post(f"/apply/{OTHER_ITEM}", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302 and db_session.execute(select(AuditEvent).where(
        AuditEvent.action == "application.started", AuditEvent.actor_id == str(limited.id))).first() is None

    assert browser.get(f"/applications/{other_case.id}").status_code == 404
    assert browser.get(f"/applications/{allowed_case.id}").status_code == 200
    listing = browser.get("/applications/").get_data(as_text=True)
    assert allowed_case.number in listing and other_case.number not in listing


def test_an_agent_without_the_item_cannot_file_or_see_it_through_the_api(app, unit_with_agents, client):
    _unit, _admin, limited, allowed_case, other_case = unit_with_agents
    raw, _token = issue_token(limited)
    headers = {"Authorization": f"Bearer {raw}"}
    refused = client.post("/api/v1/applications", json={"item_code": OTHER_ITEM}, headers=headers)
    assert refused.status_code == 403 and "has not given you this item" in refused.get_json()["error"]["message"]
    assert client.post("/api/v1/applications", json={"item_code": ALLOWED_ITEM}, headers=headers).status_code in (
        200, 201)
    assert client.get(f"/api/v1/applications/{other_case.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/applications/{allowed_case.id}", headers=headers).status_code == 200
    numbers = {c["number"] for c in client.get("/api/v1/applications", headers=headers).get_json()["items"]}
    assert allowed_case.number in numbers and other_case.number not in numbers


def test_a_group_of_items_gives_every_item_of_the_part(app, db_session, make_unit, make_first_agent):
    from portal.applications.permissions import cannot_file

    unit = make_unit()
    admin = make_first_agent(unit)
    agent = account_ops.add_agent(unit, account_ops.NewAgent(mobile(), "郑四", scope={"items": [], "parts": ["A"]}),
                                  by=admin, actor=SYSTEM)
    catalog = app.extensions["portal_catalog"]
    assert cannot_file(agent, catalog.get(OTHER_ITEM)) is None  # part A
    assert cannot_file(agent, catalog.get(ALLOWED_ITEM)) is not None  # part I


def test_the_administrator_changes_suspends_and_removes_an_agent_on_the_pages(unit_with_agents, make_client,
                                                                               db_session):
    from tests.factories import log_in_by_code

    unit, admin, limited, _allowed, other_case = unit_with_agents
    admin_browser = log_in_by_code(make_client(), db_session, admin.phone, unit=unit)
    agent_browser = log_in_by_code(make_client(), db_session, limited.phone, unit=unit)
    page = admin_browser.get(f"/me/agents/{limited.id}").get_data(as_text=True)
    response = admin_browser.post(f"/me/agents/{limited.id}", data={
        "csrf_token": csrf_from(page), "everything": "some", "parts": ["A"], "items": [ALLOWED_ITEM],
        "expires_on": "2099-12-31"})
    assert response.status_code == 302
    assert limited.mandate.scope == {"items": [ALLOWED_ITEM], "parts": ["A"]}
    assert limited.mandate.expires_on == date(2099, 12, 31)
    assert agent_browser.get(f"/applications/{other_case.id}").status_code == 200  # part A now

    page = admin_browser.get("/me/agents").get_data(as_text=True)
    assert admin_browser.post(f"/me/agents/{limited.id}/suspend",
                              data={"csrf_token": csrf_from(page)}).status_code == 302
    assert not limited.is_active
    assert agent_browser.get("/me").status_code == 302  # logged out at once
    admin_browser.post(f"/me/agents/{limited.id}/resume", data={"csrf_token": csrf_from(page)})
    assert limited.is_active
    admin_browser.post(f"/me/agents/{limited.id}/remove", data={"csrf_token": csrf_from(page)})
    assert not limited.is_enabled and limited.mandate.status == "removed"

    actions = list(db_session.execute(select(AuditEvent).where(
        AuditEvent.object_id == str(limited.id), AuditEvent.action.like("agent.%"))
        .order_by(AuditEvent.id)).scalars())
    assert [e.action for e in actions] == ["agent.added", "agent.changed", "agent.suspended", "agent.resumed",
                                           "agent.removed"]
    assert '"parts": ["A"]' in actions[1].detail and '"from"' in actions[1].detail


def test_bad_permissions_are_refused_at_their_field(unit_with_agents, make_client, db_session):
    from tests.factories import log_in_by_code

    unit, admin, limited, _allowed, _other = unit_with_agents
    browser = log_in_by_code(make_client(), db_session, admin.phone, unit=unit)
    page = browser.get("/me/agents").get_data(as_text=True)
    response = browser.post("/me/agents", data={"csrf_token": csrf_from(page), "name": "王五", "phone": mobile(),
                                                "everything": "some", "expires_on": "2020-01-01"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at least one item" in text and "cannot be in the past" in text and 'value="王五"' in text
    with pytest.raises(ValidationFailed):
        account_ops.change_agent(limited, account_ops.AgentChange({"items": ["NO_SUCH"], "parts": []}, None),
                                 by=admin, actor=SYSTEM)
    with pytest.raises(DomainError):
        account_ops.suspend_agent(admin, by=admin, actor=SYSTEM)
    with pytest.raises(PermissionDenied):
        account_ops.suspend_agent(admin, by=limited, actor=SYSTEM)


def test_past_the_last_day_the_agent_cannot_log_in(unit_with_agents, client, get_csrf, db_session):
    unit, admin, limited, _allowed, _other = unit_with_agents
    with clock.frozen(NOW):
        account_ops.change_agent(limited, account_ops.AgentChange(None, NOW.date() + timedelta(days=1)), by=admin,
                                 actor=SYSTEM)
        assert limited.is_active
    with clock.frozen(NOW + timedelta(days=2)):
        assert not limited.is_active
        client.post("/login/agent", data={"csrf_token": get_csrf("/login/agent"), "credit_code": unit.credit_code,
                                          "phone": limited.phone})
        assert db_session.execute(select(AuditEvent).where(AuditEvent.action == "otp.withheld")).first()


def test_the_api_manages_agents_for_the_administrator_only(unit_with_agents, client, db_session):
    _unit, admin, limited, _allowed, _other = unit_with_agents
    admin_headers = {"Authorization": f"Bearer {issue_token(admin)[0]}"}
    agent_headers = {"Authorization": f"Bearer {issue_token(limited)[0]}"}
    assert client.get("/api/v1/unit/agents", headers=agent_headers).status_code == 404
    listing = client.get("/api/v1/unit/agents", headers=admin_headers).get_json()["agents"]
    assert [a["is_administrator"] for a in listing] == [True, False]
    assert listing[1]["scope"] == {"items": [ALLOWED_ITEM], "parts": []} and limited.phone not in str(listing)

    phone = mobile()
    added = client.post("/api/v1/unit/agents", headers=admin_headers, json={
        "name": "钱六", "phone": phone, "scope": {"parts": ["I"]}, "expires_on": "2099-01-31"})
    assert added.status_code == 201, added.get_json()
    new_id = added.get_json()["id"]
    assert added.get_json()["scope"] == {"items": [], "parts": ["I"]}
    bad = client.post("/api/v1/unit/agents", headers=admin_headers, json={"name": "钱七", "phone": "123"})
    assert bad.status_code == 422 and "phone" in bad.get_json()["error"]["fields"]

    changed = client.put(f"/api/v1/unit/agents/{new_id}", headers=admin_headers, json={"scope": None})
    assert changed.status_code == 200 and changed.get_json()["scope"] is None
    suspended = client.put(f"/api/v1/unit/agents/{new_id}/status", headers=admin_headers, json={"status": "suspended"})
    assert suspended.get_json()["status"] == "suspended"
    assert client.delete(f"/api/v1/unit/agents/{new_id}", headers=admin_headers).status_code == 204
    assert not db_session.get(Account, new_id).is_enabled
    assert client.delete(f"/api/v1/unit/agents/{admin.id}", headers=admin_headers).status_code == 400
    assert client.delete(f"/api/v1/unit/agents/{new_id}", headers=agent_headers).status_code == 404
