"""``/api/v1`` files: multipart upload round trip, list, download, remove; 415 for anything but multipart (S8);
404 for anyone else (S6); refusals in the error envelope (S9, S18); the OpenAPI document names the endpoints."""

from __future__ import annotations

import io

from tests.applications.conftest import request_context  # noqa: F401 (autouse: messages need a request)

from . import fixtures as make
from .upload_support import MATERIAL, upload

BASE = "/api/v1/applications"
FILE_KEYS = {"id", "material", "name", "size", "kind", "media_type", "pages", "is_claimed"}


def send(client, headers, case_id, body: bytes, name: str, material: str = MATERIAL):
    return client.post(f"{BASE}/{case_id}/materials/{material}", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(body), name)})


def test_multipart_round_trip(api_for, citizen, draft):
    client, headers = api_for(citizen)
    created = send(client, headers, draft.id, make.pdf(2), "诊断证明.pdf")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert set(body) == FILE_KEYS
    assert (body["name"], body["kind"], body["pages"], body["is_claimed"]) == ("诊断证明.pdf", "pdf", 2, False)
    listed = client.get(f"{BASE}/{draft.id}/files", headers=headers).get_json()
    assert [f["id"] for f in listed["files"]] == [body["id"]]
    case = client.get(f"{BASE}/{draft.id}", headers=headers).get_json()
    assert {m["id"]: m["mode"] for m in case["materials"]}[MATERIAL] == "upload"

    download = client.get(f"/api/v1/files/{body['id']}", headers=headers)
    assert download.status_code == 200 and download.get_data() == make.pdf(2)
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff" and download.headers["Cache-Control"] == "no-store"

    removed = client.delete(f"{BASE}/{draft.id}/files/{body['id']}", headers=headers)
    assert removed.status_code == 204
    assert client.get(f"/api/v1/files/{body['id']}", headers=headers).status_code == 404
    assert client.get(f"{BASE}/{draft.id}/files", headers=headers).get_json() == {"files": []}


def test_refusals_come_in_the_error_envelope(api_for, citizen, draft):
    client, headers = api_for(citizen)
    refused = send(client, headers, draft.id, make.pdf_with_document_js(), "form.pdf")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "pdf_javascript" and "contains JavaScript" in error["message"]
    renamed = send(client, headers, draft.id, make.windows_exe(), "scan.pdf")
    assert renamed.status_code == 422 and renamed.get_json()["error"]["code"] == "executable"
    two = client.post(f"{BASE}/{draft.id}/materials/{MATERIAL}", headers=headers, content_type="multipart/form-data",
                      data={"file": [(io.BytesIO(make.png()), "a.png"), (io.BytesIO(make.png()), "b.png")]})
    assert two.status_code == 422 and "file" in two.get_json()["error"]["fields"]


def test_only_multipart_is_accepted(api_for, citizen, draft):
    client, headers = api_for(citizen)
    as_json = client.post(f"{BASE}/{draft.id}/materials/{MATERIAL}", headers=headers, json={"file": "abc"})
    assert as_json.status_code == 415 and as_json.get_json()["error"]["code"] == "unsupported_media_type"


def test_another_citizen_gets_404(api_for, citizen, stranger, draft, db_session):
    row = upload(draft, make.png(), by=citizen)
    client, headers = api_for(stranger)
    assert send(client, headers, draft.id, make.png(), "x.png").status_code == 404
    assert client.get(f"/api/v1/files/{row.id}", headers=headers).status_code == 404
    assert client.get(f"{BASE}/{draft.id}/files", headers=headers).status_code == 404
    assert client.delete(f"{BASE}/{draft.id}/files/{row.id}", headers=headers).status_code == 404
    assert make_anonymous(client, row.id) == 401


def make_anonymous(client, file_id: int) -> int:
    return client.get(f"/api/v1/files/{file_id}").status_code


def test_the_openapi_document_describes_the_multipart_upload(client):
    document = client.get("/api/v1/openapi.json").get_json()
    upload_op = document["paths"]["/api/v1/applications/{case_id}/materials/{material_id}"]["post"]
    content = upload_op["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    assert "201" in upload_op["responses"] and "415" in upload_op["responses"]
    assert "/api/v1/files/{file_id}" in document["paths"]
