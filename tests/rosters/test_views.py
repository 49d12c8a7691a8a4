"""The roster pages: a unit agent downloads the template, uploads a file with errors and sees each at its row and
column, uploads the corrected file and submits; staff read the roster as a paged table. A file that cannot be read
is refused at the upload field and the previous roster stays."""

from __future__ import annotations

import io
import re

from portal.accounts.models import Role
from portal.applications.constants import State
from portal.applications.models import Application
from tests.conftest import csrf_from
from tests.rosters.support import person_rows, workbook


def _upload(browser, case_id: int, data: bytes, name: str = "roster.xlsx"):
    page = browser.get(f"/applications/{case_id}/roster")
    token = csrf_from(page.get_data(as_text=True))
    return browser.post(f"/applications/{case_id}/roster", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                        content_type="multipart/form-data")


def test_agent_uploads_sees_errors_fixes_and_the_draft_takes_the_roster(draft, agent, make_client, db_session):
    from tests.factories import log_in_by_code

    db_session.commit()
    browser = log_in_by_code(make_client(), db_session, agent.phone, unit=agent.unit)
    template = browser.get(f"/applications/{draft.id}/roster/template.xlsx")
    assert template.status_code == 200 and template.data.startswith(b"PK")
    rows = person_rows(60)
    rows[10][2] = "220102197001010000"
    rows[41][4] = "离职"
    got = _upload(browser, draft.id, workbook(rows))
    assert got.status_code == 302
    html = browser.get(got.headers["Location"]).get_data(as_text=True)
    assert "2 rows have errors" in html
    assert re.search(r"Row 12, column C \(ID number\)</strong>: .*check digit", html)
    assert "Row 43, column E (Change category)" in html
    assert "测00001" not in html  # names masked in the list
    got = _upload(browser, draft.id, workbook(person_rows(60)))
    html = browser.get(got.headers["Location"]).get_data(as_text=True)
    assert "60 rows read, all correct" in html
    edit = browser.get(f"/applications/{draft.id}/edit").get_data(as_text=True)
    assert "filled from the uploaded roster: 60 rows, 0 with errors" in edit
    assert 'name="staff-0-name"' not in edit  # the typed table gives way to the roster


def test_an_unreadable_file_is_refused_at_the_field_and_the_roster_stays(draft, agent, make_client, db_session):
    from tests.factories import log_in_by_code

    db_session.commit()
    browser = log_in_by_code(make_client(), db_session, agent.phone, unit=agent.unit)
    _upload(browser, draft.id, workbook(person_rows(5)))
    got = _upload(browser, draft.id, workbook([["x"]], header=["工号", "部门"]))
    assert got.status_code == 400
    html = got.get_data(as_text=True)
    assert 'id="roster-file-error"' in html and "do not head the columns" in html
    assert 'data-testid="roster-rows">5<' in html  # the previous roster is kept


def test_staff_read_the_roster_as_pages_of_rows(draft, agent, make_staff, make_client, db_session):
    from portal.applications import operations as ops
    from portal.rosters import store
    from tests.factories import log_in_staff
    from tests.rosters.conftest import SYSTEM

    store.upload_file(draft, ops.catalog_item(draft), workbook(person_rows(120)), "r.xlsx", by=agent, actor=SYSTEM)
    ops.submit_application(draft, by=agent, actor=SYSTEM)
    db_session.commit()
    assert db_session.get(Application, draft.id).state == State.SUBMITTED.value
    _account, secret = make_staff("rosterclerk", roles={Role.ACCEPTOR})
    db_session.commit()
    browser = log_in_staff(make_client(), "rosterclerk", secret)
    case_page = browser.get(f"/staff/cases/{draft.id}").get_data(as_text=True)
    assert "uploaded roster of 120 rows" in case_page
    first = browser.get(f"/staff/cases/{draft.id}/roster").get_data(as_text=True)
    assert 'id="row-2"' in first and 'id="row-51"' in first and 'id="row-52"' not in first
    assert "Page 1 of 3" in first
    third = browser.get(f"/staff/cases/{draft.id}/roster?page=3").get_data(as_text=True)
    assert 'id="row-121"' in third and 'id="row-101"' not in third

