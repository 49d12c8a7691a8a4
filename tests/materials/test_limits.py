"""Upload limits: PORTAL_UPLOAD_* from the environment, checked at start-up; a request over the upload limit gets
the refusal next to the material (web, with or without JavaScript) or the API's error envelope, never the generic
413 page, and changes nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from portal import create_app
from portal.accounts import tokens
from portal.config import ConfigError, build_config
from portal.materials.models import MaterialFile
from tests.applications.conftest import request_context  # noqa: F401 (autouse: messages need a request)

from . import fixtures as make
from .upload_support import MATERIAL, csrf_from, login, upload

TOO_LARGE = "larger than"
SMALL_REQUEST = 64 * 1024


# --- configuration ----------------------------------------------------------------------------------------


@pytest.mark.no_db
def test_upload_limits_have_defaults(tmp_path):
    config = build_config({"INSTANCE_PATH": str(tmp_path)})
    assert config["PORTAL_UPLOAD_MAX_FILE_BYTES"] == 10 * 1024 * 1024
    assert config["PORTAL_UPLOAD_MAX_REQUEST_BYTES"] == 32 * 1024 * 1024
    assert config["PORTAL_UPLOAD_MAX_CASE_BYTES"] == 50 * 1024 * 1024
    assert config["PORTAL_UPLOAD_MAX_FILES_PER_MATERIAL"] == 20


@pytest.mark.no_db
@pytest.mark.parametrize(("value", "expected"), [("1048576", 1048576), ("5MB", 5_000_000), ("5 MiB", 5 * 2**20),
                                                 ("512kib", 512 * 1024), ("1GB", 10**9)])
def test_upload_limits_come_from_the_environment_with_units(tmp_path, monkeypatch, value, expected):
    monkeypatch.setenv("PORTAL_UPLOAD_MAX_CASE_BYTES", value)
    monkeypatch.setenv("PORTAL_UPLOAD_MAX_FILE_BYTES", "1")
    assert build_config({"INSTANCE_PATH": str(tmp_path)})["PORTAL_UPLOAD_MAX_CASE_BYTES"] == expected


@pytest.mark.no_db
@pytest.mark.parametrize(("name", "value", "says"), [
    ("PORTAL_UPLOAD_MAX_FILE_BYTES", "ten megabytes", "not a size"),
    ("PORTAL_UPLOAD_MAX_FILE_BYTES", "0", "more than 0"),
    ("PORTAL_UPLOAD_MAX_REQUEST_BYTES", "-5MB", "not a size"),
    ("PORTAL_UPLOAD_MAX_CASE_BYTES", "10TB", "not a size"),
    ("PORTAL_UPLOAD_MAX_FILES_PER_MATERIAL", "0", "at least 1"),
    ("PORTAL_UPLOAD_MAX_FILES_PER_MATERIAL", "many", "not a whole number"),
])
def test_bad_upload_limits_refuse_to_start_naming_the_variable(tmp_path, monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"{name}: .*{says}"):
        build_config({"INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(ConfigError, match=name):
        create_app({"ENV": "testing", "INSTANCE_PATH": str(tmp_path)})


@pytest.mark.no_db
@pytest.mark.parametrize("other", ["PORTAL_UPLOAD_MAX_REQUEST_BYTES", "PORTAL_UPLOAD_MAX_CASE_BYTES"])
def test_limits_that_would_refuse_every_full_size_file_refuse_to_start(tmp_path, monkeypatch, other):
    monkeypatch.setenv("PORTAL_UPLOAD_MAX_FILE_BYTES", "20MB")
    monkeypatch.setenv(other, "10MB")
    with pytest.raises(ConfigError, match=f"{other} .* must be at least PORTAL_UPLOAD_MAX_FILE_BYTES"):
        build_config({"INSTANCE_PATH": str(tmp_path)})


# --- the limits at work -----------------------------------------------------------------------------------


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def browser(client, db_session, citizen, draft):
    db_session.commit()
    return login(client, db_session, citizen.phone)


@pytest.fixture
def small_request(app, monkeypatch):
    """An upload request limit of 64 KiB (and a file limit below it), as PORTAL_UPLOAD_* would set."""
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_MAX_REQUEST_BYTES", SMALL_REQUEST)
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_MAX_FILE_BYTES", 32 * 1024)


def sized_pdf(size: int) -> bytes:
    """A valid one-page PDF of about ``size`` bytes (a content stream of comment lines)."""
    content = b"% padding line\n" * (size // 15)
    return make.raw_pdf(make.CATALOG, make.PAGES,
                        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))


def big_pdf() -> bytes:
    return sized_pdf(2 * SMALL_REQUEST)  # past the request limit


def post(browser, case, body: bytes, *, json: bool = False):
    token = csrf_from(browser.get(f"/applications/{case.id}/edit").get_data(as_text=True))
    headers = {"Accept": "application/json"} if json else {}
    return browser.post(f"/applications/{case.id}/materials/{MATERIAL}", headers=headers,
                        data={"csrf_token": token, "file": (io.BytesIO(body), "扫描件.pdf")},
                        content_type="multipart/form-data")


def live_files(db_session) -> list[MaterialFile]:
    db_session.expire_all()
    return list(db_session.execute(select(MaterialFile).where(MaterialFile.deleted_at.is_(None))).scalars())


def test_an_oversize_upload_without_javascript_comes_back_to_the_slot(browser, db_session, citizen, draft,
                                                                       small_request):
    kept = upload(draft, make.png(), "kept.png", by=citizen)
    db_session.commit()
    form_before = draft.form_json
    response = post(browser, draft, big_pdf())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/applications/{draft.id}/edit#m_{MATERIAL}")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    slot = page[page.index(f'id="upload-{MATERIAL}-errors"'):]
    assert TOO_LARGE in slot[:slot.index("</div>")]  # next to the material, not a bare error page
    assert "64 KB" not in slot and "0.1 MB in all" in slot  # the request limit, in MB, rounded up
    assert [f.id for f in live_files(db_session)] == [kept.id]  # nothing added, nothing lost
    db_session.refresh(draft)
    assert draft.form_json == form_before and draft.state == "draft"
    assert "kept.png" in page


def test_an_oversize_upload_from_the_script_gets_the_refusal_as_json(browser, db_session, draft, small_request):
    response = post(browser, draft, big_pdf(), json=True)
    assert response.status_code == 413
    refused = response.get_json()["refused"]
    assert len(refused) == 1 and TOO_LARGE in refused[0] and "one at a time" in refused[0]
    assert live_files(db_session) == []


def test_a_file_under_the_request_limit_but_over_the_file_limit_is_refused_by_name(browser, db_session, draft,
                                                                                   small_request):
    response = post(browser, draft, sized_pdf(40 * 1024), json=True)  # over the 32 KiB file limit
    assert response.status_code == 422
    assert "the limit for one file" in response.get_json()["refused"][0]
    assert live_files(db_session) == []


def test_an_oversize_api_upload_gets_the_error_envelope(make_client, db_session, citizen, draft, small_request):
    raw = tokens.issue_token(citizen, label="test")[0]
    db_session.commit()
    response = make_client().post(f"/api/v1/applications/{draft.id}/materials/{MATERIAL}",
                                  headers={"Authorization": f"Bearer {raw}"}, content_type="multipart/form-data",
                                  data={"file": (io.BytesIO(big_pdf()), "scan.pdf")})
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_large" and TOO_LARGE in error["message"]
    assert live_files(db_session) == []


def test_the_upload_limit_is_its_own_not_the_sites(app, browser, draft, monkeypatch):
    """Uploads may be larger than other requests (MAX_CONTENT_LENGTH), and the site's limit stays for the rest."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 16 * 1024)
    response = post(browser, draft, sized_pdf(20 * 1024), json=True)  # over the site's limit only
    assert response.status_code == 201, response.get_json()
    login_page = browser.post("/login/citizen", data={"phone": "1" * (20 * 1024)})
    assert login_page.status_code in (400, 413)


def test_the_script_knows_the_request_limit(browser, draft, small_request):
    page = browser.get(f"/applications/{draft.id}/edit").get_data(as_text=True)
    assert f'data-max-bytes="{SMALL_REQUEST}"' in page
    assert "data-too-large=" in page
