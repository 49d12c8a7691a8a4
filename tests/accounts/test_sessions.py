"""Server-side sessions: cookie flags (S1), revocation (S2), timeouts (S3), CSRF (S8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import LoginSession
from portal.core import clock
from tests.factories import mobile, valid_id_number

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def _set_cookie_header(response) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("portal_session=")]
    assert headers, "no session cookie set"
    return headers[-1]


@pytest.fixture
def bound_citizen(citizen_login, client, get_csrf, make_person):
    def _login(phone: str | None = None):
        number, phone = valid_id_number(), phone or mobile()
        make_person("赵一", number, phone=phone)  # binding at once needs the phone on record
        citizen_login(phone)
        response = client.post("/bind", data={"csrf_token": get_csrf("/bind"), "name": "赵一", "id_number": number})
        assert response.status_code == 302
        return response

    return _login


def test_session_cookie_flags(client, db_session, get_csrf, outbox_code):
    phone = mobile()
    client.post("/login/citizen", data={"csrf_token": get_csrf("/login/citizen"), "phone": phone})
    response = client.post("/login/code", data={"csrf_token": get_csrf("/login/code"), "code": outbox_code(phone)})
    header = _set_cookie_header(response)
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Expires=" not in header and "Max-Age" not in header  # a browser-session cookie, no remember-me
    assert "Secure" not in header  # plain-HTTP testing
    assert not any(h.startswith("remember_token") for h in response.headers.getlist("Set-Cookie"))
    # the cookie holds only the random session id: the database has its hash, not the value
    raw = client.get_cookie("portal_session").value
    record = db_session.execute(select(LoginSession)).scalar_one()
    assert record.token_hash not in raw and len(record.token_hash) == 64


def test_session_cookie_is_secure_when_configured(client, app, monkeypatch, get_csrf, make_staff, staff_login):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    _account, secret = make_staff("clerk")
    with clock.frozen(T0):
        token = get_csrf("/login/staff")  # the cookie is Secure now; the test client still sends it over http
        response = staff_login("clerk", secret) if token else None
    assert "; Secure" in _set_cookie_header(response)


def test_logout_kills_the_session_on_the_server(client, bound_citizen, get_csrf, db_session):
    bound_citizen()
    assert client.get("/me").status_code == 200
    old = client.get_cookie("portal_session").value
    response = client.post("/logout", data={"csrf_token": get_csrf("/me")})
    assert response.status_code == 302
    client.set_cookie("portal_session", old)  # replay the cookie the browser had before logging out
    replay = client.get("/me")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    assert all(s.revoked_at is not None for s in db_session.execute(select(LoginSession)).scalars())


def test_logout_without_csrf_token_is_refused(client, bound_citizen):
    bound_citizen()
    response = client.post("/logout", data={})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert client.get("/me").status_code == 200  # still logged in


@pytest.mark.parametrize("url", ["/login/citizen", "/login/agent", "/login/staff"])
def test_login_forms_need_the_csrf_token(client, url):
    response = client.post(url, data={"phone": mobile(), "username": "x", "password": "y", "totp": "123456"})
    assert response.status_code == 400


def test_citizen_idle_timeout_is_30_minutes(client, bound_citizen):
    with clock.frozen(T0) as frozen:
        bound_citizen()
        frozen.tick(timedelta(minutes=29))
        assert client.get("/me").status_code == 200  # activity refreshes last_seen_at
        frozen.tick(timedelta(minutes=29))
        assert client.get("/me").status_code == 200
        frozen.tick(timedelta(minutes=30, seconds=1))
        assert client.get("/me").status_code == 302


def test_citizen_absolute_timeout_is_12_hours(client, bound_citizen):
    with clock.frozen(T0) as frozen:
        bound_citizen()
        for _ in range(23):  # active every 29 minutes, just under 11 h 7 min
            frozen.tick(timedelta(minutes=29))
            assert client.get("/me").status_code == 200
        frozen.tick(timedelta(minutes=29))  # 11 h 36 min
        assert client.get("/me").status_code == 200
        frozen.tick(timedelta(minutes=25))  # 12 h 01 min: over, however active
        assert client.get("/me").status_code == 302


def test_staff_idle_timeout_is_15_minutes(client, make_staff, staff_login):
    _account, secret = make_staff("clerk")
    with clock.frozen(T0) as frozen:
        staff_login("clerk", secret)
        frozen.tick(timedelta(minutes=14))
        assert client.get("/me").status_code == 200
        frozen.tick(timedelta(minutes=15, seconds=1))
        assert client.get("/me").status_code == 302


def test_staff_absolute_timeout_is_8_hours(client, make_staff, staff_login):
    _account, secret = make_staff("clerk")
    with clock.frozen(T0) as frozen:
        staff_login("clerk", secret)
        for _ in range(33):  # every 14 minutes: 7 h 42 min
            frozen.tick(timedelta(minutes=14))
            assert client.get("/me").status_code == 200
        frozen.tick(timedelta(minutes=14))  # 7 h 56 min
        assert client.get("/me").status_code == 200
        frozen.tick(timedelta(minutes=5))  # 8 h 01 min
        assert client.get("/me").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(client, bound_citizen, db_session):
    with clock.frozen(T0) as frozen:
        bound_citizen()
        record = db_session.execute(select(LoginSession)).scalar_one()
        frozen.tick(timedelta(seconds=30))
        client.get("/me")
        assert record.last_seen_at == T0
        frozen.tick(timedelta(seconds=31))
        client.get("/me")
        assert record.last_seen_at == T0 + timedelta(seconds=61)


def test_a_forged_or_unknown_session_id_is_not_logged_in(client):
    with client.session_transaction() as session:
        session["sid"] = "made-up-session-id-that-is-long-enough"
    response = client.get("/me")
    assert response.status_code == 302


def test_login_page_next_only_keeps_same_site_paths(client, bound_citizen):
    response = client.get("/me")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login?next=/me")
    assert client.get("/login?next=//evil.example/x").status_code == 200
    with client.session_transaction() as session:
        assert session.get("next") is None


def test_the_api_ignores_the_browser_cookie(client, bound_citizen):
    bound_citizen()
    assert client.get("/me").status_code == 200
    assert client.get("/api/v1/me").status_code == 401  # bearer tokens only (S8)


def test_logging_in_again_replaces_the_old_session(client, bound_citizen, citizen_login, db_session, app,
                                                   monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_OTP_SEND_PHONE", "5/minute")
    phone = mobile()
    bound_citizen(phone)
    citizen_login(phone)
    rows = db_session.execute(select(LoginSession).order_by(LoginSession.id)).scalars().all()
    assert len(rows) == 2 and rows[0].revoked_reason == "replaced" and rows[1].revoked_at is None
