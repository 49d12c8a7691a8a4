"""The batch API: JSON rows onto a draft's roster with the same checks as a file, idempotent, then submission."""

from __future__ import annotations

from portal.accounts.tokens import issue_token
from tests.rosters.support import person_rows

KEYS = ["name", "id_type", "id_number", "declared_wage", "change_category", "mobile", "remark"]


def _rows(n: int) -> list[dict]:
    return [{k: v for k, v in zip(KEYS, row, strict=True) if v} for row in person_rows(n)]


def test_json_rows_are_checked_like_a_file_and_a_repeat_changes_nothing(draft, agent, client, db_session):
    db_session.commit()
    headers = {"Authorization": f"Bearer {issue_token(agent)[0]}"}
    rows = _rows(300)
    rows[4]["id_number"] = rows[4]["id_number"][:-1] + ("1" if rows[4]["id_number"][-1] != "1" else "2")
    got = client.put(f"/api/v1/applications/{draft.id}/roster", json={"rows": rows},
                     headers=headers | {"Idempotency-Key": "roster-key-0001"})
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    assert (body["row_count"], body["error_count"], body["new_count"]) == (300, 1, 299)
    assert body["rows"][0]["row"] == 5 and body["rows"][0]["errors"][0]["column"] == "id_number"
    again = client.put(f"/api/v1/applications/{draft.id}/roster", json={"rows": _rows(300)},
                       headers=headers | {"Idempotency-Key": "roster-key-0001"})
    assert again.get_json()["error_count"] == 1  # the same key: the roster in place, not checked again
    fixed = client.put(f"/api/v1/applications/{draft.id}/roster", json={"rows": _rows(300)}, headers=headers)
    assert fixed.get_json()["error_count"] == 0
    submitted = client.post(f"/api/v1/applications/{draft.id}/submit", headers=headers | {"Idempotency-Key":
                                                                                          "submit-key-0001"})
    assert submitted.status_code == 200, submitted.get_json()
    page = client.get(f"/api/v1/applications/{draft.id}/roster?page=3", headers=headers).get_json()
    assert [r["row"] for r in page["rows"]][:1] == [201] and page["pages"] == 3


def test_unknown_columns_are_refused_and_nothing_is_stored(draft, agent, client, db_session):
    db_session.commit()
    headers = {"Authorization": f"Bearer {issue_token(agent)[0]}"}
    got = client.put(f"/api/v1/applications/{draft.id}/roster", json={"rows": [{"name": "张三", "工号": "7"}]},
                     headers=headers)
    assert got.status_code == 422 and "工号" in str(got.get_json())
    assert client.get(f"/api/v1/applications/{draft.id}/roster", headers=headers).status_code == 404
