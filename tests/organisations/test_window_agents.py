"""The window's screen of a unit's agents (/staff/units): staff find the unit, suspend, resume and remove an agent
(the administrator too) with the unit's reason, audited; no reason, no change; other roles 403."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal.accounts import operations as account_ops
from portal.accounts.models import Role
from portal.accounts.tokens import issue_token
from portal.core.audit import Actor, AuditEvent
from tests.conftest import csrf_from
from tests.factories import log_in_by_code, log_in_staff, mobile

SYSTEM = Actor.system()


@pytest.fixture
def unit_agents(db_session, make_unit, make_first_agent):
    unit = make_unit(name="长春窗口测试有限公司")
    admin = make_first_agent(unit, name="王管理")
    other = account_ops.add_agent(unit, account_ops.NewAgent(mobile(), "周二", scope={"items": ["J002036011001"],
                                                                                      "parts": []}),
                                  by=admin, actor=SYSTEM)
    db_session.commit()
    return unit, admin, other


def _desk(make_client, make_staff, db_session, role=Role.ACCEPTOR, name="twindow"):
    _account, secret = make_staff(name, roles={role})
    db_session.commit()
    return log_in_staff(make_client(), name, secret)


def _events(db_session, action: str) -> list[dict]:
    """The details of the audit rows of ``action``."""
    return [json.loads(e.detail) for e in db_session.execute(select(AuditEvent).where(AuditEvent.action == action))
            .scalars()]


def test_the_window_suspends_resumes_and_removes_an_agent_with_the_units_reason(
        unit_agents, make_client, make_staff, db_session, client):
    unit, admin, other = unit_agents
    desk = _desk(make_client, make_staff, db_session)
    found = desk.get(f"/staff/units/?credit_code={unit.credit_code}")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/staff/units/{unit.id}")
    page = desk.get(f"/staff/units/{unit.id}").get_data(as_text=True)
    assert f'id="agent-{admin.id}"' in page and f'id="agent-{other.id}"' in page
    assert other.phone not in page  # masked
    token = {"Authorization": f"Bearer {issue_token(other)[0]}"}
    agent_browser = log_in_by_code(make_client(), db_session, other.phone, unit=unit)

    # no reason: nothing changes, the reason's box says why
    refused = desk.post(f"/staff/units/{unit.id}/agents/{other.id}/suspend",
                        data={"csrf_token": csrf_from(page), "reason": "  "})
    assert refused.status_code == 422 and "Say why" in refused.get_data(as_text=True)
    db_session.refresh(other)
    assert other.mandate.status == "active"

    done = desk.post(f"/staff/units/{unit.id}/agents/{other.id}/suspend",
                     data={"csrf_token": csrf_from(page), "reason": "经办人手机遗失，单位持函申请暂停"})
    assert done.status_code == 302
    db_session.refresh(other)
    assert other.mandate.status == "suspended" and not other.is_active
    assert client.get("/api/v1/me", headers=token).status_code == 401  # the token ended
    assert agent_browser.get("/applications/").status_code in (302, 401)  # so did the session
    [event] = _events(db_session, "agent.suspended")
    assert event["reason"] == "经办人手机遗失，单位持函申请暂停" and event["by"] == "window"

    page = desk.get(f"/staff/units/{unit.id}").get_data(as_text=True)
    assert f'id="agent-{other.id}" data-status="suspended"' in page
    assert desk.post(f"/staff/units/{unit.id}/agents/{other.id}/resume",
                     data={"csrf_token": csrf_from(page), "reason": "手机已找回"}).status_code == 302
    db_session.refresh(other)
    assert other.mandate.status == "active"

    # the administrator too (their own page cannot): removed, the unit may register a new first agent
    assert desk.post(f"/staff/units/{unit.id}/agents/{admin.id}/remove",
                     data={"csrf_token": csrf_from(page), "reason": "原管理员离职，单位申请更换"}).status_code == 302
    db_session.refresh(admin)
    assert not admin.is_enabled and not admin.is_unit_admin and admin.mandate.status == "removed"
    [event] = _events(db_session, "agent.removed")
    assert event["administrator"] is True and event["reason"] == "原管理员离职，单位申请更换"
    assert f'id="agent-{admin.id}"' not in desk.get(f"/staff/units/{unit.id}").get_data(as_text=True)
    assert len(_events(db_session, "unit_agents.viewed")) >= 3


def test_an_unknown_credit_code_is_said_and_other_roles_are_refused(unit_agents, make_client, make_staff,
                                                                    db_session):
    unit, _admin, other = unit_agents
    desk = _desk(make_client, make_staff, db_session)
    wrong = desk.get("/staff/units/?credit_code=12345")
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.get_data(as_text=True)
    reviewer = _desk(make_client, make_staff, db_session, Role.REVIEWER, "twreviewer")
    assert reviewer.get(f"/staff/units/{unit.id}").status_code == 403
    page = reviewer.get("/staff/registrations/").get_data(as_text=True)  # a page of theirs, for their CSRF token
    assert reviewer.post(f"/staff/units/{unit.id}/agents/{other.id}/suspend",
                         data={"csrf_token": csrf_from(page), "reason": "x"}).status_code == 403
    db_session.refresh(other)
    assert other.mandate.status == "active"
