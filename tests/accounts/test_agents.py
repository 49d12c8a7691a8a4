"""Unit agents: phone + code under the unit's credit code; the first agent adds and removes the others."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.accounts import operations
from portal.accounts.models import Account, Role, SmsMessage
from portal.core.audit import Actor, AuditEvent
from portal.core.errors import PermissionDenied
from tests.factories import mobile


def _add(client, get_csrf, name, phone):
    return client.post("/me/agents", data={"csrf_token": get_csrf("/me/agents"), "name": name, "phone": phone})


def test_first_agent_logs_in_and_sees_the_unit(client, make_unit, make_first_agent, agent_login):
    unit = make_unit("吉林示范有限公司")
    phone = mobile()
    make_first_agent(unit, phone)
    response = agent_login(unit, phone)
    assert response.status_code == 302 and response.headers["Location"].endswith("/me")
    page = client.get("/me").get_data(as_text=True)
    assert "吉林示范有限公司" in page and unit.credit_code in page and "/me/agents" in page
    assert phone not in page


def test_first_agent_adds_and_removes_an_agent(client, db_session, make_unit, make_first_agent, agent_login,
                                               get_csrf, make_client, outbox_code):
    unit = make_unit()
    first_phone, second_phone = mobile(), mobile()
    make_first_agent(unit, first_phone)
    agent_login(unit, first_phone)
    response = _add(client, get_csrf, "周二", second_phone)
    assert response.status_code == 302
    second = db_session.execute(select(Account).where(Account.phone_index.isnot(None),
                                                      Account.is_unit_admin.is_(False))).scalar_one()
    assert second.unit_id == unit.id and second.is_active

    # the new agent can log in, but may not manage agents
    other = make_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', other.get("/login/agent").get_data(as_text=True))[1]
    other.post("/login/agent", data={"csrf_token": token, "credit_code": unit.credit_code, "phone": second_phone})
    code = outbox_code(second_phone)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', other.get("/login/code").get_data(as_text=True))[1]
    assert other.post("/login/code", data={"csrf_token": token, "code": code}).status_code == 302
    assert other.get("/me").status_code == 200
    assert other.get("/me/agents").status_code == 404

    # the first agent removes them: their session ends at once
    page = client.get("/me/agents").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    response = client.post(f"/me/agents/{second.id}/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert not second.is_active
    assert other.get("/me").status_code == 302
    actions = set(db_session.execute(select(AuditEvent.action)).scalars())
    assert {"agent.added", "agent.removed"} <= actions


def test_non_admin_agent_cannot_add_or_remove(db_session, make_unit, make_first_agent):
    unit = make_unit()
    first = make_first_agent(unit)
    second = operations.add_agent(unit, operations.NewAgent(mobile(), "周二"), by=first, actor=Actor("agent"))
    third = operations.add_agent(unit, operations.NewAgent(mobile(), "吴三"), by=first, actor=Actor("agent"))
    with pytest.raises(PermissionDenied):
        operations.add_agent(unit, operations.NewAgent(mobile(), "郑四"), by=second, actor=Actor("agent"))
    with pytest.raises(PermissionDenied):
        operations.remove_agent(third, by=second, actor=Actor("agent"))
    with pytest.raises(operations.DomainError):
        operations.remove_agent(first, by=first, actor=Actor("agent"))  # the first agent stays


def test_agents_of_another_unit_cannot_be_touched(client, make_unit, make_first_agent, agent_login, get_csrf):
    mine, theirs = make_unit("甲公司"), make_unit("乙公司")
    phone = mobile()
    make_first_agent(mine, phone)
    their_first = make_first_agent(theirs)
    their_second = operations.add_agent(theirs, operations.NewAgent(mobile(), "外人"), by=their_first,
                                        actor=Actor("agent"))
    agent_login(mine, phone)
    token = get_csrf("/me/agents")
    assert client.post(f"/me/agents/{their_second.id}/remove", data={"csrf_token": token}).status_code == 404
    assert their_second.is_active


def test_staff_administrator_may_manage_agents(make_unit, make_first_agent, make_staff):
    unit = make_unit()
    make_first_agent(unit)
    admin, _ = make_staff("boss", roles={Role.ADMIN})
    agent = operations.add_agent(unit, operations.NewAgent(mobile(), "周二"), by=admin, actor=Actor("staff"))
    operations.remove_agent(agent, by=admin, actor=Actor("staff"))
    assert not agent.is_active


def test_unknown_agent_phone_gets_no_sms_but_the_same_answer(client, db_session, make_unit, make_first_agent,
                                                            get_csrf):
    unit = make_unit()
    make_first_agent(unit)
    response = client.post("/login/agent", data={"csrf_token": get_csrf("/login/agent"),
                                                 "credit_code": unit.credit_code, "phone": mobile()})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 0
    assert "If" in client.get("/login/code").get_data(as_text=True)


def test_adding_an_existing_agent_or_bad_phone_is_refused(client, make_unit, make_first_agent, agent_login,
                                                          get_csrf):
    unit = make_unit()
    phone = mobile()
    make_first_agent(unit, phone)
    agent_login(unit, phone)
    duplicate = _add(client, get_csrf, "自己", phone)
    assert duplicate.status_code == 422 and "already an agent" in duplicate.get_data(as_text=True)
    bad = _add(client, get_csrf, "周二", "1234")
    assert bad.status_code == 422 and "11 digits" in bad.get_data(as_text=True)


def test_bad_credit_code_gets_a_clear_message(client, get_csrf):
    response = client.post("/login/agent", data={"csrf_token": get_csrf("/login/agent"),
                                                 "credit_code": "91220101", "phone": mobile()})
    assert response.status_code == 422 and "18 characters" in response.get_data(as_text=True)
