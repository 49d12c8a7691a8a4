"""``/api/v1/auth/...`` and ``/api/v1/me``: JSON shapes, tokens (S2), JSON only (S8), bad input (S18), WeChat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.accounts import operations, tokens
from portal.accounts.models import ApiToken
from portal.core import clock
from portal.core.audit import Actor
from portal.core.crypto import sha256_hex
from tests.factories import STAFF_PASSWORD, mobile, valid_id_number

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_login(client, outbox_code):
    def _login(phone: str) -> dict:
        sent = client.post("/api/v1/auth/sms/request", json={"phone": phone})
        assert sent.status_code == 202, sent.get_json()
        assert sent.get_json() == {"sent": True, "expires_in_seconds": 300}
        response = client.post("/api/v1/auth/sms/login", json={"phone": phone, "code": outbox_code(phone)})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return _login


def test_sms_login_returns_a_token_and_me_is_masked(client, api_login, db_session):
    phone = mobile()
    body = api_login(phone)
    assert set(body) == {"token", "token_type", "expires_at", "needs_binding", "account"}
    assert body["token_type"] == "Bearer" and body["needs_binding"] is True
    assert len(body["token"]) >= 43  # 256 random bits, url-safe
    stored = db_session.execute(select(ApiToken)).scalar_one()
    assert stored.token_hash == sha256_hex(body["token"]) and body["token"] not in stored.token_hash
    me = client.get("/api/v1/me", headers=_bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json() == {"kind": "citizen", "name_masked": "", "phone_masked": phone[:3] + "****" + phone[-4:],
                             "id_number_masked": None, "is_bound": False, "binding": "none", "binding_proofs": [],
                             "is_unit_admin": False, "unit": None, "institution": None, "roles": []}


def test_binding_through_the_api(client, api_login, make_person):
    number, phone = valid_id_number(), mobile()
    make_person("钱七", number, phone=phone)
    token = api_login(phone)["token"]
    wrong = client.post("/api/v1/me/binding", json={"name": "钱八", "id_number": number}, headers=_bearer(token))
    assert wrong.status_code == 422 and "do not match" in wrong.get_json()["error"]["message"]
    right = client.post("/api/v1/me/binding", json={"name": "钱七", "id_number": number}, headers=_bearer(token))
    assert right.status_code == 200
    assert right.get_json()["is_bound"] is True
    assert right.get_json()["id_number_masked"] == number[0] + "*" * 15 + number[-2:]


def test_logout_revokes_the_token(client, api_login):
    token = api_login(mobile())["token"]
    assert client.post("/api/v1/auth/logout", headers=_bearer(token)).get_json() == {"logged_out": True}
    replay = client.get("/api/v1/me", headers=_bearer(token))
    assert replay.status_code == 401 and replay.get_json()["error"]["code"] == "unauthorized"


def test_password_change_revokes_staff_tokens(client, make_staff):
    account, _secret = make_staff("clerk")
    raw, _token = tokens.issue_token(account, label="test")
    assert client.get("/api/v1/me", headers=_bearer(raw)).status_code == 200
    operations.change_password(account, operations.PasswordChange(STAFF_PASSWORD, "Brand-New-Secret-7"),
                               actor=Actor("staff"), client_ip="10.0.0.1")
    assert client.get("/api/v1/me", headers=_bearer(raw)).status_code == 401


def test_tokens_expire(client, api_login):
    with clock.frozen(T0) as frozen:
        token = api_login(mobile())["token"]
        frozen.tick(timedelta(days=7))
        assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401


def test_unknown_or_missing_token_is_401(client):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=_bearer("x" * 43)).status_code == 401


def test_api_takes_json_only(client):
    response = client.post("/api/v1/auth/sms/request", data="phone=13912345678", content_type="text/plain")
    assert response.status_code == 415 and response.get_json()["error"]["code"] == "unsupported_media_type"
    form = client.post("/api/v1/auth/sms/request", data={"phone": "13912345678"})
    assert form.status_code == 415


@pytest.mark.parametrize(("body", "status", "field", "words"), [
    ({"phone": "12345"}, 422, "phone", "11 digits"),
    ({"phone": "139 1234 567x"}, 422, "phone", "only digits"),
    ({}, 422, "phone", "required"),
    ({"phone": "13912345678", "extra": 1}, 422, "extra", "not accepted"),
    ({"phone": "1" * 40}, 422, "phone", "too long"),
    ({"phone": "13912345678", "kind": "robot"}, 422, "kind", "not valid"),
    ({"phone": "13912345678", "kind": "agent", "credit_code": "abc"}, 422, "credit_code", "18 characters"),
])
def test_bad_sms_requests_say_what_is_wrong(client, body, status, field, words):
    response = client.post("/api/v1/auth/sms/request", json=body)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert words in " ".join(error["fields"][field])


def test_non_json_and_oversized_bodies(client, app, monkeypatch):
    broken = client.post("/api/v1/auth/sms/login", data="{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "bad_json"
    listed = client.post("/api/v1/auth/sms/login", json=["13912345678"])
    assert listed.status_code == 400
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    big = client.post("/api/v1/auth/sms/login", json={"phone": "1" * 5000, "code": "123456"})
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "too_large"


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567", ""])
def test_malformed_codes_are_422(client, code):
    response = client.post("/api/v1/auth/sms/login", json={"phone": "13912345678", "code": code})
    assert response.status_code == 422 and "6 digits" in response.get_json()["error"]["fields"]["code"][0]


def test_wrong_code_is_401_in_english_when_asked(client):
    phone = mobile()
    client.post("/api/v1/auth/sms/request", json={"phone": phone})
    response = client.post("/api/v1/auth/sms/login", json={"phone": phone, "code": "000000"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response.get_json()["error"] == {"code": "wrong_code", "message": "The code is wrong or has expired. "
                                            "Check the text message, or ask for a new code."}


def test_openapi_documents_the_auth_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/auth/sms/request", "/api/v1/auth/sms/login", "/api/v1/auth/wechat",
                 "/api/v1/auth/wechat/bind", "/api/v1/auth/logout", "/api/v1/me", "/api/v1/me/binding"):
        assert path in document["paths"], path
    assert "TokenOut" in document["components"]["schemas"]


# --- WeChat (the fake client: demo-<openid> is a good code, "bad" is refused by WeChat) ---------------


def test_wechat_first_time_needs_binding_then_logs_in(client, make_person, outbox_code):
    number, phone = valid_id_number(), mobile()
    make_person("孙八", number, phone=phone)
    first = client.post("/api/v1/auth/wechat", json={"code": "demo-openid-1"})
    assert first.status_code == 200
    body = first.get_json()
    assert body["status"] == "bind_required" and body["session"] is None and len(body["bind_ticket"]) >= 43

    client.post("/api/v1/auth/sms/request", json={"phone": phone})
    bound = client.post("/api/v1/auth/wechat/bind", json={
        "bind_ticket": body["bind_ticket"], "phone": phone, "code": outbox_code(phone), "name": "孙八",
        "id_number": number})
    assert bound.status_code == 200, bound.get_json()
    assert bound.get_json()["account"]["is_bound"] is True

    again = client.post("/api/v1/auth/wechat", json={"code": "demo-openid-1"})
    assert again.get_json()["status"] == "ok"
    token = again.get_json()["session"]["token"]
    assert client.get("/api/v1/me", headers=_bearer(token)).get_json()["is_bound"] is True


def test_wechat_bind_with_wrong_name_is_refused(client, make_person, outbox_code):
    number, phone = valid_id_number(), mobile()
    make_person("孙八", number)
    ticket = client.post("/api/v1/auth/wechat", json={"code": "demo-openid-2"}).get_json()["bind_ticket"]
    client.post("/api/v1/auth/sms/request", json={"phone": phone})
    refused = client.post("/api/v1/auth/wechat/bind", json={
        "bind_ticket": ticket, "phone": phone, "code": outbox_code(phone), "name": "孙九", "id_number": number})
    assert refused.status_code == 422 and "do not match" in refused.get_json()["error"]["message"]


def test_wechat_bad_code_gets_the_mapped_message(client):
    response = client.post("/api/v1/auth/wechat", json={"code": "bad"}, headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response.get_json()["error"] == {"code": "wechat_code_invalid",
                                            "message": "The login code is invalid. Please reopen the mini-program."}
    limited = client.post("/api/v1/auth/wechat", json={"code": "limited"})
    assert limited.status_code == 429


def test_wechat_bind_with_an_unknown_ticket_is_401(client):
    response = client.post("/api/v1/auth/wechat/bind", json={
        "bind_ticket": "t" * 43, "phone": "13912345678", "code": "123456", "name": "孙八",
        "id_number": valid_id_number()})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "bind_ticket_invalid"
