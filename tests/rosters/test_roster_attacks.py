"""Attacks on rosters: another unit's agent changes the case id in the page or API path (404, nothing stored or
removed), and neither the roster page nor the API answer ever carries a full 身份证 number or mobile of the rows,
even when a row is refused because of its number."""

from __future__ import annotations

import io
import re

from portal.accounts.tokens import issue_token
from portal.rosters import store
from tests.conftest import csrf_from
from tests.factories import log_in_by_code
from tests.rosters.support import csv_bytes, person_rows

FULL_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
KEYS = ["name", "id_type", "id_number", "declared_wage", "change_category", "mobile", "remark"]


def _rows(n: int) -> list[dict]:
    rows = [{k: v for k, v in zip(KEYS, row, strict=True) if v} for row in person_rows(n)]
    rows[1]["mobile"] = "13912345678"
    rows[2]["id_number"] = rows[2]["id_number"][:-1] + ("1" if rows[2]["id_number"][-1] != "1" else "2")  # bad check
    rows[3]["id_number"] = rows[0]["id_number"]  # the same person twice
    return rows


def test_another_units_agent_cannot_read_replace_or_remove_a_roster(draft, agent, client, db_session, make_unit,
                                                                    make_first_agent, make_client):
    db_session.commit()
    ours = {"Authorization": f"Bearer {issue_token(agent)[0]}"}
    assert client.put(f"/api/v1/applications/{draft.id}/roster", json={"rows": _rows(5)},
                      headers=ours).status_code == 200
    stranger_unit = make_unit(name="别家公司")
    stranger = make_first_agent(stranger_unit)
    theirs = {"Authorization": f"Bearer {issue_token(stranger)[0]}"}
    assert client.get(f"/api/v1/applications/{draft.id}/roster", headers=theirs).status_code == 404
    assert client.put(f"/api/v1/applications/{draft.id}/roster", json={"rows": _rows(5)[:1]},
                      headers=theirs).status_code == 404
    browser = log_in_by_code(make_client(), db_session, stranger.phone, unit=stranger_unit)
    assert browser.get(f"/applications/{draft.id}/roster").status_code == 404
    assert browser.get(f"/applications/{draft.id}/roster/template.xlsx").status_code == 404
    csrf = csrf_from(browser.get("/me/agents").get_data(as_text=True))  # a valid token of the stranger's session
    upload = browser.post(f"/applications/{draft.id}/roster", data={
        "csrf_token": csrf, "file": (io.BytesIO(csv_bytes(person_rows(1))), "r.csv")},
        content_type="multipart/form-data")
    assert upload.status_code == 404
    assert browser.post(f"/applications/{draft.id}/roster/remove", data={"csrf_token": csrf}).status_code == 404
    db_session.expire_all()
    assert store.roster_of(draft).row_count == 5


def test_no_full_id_number_or_mobile_in_the_roster_page_or_api(draft, agent, client, db_session, make_client):
    db_session.commit()
    headers = {"Authorization": f"Bearer {issue_token(agent)[0]}"}
    put = client.put(f"/api/v1/applications/{draft.id}/roster", json={"rows": _rows(6)}, headers=headers)
    assert put.status_code == 200 and put.get_json()["error_count"] >= 2
    answers = [put.get_data(as_text=True),
               client.get(f"/api/v1/applications/{draft.id}/roster?errors_only=true", headers=headers).get_data(
                   as_text=True)]
    browser = log_in_by_code(make_client(), db_session, agent.phone, unit=agent.unit)
    page = browser.get(f"/applications/{draft.id}/roster")
    assert page.status_code == 200
    answers.append(page.get_data(as_text=True))
    for text in answers:
        assert not FULL_ID.search(text), FULL_ID.search(text).group(0)
        assert not FULL_MOBILE.search(text), FULL_MOBILE.search(text).group(0)
