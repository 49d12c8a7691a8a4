"""Uploading on the filing pages and viewing files: no plaintext on disk (S11), refusals next to the material (S9,
S18), 404 for anyone else (S6), staff viewing with an audit row (S13), download headers (S10)."""

from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
import time
from pathlib import Path

import pytest
from flask import Request
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.accounts.models import Role
from portal.core.audit import AuditEvent
from portal.materials.models import MaterialFile
from tests.applications.conftest import request_context  # noqa: F401 (autouse: messages need a request)

from . import fixtures as make
from .upload_support import MATERIAL, csrf_from, login, submit, upload


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def browser(client, db_session, citizen, draft):
    """The citizen, logged in, on the draft's page; the draft is committed so every request sees it."""
    db_session.commit()
    return login(client, db_session, citizen.phone)


def edit_page(browser, case) -> str:
    response = browser.get(f"/applications/{case.id}/edit")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_files(browser, case, *files: tuple[bytes, str], material: str = MATERIAL, json: bool = False):
    token = csrf_from(edit_page(browser, case))
    data = {"csrf_token": token, "file": [(io.BytesIO(body), name) for body, name in files]}
    headers = {"Accept": "application/json"} if json else {}
    return browser.post(f"/applications/{case.id}/materials/{material}", data=data, headers=headers,
                        content_type="multipart/form-data")


def rows() -> list[MaterialFile]:
    from portal.core.db import db

    return list(db.session.execute(select(MaterialFile).order_by(MaterialFile.id)).scalars())


# --- S11: no plaintext on disk -----------------------------------------------------------------------


def pdf_with(marker: bytes, size: int) -> bytes:
    """A valid one-page PDF of about ``size`` bytes whose content stream carries ``marker`` many times."""
    line = b"% " + marker + b"\n"
    content = line * (size // len(line))
    return make.raw_pdf(make.CATALOG, make.PAGES,
                        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))


class TempFileSpy:
    """Records every temporary file that the tempfile module or Werkzeug's form parser is asked for."""

    def __init__(self, monkeypatch):
        import werkzeug.formparser

        self.calls: list[str] = []
        for module, name in ((tempfile, "TemporaryFile"), (tempfile, "NamedTemporaryFile"), (tempfile, "mkstemp"),
                             (tempfile, "SpooledTemporaryFile"), (werkzeug.formparser, "SpooledTemporaryFile")):
            monkeypatch.setattr(module, name, self._spy(name, getattr(module, name)))

    def _spy(self, name, real):
        def spy(*args, **kwargs):
            self.calls.append(name)
            return real(*args, **kwargs)

        return spy


def files_holding(marker: bytes, roots: list[Path], since: float) -> list[Path]:
    found = []
    for root in roots:
        paths = [root] if root.is_file() else [Path(d) / f for d, _s, fs in os.walk(root) for f in fs]
        for path in paths:
            try:
                if path.stat().st_mtime >= since and marker in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


def test_an_uploaded_file_never_touches_disk_in_clear(app, browser, draft, monkeypatch):
    marker = b"S11-MARKER-" + secrets.token_hex(12).encode()
    body = pdf_with(marker, 2 * 1024 * 1024)
    boundary, payload = encode_multipart({
        "csrf_token": csrf_from(edit_page(browser, draft)),
        "file": FileStorage(io.BytesIO(body), filename="big-scan.pdf", content_type="application/pdf")})
    since = time.time() - 1

    def send():
        spy = TempFileSpy(monkeypatch)
        response = browser.post(f"/applications/{draft.id}/materials/{MATERIAL}", data=payload,
                                content_type=f"multipart/form-data; boundary={boundary}")
        monkeypatch.undo()
        return response, spy.calls

    # the control: Werkzeug's own request class spools this upload to a temporary file, and the spy sees it
    monkeypatch.setattr(app, "request_class", Request)
    response, calls = send()
    assert response.status_code == 302 and "SpooledTemporaryFile" in calls
    # the portal's request class keeps the parts in memory: no temporary file at all
    response, calls = send()
    assert response.status_code == 302, response.get_data(as_text=True)
    assert calls == []
    stored = rows()
    assert len(stored) == 2 and all(r.size_plain == len(body) for r in stored)

    storage = Path(app.config.get("PORTAL_STORAGE_DIR") or Path(app.instance_path) / "files")
    database = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    roots = [storage, Path(tempfile.gettempdir()), Path(app.instance_path)]
    if database != app.config["SQLALCHEMY_DATABASE_URI"]:
        roots.append(Path(database).parent)  # the SQLite file and its journal
    assert files_holding(marker, roots, since) == []
    # and the marker is really there to be found: the stored file decrypts to it
    from portal.materials import operations as files

    assert marker in b"".join(files.store().read(stored[-1]))


