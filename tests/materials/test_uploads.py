"""Uploads as operations: who may add files when, the submission rule for UPLOAD, claiming, sweeping (S19), and the
``portal keys`` and ``portal files`` commands over the material_file table."""

from __future__ import annotations

import base64
import os
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.applications import operations as ops
from portal.applications.constants import Defect, MaterialMode, State
from portal.core import clock
from portal.core.audit import AuditEvent
from portal.core.errors import InvalidTransition, NotFound, ValidationFailed
from portal.integrations.storage import storage_from_config
from portal.materials import checks
from portal.materials import operations as files
from portal.materials.models import MaterialFile
from tests.applications.conftest import request_context  # noqa: F401 (autouse: messages need a request)

from . import fixtures as make
from .upload_support import MATERIAL, PROMISE_ITEM, SYSTEM, submit, upload


@pytest.fixture
def own_storage(app, tmp_path, monkeypatch):
    """A storage directory of the test's own, so what it holds can be counted."""
    monkeypatch.setitem(app.config, "PORTAL_STORAGE_DIR", str(tmp_path / "files"))
    return storage_from_config(app)


def test_an_upload_is_stored_encrypted_and_the_material_becomes_provided_online(draft, citizen, own_storage):
    data = make.pdf()
    row = upload(draft, data, "诊断证明.pdf", by=citizen)
    assert (row.kind, row.media_type, row.pages, row.name) == ("pdf", "application/pdf", 1, "诊断证明.pdf")
    assert row.application_id == draft.id and row.claimed_at is None and row.size_plain == len(data)
    assert draft.materials[MATERIAL] == MaterialMode.UPLOAD
    stored = b"".join(own_storage.open(row.storage_key))
    assert data not in stored and b"%PDF" not in stored
    assert b"".join(files.store().read(row)) == data
    audit = [e for e in _audit() if e.action == "material.upload"]
    assert audit[-1].object_id == str(row.id) and audit[-1].result == "ok" and "诊断" not in audit[-1].detail


def test_images_are_kept_as_the_clean_reencoded_copy(draft, citizen):
    row = upload(draft, make.jpeg_with_metadata(), "IMG_0001.jpg", by=citizen)
    body = b"".join(files.store().read(row))
    assert row.kind == "jpeg" and make.MARKER_GPS_TEXT not in body and make.MARKER_COMMENT not in body


def test_a_renamed_program_is_refused_with_what_it_is_and_the_refusal_is_audited(draft, citizen):
    with pytest.raises(checks.UploadRefused) as refused:
        upload(draft, make.windows_exe(), "scan.pdf", by=citizen)
    assert refused.value.code == "executable" and "Windows program" in refused.value.message
    assert db_rows() == []
    assert draft.materials[MATERIAL] == MaterialMode.AT_WINDOW  # nothing else changed
    denied = [e for e in _audit() if e.action == "material.upload"][-1]
    assert denied.result == "denied" and '"code": "executable"' in denied.detail


def test_only_the_applicant_may_upload_and_only_to_a_material_of_the_item(draft, stranger, citizen):
    with pytest.raises(NotFound):
        upload(draft, make.png(), by=stranger)
    with pytest.raises(NotFound):
        upload(draft, make.png(), by=citizen, material="no_such_material")
    assert db_rows() == []


def test_a_submitted_case_takes_no_files(make_case, citizen):
    case = make_case(PROMISE_ITEM, citizen)
    with pytest.raises(InvalidTransition):
        upload(case, make.png(), by=citizen)


