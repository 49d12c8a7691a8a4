"""Replacing a file: allowed in a draft, once submitted until the agency accepts the case, and during a correction
(for the materials the notice lists); refused otherwise, on the operations, the web pages and the API. A refused
replacement changes nothing; a replacement in a submitted case is seen by the agency at once."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from portal.accounts import tokens
from portal.applications import operations as ops
from portal.applications.constants import Defect, State
from portal.core.audit import AuditEvent
from portal.core.errors import InvalidTransition, NotFound
from portal.materials import checks
from portal.materials import operations as files
from portal.materials.models import MaterialFile
from tests.applications.conftest import request_context  # noqa: F401 (autouse: messages need a request)

from . import fixtures as make
from .upload_support import MATERIAL, PROMISE_ITEM, SYSTEM, csrf_from, login, upload

OTHER = "medical_record"  # another material of PROMISE_ITEM


def replace(case, row, data: bytes, by, name: str = "new.pdf") -> MaterialFile:
    return files.replace_file(case, row, data, name, by=by, actor=SYSTEM)


def live(case) -> list[MaterialFile]:
    from portal.core.db import db

    return list(db.session.execute(select(MaterialFile).where(MaterialFile.application_id == case.id,
                                                              MaterialFile.deleted_at.is_(None))).scalars())


@pytest.fixture
def submitted(make_case, citizen):
    """A submitted case of PROMISE_ITEM with one file in each of two materials."""
    case = make_case(PROMISE_ITEM, citizen, submit=False)
    first = upload(case, make.png(), "first.png", by=citizen)
    other = upload(case, make.png(), "other.png", by=citizen, material=OTHER)
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert case.state == State.SUBMITTED and first.claimed_at is not None
    return case, first, other


# --- the rule, on the operations ---------------------------------------------------------------------------


def test_a_draft_s_file_can_be_replaced(draft, citizen):
    old = upload(draft, make.png(), "old.png", by=citizen)
    new = replace(draft, old, make.pdf(), citizen)
    assert old.deleted_at is not None and new.claimed_at is None
    assert [r.id for r in live(draft)] == [new.id] and new.material_id == MATERIAL


def test_a_submitted_case_s_file_can_be_replaced_until_acceptance_and_the_agency_sees_it_at_once(submitted, citizen,
                                                                                               staff):
    case, first, other = submitted
    new = replace(case, first, make.pdf(2), citizen)
    assert new.claimed_at is not None and first.deleted_at is not None
    seen = files.files_of(case, for_account=staff["acceptor"])
    assert seen == {MATERIAL: [new], OTHER: [other]}
    assert files.store().storage.exists(first.storage_key)  # the replaced body is kept for the record
    events = [e for e in _audit() if e.action == "material.replace"]
    assert len(events) == 1 and f'"replaces": {first.id}' in events[0].detail

    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(InvalidTransition, match="until the agency accepts"):
        replace(case, new, make.png(), citizen)
    assert [r.id for r in live(case)] == sorted([new.id, other.id])


def test_during_a_correction_only_the_listed_materials_files_can_be_replaced(submitted, citizen, staff):
    case, first, other = submitted
    ops.request_correction(case, ops.NoticeInput((ops.NoticeEntry(MATERIAL, Defect.DEFECTIVE),)),
                           by=staff["acceptor"], actor=SYSTEM)
    new = replace(case, first, make.pdf(), citizen)
    assert new.claimed_at is None  # the agency sees it once the corrections are sent
    with pytest.raises(InvalidTransition, match="listed in the notice"):
        replace(case, other, make.pdf(), citizen)
    ops.resubmit_application(case, ops.Resubmission(materials={MATERIAL: "upload"}), by=citizen, actor=SYSTEM)
    assert case.state == State.RESUBMITTED and case.accepted_at is None and new.claimed_at is not None
    newer = replace(case, new, make.png(), citizen)  # resubmitted, still not accepted
    assert newer.claimed_at is not None


def test_after_acceptance_only_a_correction_opens_replacement_again(submitted, citizen, staff):
    case, first, _other = submitted
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(InvalidTransition):
        replace(case, first, make.pdf(), citizen)
    ops.request_correction(case, ops.NoticeInput((ops.NoticeEntry(MATERIAL, Defect.DEFECTIVE),)),
                           by=staff["acceptor"], actor=SYSTEM)
    new = replace(case, first, make.pdf(), citizen)
    ops.resubmit_application(case, ops.Resubmission(materials={MATERIAL: "upload"}), by=citizen, actor=SYSTEM)
    assert case.state == State.RESUBMITTED and case.accepted_at is not None
    with pytest.raises(InvalidTransition, match="until the agency accepts"):
        replace(case, new, make.png(), citizen)


def test_a_withdrawn_case_s_files_cannot_be_replaced(submitted, citizen):
    case, first, _other = submitted
    ops.withdraw_application(case, by=citizen, actor=SYSTEM)
    with pytest.raises(InvalidTransition):
        replace(case, first, make.pdf(), citizen)


def test_only_the_applicant_replaces_and_only_a_live_file_of_that_case(submitted, citizen, stranger, draft):
    case, first, _other = submitted
    with pytest.raises(NotFound):
        replace(case, first, make.pdf(), stranger)
    draft_file = upload(draft, make.png(), by=citizen)
    with pytest.raises(NotFound):
        replace(case, draft_file, make.pdf(), citizen)  # a file of another case
    replace(case, first, make.pdf(), citizen)
    with pytest.raises(NotFound):
        replace(case, first, make.pdf(), citizen)  # already replaced


def test_a_refused_replacement_changes_nothing_but_its_audit_row(submitted, citizen):
    case, first, _other = submitted
    with pytest.raises(checks.UploadRefused):
        replace(case, first, b"MZ\x90\x00" + b"\x00" * 200, citizen, name="scan.pdf")  # a renamed program
    assert first.deleted_at is None
    assert sorted(r.id for r in live(case)) == sorted([first.id, _other.id])
    assert [e.result for e in _audit() if e.action == "material.replace"] == ["denied"]


def test_the_replaced_file_s_size_does_not_count_towards_the_case_cap(app, draft, citizen, monkeypatch):
    old = upload(draft, make.pdf(), "old.pdf", by=citizen)
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_MAX_CASE_BYTES", old.size_stored + 200)
    replace(draft, old, make.pdf(), citizen)  # the same size again: fits only because the old one goes


# --- web and API --------------------------------------------------------------------------------------------


@pytest.fixture
def browser(make_client, db_session, citizen, submitted):
    db_session.commit()
    return login(make_client(), db_session, citizen.phone)


def post_replace(browser, case, row, data: bytes, *, json: bool = False, page: str = ""):
    page = page or f"/applications/{case.id}"
    token = csrf_from(browser.get(page).get_data(as_text=True))
    headers = {"Accept": "application/json"} if json else {}
    return browser.post(f"/applications/{case.id}/files/{row.id}/replace", headers=headers,
                        data={"csrf_token": token, "file": (io.BytesIO(data), "新的诊断证明.pdf")},
                        content_type="multipart/form-data")


def test_the_application_page_offers_replacement_until_acceptance(browser, db_session, submitted, staff):
    case, first, _other = submitted
    page = browser.get(f"/applications/{case.id}").get_data(as_text=True)
    assert f'action="/applications/{case.id}/files/{first.id}/replace"' in page
    assert f'form="replace-{first.id}"' in page and 'enctype="multipart/form-data"' in page

    response = post_replace(browser, case, first, make.pdf())
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/applications/{case.id}")
    db_session.expire_all()
    assert db_session.get(MaterialFile, first.id).deleted_at is not None
    assert "The file was replaced." in browser.get(f"/applications/{case.id}").get_data(as_text=True)

    ops.accept_application(db_session.get(type(case), case.id), by=staff["acceptor"], actor=SYSTEM)
    db_session.commit()
    page = browser.get(f"/applications/{case.id}").get_data(as_text=True)
    assert "/replace" not in page
    newest = live(case)[-1]
    refused = post_replace(browser, case, newest, make.pdf(), json=True)
    assert refused.status_code == 409 and "until the agency accepts" in refused.get_json()["refused"][0]


def test_a_refused_replacement_on_the_web_says_why(browser, db_session, submitted):
    case, first, _other = submitted
    response = post_replace(browser, case, first, b"MZ\x90\x00" + b"\x00" * 200, json=True)
    assert response.status_code in (415, 422)
    assert response.get_json()["refused"] and "replaced" not in response.get_json()
    db_session.expire_all()
    assert db_session.get(MaterialFile, first.id).deleted_at is None


def test_the_filing_page_offers_replacement_of_a_draft_s_files(make_client, db_session, citizen, draft):
    row = upload(draft, make.png(), "old.png", by=citizen)
    db_session.commit()
    browser = login(make_client(), db_session, citizen.phone)
    page = browser.get(f"/applications/{draft.id}/edit").get_data(as_text=True)
    assert f'id="replace-{row.id}"' in page and f'form="replace-{row.id}"' in page
    response = post_replace(browser, draft, row, make.pdf(), page=f"/applications/{draft.id}/edit")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#m_{MATERIAL}")
    assert [r.name for r in live(draft)] == ["新的诊断证明.pdf"]


def test_the_api_replaces_with_put_until_acceptance(make_client, db_session, citizen, submitted, staff):
    case, first, _other = submitted
    raw = tokens.issue_token(citizen, label="test")[0]
    db_session.commit()
    client, headers = make_client(), {"Authorization": f"Bearer {raw}"}

    def put(row):
        return client.put(f"/api/v1/applications/{case.id}/files/{row.id}", headers=headers,
                          content_type="multipart/form-data", data={"file": (io.BytesIO(make.pdf()), "new.pdf")})

    created = put(first)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["is_claimed"] is True and body["material"] == MATERIAL
    listed = client.get(f"/api/v1/applications/{case.id}/files", headers=headers).get_json()["files"]
    assert first.id not in [f["id"] for f in listed] and body["id"] in [f["id"] for f in listed]
    assert put(first).status_code == 404  # the replaced file is gone

    ops.accept_application(db_session.get(type(case), case.id), by=staff["acceptor"], actor=SYSTEM)
    db_session.commit()
    refused = put(db_session.get(MaterialFile, body["id"]))
    assert refused.status_code == 409 and refused.get_json()["error"]["code"]


def _audit() -> list[AuditEvent]:
    from portal.core.db import db

    return list(db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())


# --- files sent at the same moment: a version conflict is retried, not a failure -----------------------------


def test_an_upload_meeting_a_version_conflict_is_retried_and_stored_once(db_session, draft, citizen):
    from sqlalchemy import text

    db_session.commit()  # the draft is settled: a retry rolls back only the attempt
    attempts = []

    def attempt():
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:  # another request moves the case's version between our read and our write
            db_session.execute(text("UPDATE application SET version = version + 1 WHERE id = :id"), {"id": draft.id})
        return files.upload_file(draft, MATERIAL, make.png(), "same-moment.png", by=citizen, actor=SYSTEM)

    row = files.retry_on_conflict(attempt)
    assert attempts == [1, 2]
    assert [r.id for r in live(draft)] == [row.id]


def test_a_conflict_that_persists_is_a_clear_409_not_a_500(db_session, draft, citizen):
    from sqlalchemy import text

    db_session.commit()

    def attempt():
        db_session.execute(text("UPDATE application SET version = version + 1 WHERE id = :id"), {"id": draft.id})
        return files.upload_file(draft, MATERIAL, make.png(), "x.png", by=citizen, actor=SYSTEM)

    with pytest.raises(files.CaseChanged) as conflict:
        files.retry_on_conflict(attempt)
    assert conflict.value.status == 409 and "changed this case" in conflict.value.message
    assert live(draft) == []