# --- the materials section ---------------------------------------------------------------------------


def test_each_material_offers_upload_with_a_file_input_for_phones_and_the_script(browser, draft):
    page = browser.get(f"/applications/{draft.id}/edit")
    html = page.get_data(as_text=True)
    slot = f"upload-{MATERIAL}"
    assert f'<form id="{slot}" method="post" enctype="multipart/form-data"' in html
    assert f'action="/applications/{draft.id}/materials/{MATERIAL}"' in html
    chooser = re.search(rf'<input type="file" id="{slot}-files"[^>]*>', html).group()
    assert 'multiple' in chooser and f'form="{slot}"' in chooser
    assert 'accept=".pdf,.jpg,.jpeg,.png,image/*,application/pdf"' in chooser
    camera = re.search(rf'<input type="file" id="{slot}-photo"[^>]*>', html).group()
    assert 'capture="environment"' in camera and 'accept="image/*"' in camera
    assert f'name="m_{MATERIAL}" value="upload"' in html
    nonce = re.search(r'<script nonce="([^"]+)" src="/static/js/uploads\.js\?v=[0-9a-f]{12}"', html).group(1)
    assert f"'nonce-{nonce}'" in page.headers["Content-Security-Policy"]
    with browser.get("/static/js/uploads.js") as script:
        assert script.status_code == 200 and b"XMLHttpRequest" in script.get_data()