def test_per_case_and_per_material_caps(app, draft, citizen, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_MAX_CASE_BYTES", len(make.pdf()) + 10)
    upload(draft, make.pdf(), "a.pdf", by=citizen)
    with pytest.raises(checks.UploadRefused) as refused:
        upload(draft, make.pdf(), "b.pdf", by=citizen, material="medical_record")
    assert refused.value.code == "case_quota"
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_MAX_CASE_BYTES", 10**9)
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_MAX_FILES_PER_MATERIAL", 1)
    with pytest.raises(checks.UploadRefused) as refused:
        upload(draft, make.pdf(), "c.pdf", by=citizen)
    assert refused.value.code == "too_many_files"


def test_submission_needs_a_file_for_a_required_material_provided_online_and_claims_the_files(draft, citizen,
                                                                                            staff):
    ops.save_draft(draft, ops.DraftInput(form=draft.form_data, materials={**draft.materials, MATERIAL: "upload"}),
                   by=citizen, actor=SYSTEM)
    with pytest.raises(ValidationFailed) as refused:
        submit(draft, citizen)
    assert [f for f, _m in refused.value.reasons] == [f"materials.{MATERIAL}"]
    assert "upload at least one file" in refused.value.reasons[0][1]
    row = upload(draft, make.png(), by=citizen)
    assert files.files_of(draft, for_account=staff["acceptor"]) == {}  # the agency does not see a draft's files
    submit(draft, citizen)
    assert draft.state == State.SUBMITTED and row.claimed_at is not None
    assert files.files_of(draft, for_account=staff["acceptor"]) == {MATERIAL: [row]}


def test_a_removed_file_no_longer_counts(draft, citizen):
    row = upload(draft, make.png(), by=citizen)
    files.remove_file(draft, row, by=citizen, actor=SYSTEM)
    assert row.deleted_at is not None and files.file_counts(draft) == {}
    with pytest.raises(ValidationFailed):
        submit(draft, citizen)
    with pytest.raises(NotFound):
        files.remove_file(draft, row, by=citizen, actor=SYSTEM)


def test_during_a_notice_only_listed_materials_take_files_and_resubmission_claims_them(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.request_correction(case, ops.NoticeInput((ops.NoticeEntry(MATERIAL, Defect.DEFECTIVE),)),
                           by=staff["acceptor"], actor=SYSTEM)
    row = upload(case, make.png(), by=citizen)
    with pytest.raises(InvalidTransition):
        upload(case, make.png(), by=citizen, material="medical_record")
    assert files.files_of(case, for_account=staff["acceptor"]) == {}  # not before it is resubmitted
    ops.resubmit_application(case, ops.Resubmission(materials={MATERIAL: "upload"}), by=citizen, actor=SYSTEM)
    assert row.claimed_at is not None and case.state == State.RESUBMITTED
    with pytest.raises(InvalidTransition):
        files.remove_file(case, row, by=citizen, actor=SYSTEM)


def test_sweep_removes_unclaimed_uploads_and_orphans_and_keeps_claimed_and_live_draft_files(
        make_case, citizen, own_storage, db_session):
    two_days_ago = clock.now() - timedelta(days=2)
    with clock.frozen(two_days_ago):
        discarded = make_case(PROMISE_ITEM, citizen, submit=False)
        of_discarded = upload(discarded, make.png(), by=citizen)
        submitted = make_case(PROMISE_ITEM, citizen, submit=False)
        claimed = upload(submitted, make.png(), by=citizen)
        submit(submitted, citizen)
        live = make_case(PROMISE_ITEM, citizen, submit=False)
        kept = upload(live, make.png(), by=citizen)
        removed = upload(live, make.pdf(), "x.pdf", by=citizen, material="medical_record")
        files.remove_file(live, removed, by=citizen, actor=SYSTEM)
        ops.discard_draft(discarded, by=citizen, actor=SYSTEM)
    db_session.expire_all()
    assert db_session.get(MaterialFile, of_discarded.id).application_id is None  # ON DELETE SET NULL
    old_orphan, new_orphan = secrets.token_hex(16), secrets.token_hex(16)
    own_storage.put(old_orphan, [b"ciphertext of a failed request"])
    os.utime(own_storage.root / old_orphan, (two_days_ago.timestamp(),) * 2)
    own_storage.put(new_orphan, [b"an upload being committed right now"])
    gone_keys = {of_discarded.storage_key, removed.storage_key}

    report = files.sweep_unclaimed()

    assert (report.rows, report.orphans) == (2, 1)
    assert {r.id for r in db_rows()} == {claimed.id, kept.id}
    assert set(own_storage.list_keys()) == {claimed.storage_key, kept.storage_key, new_orphan}
    assert not any(own_storage.exists(k) for k in gone_keys)
    assert files.sweep_unclaimed() == files.SweepReport(0, 0, 0)  # nothing left to do


def test_files_sweep_command(app, draft, citizen, own_storage):
    with clock.frozen(clock.now() - timedelta(days=2)):
        row = upload(draft, make.png(), by=citizen)
        files.remove_file(draft, row, by=citizen, actor=SYSTEM)
    result = app.test_cli_runner().invoke(args=["portal", "files", "sweep"])
    assert result.exit_code == 0, result.output
    assert "swept 1 unclaimed files" in result.output and db_rows() == []


def test_keys_rotate_rewraps_every_file_without_touching_bodies_and_retire_refuses_a_key_in_use(
        app, draft, citizen, own_storage, monkeypatch):
    keys = app.config["PORTAL_KEYS"]
    rows = [upload(draft, make.png(), by=citizen), upload(draft, make.pdf(), "b.pdf", by=citizen)]
    assert {r.kid for r in rows} == {"k1"}
    bodies = {r.id: b"".join(own_storage.open(r.storage_key)) for r in rows}
    runner = app.test_cli_runner()
    k2 = base64.b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setitem(app.config, "PORTAL_KEYS", {**keys, "file_keys": {**keys["file_keys"], "k2": k2}})

    status = runner.invoke(args=["portal", "keys", "status"])
    assert status.exit_code == 0 and "k1: 2 files" in status.output and "2 files to rotate to k2" in status.output
    refused = runner.invoke(args=["portal", "keys", "retire", "k1"])
    assert refused.exit_code == 1 and "2 files are still wrapped under k1" in refused.output
    assert runner.invoke(args=["portal", "keys", "retire", "k2"]).exit_code == 1  # the newest, wrapping new files

    rotated = runner.invoke(args=["portal", "keys", "rotate"])
    assert rotated.exit_code == 0 and "re-wrapped 2 data keys" in rotated.output
    for row in rows:
        fresh = _fresh(row.id)
        assert fresh.kid == "k2" and b"".join(own_storage.open(row.storage_key)) == bodies[row.id]
        assert b"".join(files.store().read(fresh))  # still opens (size and SHA-256 verified)
    allowed = runner.invoke(args=["portal", "keys", "retire", "k1"])
    assert allowed.exit_code == 0 and "may be removed" in allowed.output

    # a key removed too early: status names the files it strands and fails
    monkeypatch.setitem(app.config, "PORTAL_KEYS", {**keys, "file_keys": {"k3": k2}})
    stranded = runner.invoke(args=["portal", "keys", "status"])
    assert stranded.exit_code == 1 and "k2: 2 files  NOT LOADED" in stranded.output


def _fresh(file_id: int) -> MaterialFile:
    from portal.core.db import db

    db.session.expire_all()
    return db.session.get(MaterialFile, file_id)


def db_rows() -> list[MaterialFile]:
    from portal.core.db import db

    return list(db.session.execute(select(MaterialFile).order_by(MaterialFile.id)).scalars())


def _audit() -> list[AuditEvent]:
    from portal.core.db import db

    return list(db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())
