"""S20 with real concurrency: the agency accepts a case at the very moment its applicant replaces one of its files.

Two threads, each with its own app context, session and connection, through the real skins: a member of staff
logged in on the workbench pages presses "accept" (HTML) while the applicant's mini-program sends the new file
(API). Both have read the case before either writes. Exactly one wins: either the case is accepted with the
files the member of staff saw and the replacement is refused (409), or the file is replaced and the acceptance
is refused (the workbench page says the case changed a moment ago). Never a 500, never an accepted case whose
file changed underneath.
"""

from __future__ import annotations

import io
import threading
import time

import pytest

from portal.accounts import operations as account_ops
from portal.accounts import tokens
from portal.accounts.models import Role
from portal.applications import operations as case_ops
from portal.applications.constants import MaterialMode
from portal.applications.models import Application
from portal.core.audit import actor_of
from portal.core.db import db
from portal.materials import operations as files
from portal.materials.models import MaterialFile
from portal.workbench import operations as workbench
from tests.conftest import csrf_from
from tests.factories import STAFF_PASSWORD, log_in_staff
from tests.race_support import SYSTEM, bound_citizen, complete_draft, empty_every_table, race_setup

from . import fixtures as make
from .upload_support import MATERIAL

pytestmark = pytest.mark.no_db


@pytest.fixture
def submitted_case(app, monkeypatch):
    """A submitted case with one uploaded file, claimed by an acceptor; the citizen's API token and the acceptor's
    TOTP secret. Committed for real; every table emptied afterwards."""
    with race_setup(app, monkeypatch):
        citizen = bound_citizen(seq="772", insured_no="P-race-accept", name="孙替换", gender="F",
                                client_ip="127.0.0.22")
        acceptor, secret = account_ops.create_staff(
            account_ops.NewStaff("race_acceptor", "Race Acceptor", STAFF_PASSWORD, frozenset({Role.ACCEPTOR})),
            actor=SYSTEM)
        case = complete_draft(app, citizen, materials={MATERIAL: MaterialMode.UPLOAD.value})
        first = files.upload_file(case, MATERIAL, make.pdf(1), "诊断证明.pdf", by=citizen, actor=SYSTEM)
        case_ops.submit_application(case, by=citizen, actor=SYSTEM)
        workbench.claim_case(case, by=acceptor, actor=actor_of(acceptor))
        token = tokens.issue_token(citizen, label="race")[0]
        db.session.commit()
        ids = case.id, first.id, token, secret
    yield ids
    empty_every_table(app)


def _staff_browser(app, secret: str, case_id: int):
    """The acceptor logged in through the staff login page, and the case page's CSRF token and version."""
    browser = app.test_client()
    browser.set_cookie("lang", "en")
    log_in_staff(browser, "race_acceptor", secret)
    page = browser.get(f"/staff/cases/{case_id}")
    assert page.status_code == 200
    with app.app_context():
        version = db.session.get(Application, case_id).version
        db.session.remove()
    return browser, csrf_from(page.get_data(as_text=True)), version


@pytest.mark.parametrize("first", ["staff", "applicant"])
def test_accepting_while_the_applicant_replaces_a_file_lets_exactly_one_win(app, submitted_case, monkeypatch, first):
    """Both have read the case; then ``first`` writes and commits while the other, a moment behind, still holds
    the case as it read it."""
    case_id, first_id, token, secret = submitted_case
    browser, csrf, version = _staff_browser(app, secret, case_id)
    both_read = threading.Barrier(2, timeout=20)
    waited = threading.local()

    def after_both_read(real, side: str):
        def wrapper(*args, **kwargs):
            if not getattr(waited, "done", False):  # once per request: a retry after a conflict goes straight on
                waited.done = True
                both_read.wait()
                if side != first:
                    time.sleep(1.5)  # the other side writes and commits meanwhile
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(workbench, "decide", after_both_read(workbench.decide, "staff"))
    monkeypatch.setattr(files, "replace_file", after_both_read(files.replace_file, "applicant"))
    answers: dict[str, object] = {}

    def accept() -> None:
        try:
            answers["staff"] = browser.post(f"/staff/cases/{case_id}/decide", data={
                "csrf_token": csrf, "action": "accept", "version": version})
        except Exception as error:  # recorded, so the assertions below show it
            answers["staff"] = error

    def replace() -> None:
        try:
            answers["applicant"] = app.test_client().put(
                f"/api/v1/applications/{case_id}/files/{first_id}", content_type="multipart/form-data",
                headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
                data={"file": (io.BytesIO(make.pdf(2)), "新的诊断证明.pdf")})
        except Exception as error:
            answers["applicant"] = error

    threads = [threading.Thread(target=accept), threading.Thread(target=replace)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    staff, applicant = answers["staff"], answers["applicant"]
    assert not isinstance(staff, Exception) and not isinstance(applicant, Exception), answers
    assert staff.status_code == 302 and applicant.status_code in (201, 409), (
        staff.status_code, applicant.get_data(as_text=True))
    with app.app_context():
        case = db.session.get(Application, case_id)
        old = db.session.get(MaterialFile, first_id)
        assert (case.accepted_at is not None) is (first == "staff")
        if case.accepted_at is not None:  # the agency won: the files it saw are the case's files
            assert applicant.status_code == 409
            assert applicant.get_json()["error"]["code"] in {"invalid_transition", "conflict", "case_changed"}
            assert old.deleted_at is None
        else:  # the applicant won: the acceptance was refused and says why
            assert applicant.status_code == 201 and old.deleted_at is not None
            page = browser.get(f"/staff/cases/{case_id}").get_data(as_text=True)
            assert staff.status_code == 302 and "a moment ago" in page  # back on the case page, told why
        db.session.remove()