def test_an_upload_without_javascript_redirects_back_and_lists_the_file_with_a_remove_button(browser, draft,
                                                                                            db_session):
    response = post_files(browser, draft, (make.png(), "身份证正面.png"), (make.pdf(), "诊断.pdf"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/applications/{draft.id}/edit#m_{MATERIAL}")
    html = edit_page(browser, draft)
    assert "2 files uploaded." in html and "身份证正面.png" in html and "诊断.pdf" in html
    first, _second = rows()
    assert f'href="/files/{first.id}?inline=1"' in html and f'form="remove-{first.id}"' in html
    assert re.search(rf'name="m_{MATERIAL}" value="upload" checked', html)
    token = csrf_from(html)
    removed = browser.post(f"/applications/{draft.id}/files/{first.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    html = edit_page(browser, draft)
    assert "The file was removed." in html and "身份证正面.png" not in html and "诊断.pdf" in html


def test_a_refused_file_says_why_next_to_its_material_once(browser, draft):
    response = post_files(browser, draft, (make.windows_exe(), "scan.pdf"), (make.png(), "ok.png"))
    assert response.status_code == 302
    html = edit_page(browser, draft)
    slot = html[html.index(f'id="m_{MATERIAL}"'):]
    slot = slot[:slot.index("</fieldset>")]
    errors = re.search(r'<div class="upload-errors" role="alert"[^>]*>(.*?)</div>', slot, re.S).group(1)
    assert "Windows program" in errors
    assert "1 file uploaded." in html and "Some files were not accepted" in html
    assert "Windows program" not in edit_page(browser, draft)  # shown once
    assert [r.kind for r in rows()] == ["png"]


def test_the_script_gets_the_same_outcome_as_json(browser, draft):
    stored = post_files(browser, draft, (make.png(), "a.png"), json=True)
    assert stored.status_code == 201
    answer = stored.get_json()
    assert answer["refused"] == [] and [f["name"] for f in answer["files"]] == ["a.png"]
    assert set(answer["files"][0]) == {"id", "material", "name", "size", "kind", "media_type", "pages", "url",
                                       "remove_url"}
    refused = post_files(browser, draft, (make.html_page(), "a.pdf"), json=True)
    assert refused.status_code == 422 and refused.get_json()["files"] == []
    assert "web page" in refused.get_json()["refused"][0]


def test_an_upload_without_csrf_is_refused(browser, draft):
    response = browser.post(f"/applications/{draft.id}/materials/{MATERIAL}",
                            data={"file": (io.BytesIO(make.png()), "a.png")}, content_type="multipart/form-data")
    assert response.status_code == 400 and rows() == []


# --- S6: nobody else ----------------------------------------------------------------------------------


def test_another_citizen_gets_404_on_the_file_upload_and_remove_routes(client, make_client, db_session, citizen,
                                                                       stranger, draft):
    row = upload(draft, make.png(), by=citizen)
    db_session.commit()
    other = login(make_client(), db_session, stranger.phone)
    token = csrf_from(other.get("/applications/").get_data(as_text=True))
    assert other.get(f"/files/{row.id}").status_code == 404
    assert other.get(f"/files/{row.id}?inline=1").status_code == 404
    assert other.get("/files/999999").status_code == 404
    assert other.post(f"/applications/{draft.id}/materials/{MATERIAL}", content_type="multipart/form-data",
                      data={"csrf_token": token, "file": (io.BytesIO(make.png()), "x.png")}).status_code == 404
    assert other.post(f"/applications/{draft.id}/files/{row.id}/remove",
                      data={"csrf_token": token}).status_code == 404
    assert [r.id for r in rows()] == [row.id] and rows()[0].deleted_at is None
    assert client.get(f"/files/{row.id}").status_code == 302  # anonymous: to the login page


# --- viewing: staff, audit, headers ------------------------------------------------------------------


@pytest.fixture
def submitted_with_files(db_session, citizen, draft):
    pdf = upload(draft, make.pdf(), "诊断证明 220102198503120012.pdf", by=citizen)
    png = upload(draft, make.png(), "photo.png", by=citizen, material="medical_record")
    submit(draft, citizen)
    db_session.commit()
    return draft, pdf, png


def test_staff_view_a_submitted_file_and_each_view_is_audited(client, make_staff, staff_login, submitted_with_files,
                                                               db_session, citizen):
    case, pdf, _png = submitted_with_files
    account, secret = make_staff("tviewer", roles={Role.ACCEPTOR})
    db_session.commit()
    assert staff_login("tviewer", secret).status_code == 302
    response = client.get(f"/files/{pdf.id}")
    assert response.status_code == 200 and response.get_data() == make.pdf()
    views = list(db_session.execute(select(AuditEvent).where(AuditEvent.action == "material.view")).scalars())
    assert len(views) == 1
    assert (views[0].actor_kind, views[0].actor_id, views[0].object_id) == ("staff", str(account.id), str(pdf.id))
    assert f'"application": {case.id}' in views[0].detail


def test_staff_do_not_see_a_draft_s_files(client, make_staff, staff_login, db_session, citizen, draft):
    row = upload(draft, make.png(), by=citizen)
    _account, secret = make_staff("tviewer2", roles={Role.CHIEF})
    db_session.commit()
    assert staff_login("tviewer2", secret).status_code == 302
    assert client.get(f"/files/{row.id}").status_code == 404


def test_download_headers(browser, submitted_with_files):
    _case, pdf, png = submitted_with_files
    download = browser.get(f"/files/{pdf.id}")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f'filename="file-{pdf.id}.pdf"' in disposition
    assert "filename*=UTF-8''%E8%AF%8A%E6%96%AD%E8%AF%81%E6%98%8E" in disposition
    assert "220102198503120012" not in disposition  # the ID number in the name is masked (S12)
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    assert "sandbox" in download.headers.getlist("Content-Security-Policy")
    assert int(download.headers["Content-Length"]) == pdf.size_plain
    shown = browser.get(f"/files/{pdf.id}?inline=1")
    assert shown.headers["Content-Disposition"].startswith("inline;")
    assert "sandbox" in shown.headers.getlist("Content-Security-Policy")
    image = browser.get(f"/files/{png.id}?inline=1")
    assert image.mimetype == "image/png" and image.headers["Content-Disposition"].startswith("inline;")
    assert browser.get(f"/files/{png.id}").headers["Content-Disposition"].startswith("attachment;")


# --- a stored body that is not the row's: a clear refusal, never another file's bytes -------------------


def _swap_bodies(one, two) -> None:
    from portal.materials import operations as files

    backend = files.store().storage
    body_one, body_two = b"".join(backend.open(one.storage_key)), b"".join(backend.open(two.storage_key))
    backend.put(one.storage_key, [body_two])
    backend.put(two.storage_key, [body_one])


def test_a_file_whose_stored_body_was_swapped_is_refused_with_a_clear_message(browser, make_client, db_session,
                                                                                citizen, draft):
    from portal.accounts import tokens

    one = upload(draft, make.pdf(), "诊断证明.pdf", by=citizen)
    two = upload(draft, make.png(), "photo.png", by=citizen, material="medical_record")
    raw_token = tokens.issue_token(citizen, label="test")[0]
    db_session.commit()
    assert browser.get(f"/files/{one.id}").get_data() == make.pdf()
    _swap_bodies(one, two)

    for row, other_body in ((one, make.png()), (two, make.pdf())):
        page = browser.get(f"/files/{row.id}")
        assert page.status_code == 500 and page.mimetype == "text/html"
        text = page.get_data(as_text=True)
        assert "failed the integrity check" in text and other_body not in page.get_data()
        api = make_client().get(f"/api/v1/files/{row.id}", headers={"Authorization": f"Bearer {raw_token}"})
        assert api.status_code == 500
        assert api.get_json()["error"]["code"] == "file_unreadable"
        assert "integrity check" in api.get_json()["error"]["message"]
    views = db_session.execute(select(AuditEvent).where(AuditEvent.action == "material.view")).scalars().all()
    assert len(views) == 1  # only the read that showed the file
