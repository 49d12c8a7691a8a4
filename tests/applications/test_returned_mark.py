"""The review queue's 退回重审 mark (``application.returned_at``): the revision that adds it gives it to cases already
returned and still in review, from their timeline, and its downgrade drops it (SQLite, and a schema of its own on
PostgreSQL when PORTAL_TEST_DATABASE_URL is set). The mark on the queue page is in
tests/workbench/test_claims_page.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text

from tests.test_downgrades import CITIZEN, migrate, migrated_database

REVISION = "ee92bfff827a"
BEFORE = "3bc29cb29e9e"
FIRST_RETURN, SECOND_RETURN, APPROVED_AGAIN = ("2026-12-01 02:00:00+00", "2026-12-03 06:30:00+00",
                                               "2026-12-04 01:00:00+00")


def _case(connection, case_id: int, state: str, events: list[tuple[str, str, str, str]]) -> None:
    connection.execute(text(
        "INSERT INTO application (id, number, region, item_code, item_name, handler, audience, is_money, is_instant, "
        "limit_kind, limit_wording, applicant_id, applicant_name, on_behalf, form_json, materials_json, state, "
        "version, created_at, updated_at, paused_working_days, queue) VALUES (:id, :number, 'jilin', 'X', '报销', "
        "'claims', 'individual', true, false, 'working_days', '', 1, 'sealed', false, '{}', '{}', :state, 1, "
        "'2026-11-30 00:00:00+00', '2026-11-30 00:00:00+00', 0, 'review')"),
        {"id": case_id, "number": f"N{case_id}", "state": state})
    for action, before, after, at in events:
        connection.execute(text(
            "INSERT INTO application_event (application_id, action, from_state, to_state, actor_kind, at, reason, "
            "detail_json) VALUES (:case, :action, :before, :after, 'staff', :at, :reason, '{}')"),
            {"case": case_id, "action": action, "before": before, "after": after, "at": at,
             "reason": "金额不符" if action == "return_to_review" else None})


def _marks(connection) -> dict[int, object]:
    rows = connection.execute(text("SELECT id, returned_at FROM application ORDER BY id")).all()
    return {case_id: None if at is None else (at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
                                              if isinstance(at, datetime) else str(at)[:16])  # SQLite: text
            for case_id, at in rows}


@pytest.mark.no_db
def test_the_revision_marks_the_cases_returned_and_still_in_review_and_its_downgrade_drops_the_mark(app, tmp_path):
    with migrated_database(app, tmp_path) as (connection, config):
        migrate(connection, command.upgrade, config, BEFORE)
        connection.execute(text(CITIZEN))
        approve = ("approve", "under_review", "approved", "2026-11-30 09:00:00+00")
        returned = ("return_to_review", "approved", "under_review")
        _case(connection, 1, "under_review", [approve, (*returned, FIRST_RETURN),
                                              ("approve", "under_review", "approved", "2026-12-02 01:00:00+00"),
                                              (*returned, SECOND_RETURN)])  # returned twice: the newest counts
        _case(connection, 2, "under_review", [])  # in its first review
        _case(connection, 3, "approved", [approve, (*returned, FIRST_RETURN),
                                          ("approve", "under_review", "approved", APPROVED_AGAIN)])  # decided again
        connection.commit()

        migrate(connection, command.upgrade, config, REVISION)
        assert _marks(connection) == {1: "2026-12-03 06:30", 2: None, 3: None}

        migrate(connection, command.downgrade, config, BEFORE)
        assert "returned_at" not in {c["name"] for c in connection.dialect.get_columns(connection, "application")}
        migrate(connection, command.upgrade, config, "head")
        assert _marks(connection)[1] == "2026-12-03 06:30"
