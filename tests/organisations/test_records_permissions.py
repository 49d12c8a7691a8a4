"""The unit's records follow the agent's items, like cases and certificates: the staff list with a staff item, the
contributions (months, arrears, 应缴核定单) with a contribution item, both with the administrator's full mandate;
an agent whose items cover neither sees no records (pages, downloads and API)."""

from __future__ import annotations

import pytest

from portal.accounts import operations as account_ops
from portal.accounts.tokens import issue_token
from portal.core.audit import Actor
from tests.factories import log_in_by_code, mobile

SYSTEM = Actor.system()
CONTRIBUTION_ITEM = "J002036011001"  # 单位缴费基数申报(年度): enrolment.contribution_base
STAFF_ITEM = "G002036001002_01"  # 职工参保登记: enrolment.staff_register
REGISTRATION_ITEM = "G002036001001"  # 单位参保登记: neither


@pytest.fixture
def agents(db_session, make_unit, make_first_agent):
    unit = make_unit()
    admin = make_first_agent(unit)

    def limited(name: str, item: str):
        return account_ops.add_agent(unit, account_ops.NewAgent(mobile(), name, scope={"items": [item], "parts": []}),
                                     by=admin, actor=SYSTEM)

    made = {"admin": admin, "contributions": limited("钱缴费", CONTRIBUTION_ITEM),
            "staff": limited("孙人事", STAFF_ITEM), "neither": limited("李登记", REGISTRATION_ITEM)}
    db_session.commit()
    return unit, made


PAGES = {"/unit/records/staff": "staff", "/unit/records/staff.csv": "staff", "/unit/records/staff.xlsx": "staff",
         "/unit/records/contributions": "contributions", "/unit/records/contributions.csv": "contributions",
         "/unit/records/contributions.xlsx": "contributions", "/unit/records/assessment.xlsx": "contributions",
         "/unit/records/assessment.pdf": "contributions"}


@pytest.mark.parametrize("who", ["admin", "contributions", "staff", "neither"])
def test_the_pages_and_downloads_show_only_what_the_agents_items_cover(agents, who, make_client, db_session):
    unit, made = agents
    browser = log_in_by_code(make_client(), db_session, made[who].phone, unit=unit)
    allowed = {"admin": {"staff", "contributions"}, "contributions": {"contributions"}, "staff": {"staff"},
               "neither": set()}[who]
    got = {path: browser.get(path).status_code for path in PAGES}
    assert got == {path: 200 if section in allowed else 404 for path, section in PAGES.items()}
    overview = browser.get("/unit/records")
    assert overview.status_code == (200 if allowed else 404)
    if allowed:
        page = overview.get_data(as_text=True)
        assert ("Insured persons" in page) == ("staff" in allowed)
        assert ("Months in arrears" in page) == ("contributions" in allowed)
        assert ('href="/unit/records/staff"' in page) == ("staff" in allowed)
        assert ('href="/unit/records/contributions"' in page) == ("contributions" in allowed)


def test_the_api_shows_only_what_the_agents_items_cover(agents, client):
    _unit, made = agents

    def get(who: str, path: str):
        return client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {issue_token(made[who])[0]}"})

    assert get("contributions", "/records/unit/staff").status_code == 404
    assert "has not given you" in get("contributions", "/records/unit/staff").get_json()["error"]["message"]
    assert get("contributions", "/records/unit/contributions").status_code == 200
    body = get("contributions", "/records/unit").get_json()
    assert "arrears_months" in body and "headcount" not in body
    assert get("staff", "/records/unit/contributions").status_code == 404
    assert get("staff", "/records/unit/staff").status_code == 200
    body = get("staff", "/records/unit").get_json()
    assert "headcount" in body and "arrears_months" not in body
    assert get("neither", "/records/unit").status_code == 404
    body = get("admin", "/records/unit").get_json()
    assert {"headcount", "arrears_months"} <= set(body)
