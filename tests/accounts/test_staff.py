"""Staff: password (argon2id) AND TOTP, limits before hashing, 等保 password rules (S4, S5); the login waits are in
test_staff_throttling.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from portal.accounts import operations, passwords
from portal.accounts.models import LoginSession, Role
from portal.core import clock
from portal.core.audit import Actor, AuditEvent
from portal.core.errors import PermissionDenied, ValidationFailed
from tests.factories import STAFF_PASSWORD

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


class CountingHasher(PasswordHasher):
    """The real argon2id hasher, counting how often a hash is computed."""

    calls = 0

    def verify(self, hash, password):
        CountingHasher.calls += 1
        return super().verify(hash, password)

    def hash(self, password, *, salt=None):
        CountingHasher.calls += 1
        return super().hash(password, salt=salt)


@pytest.fixture
def counting_hasher(monkeypatch):
    CountingHasher.calls = 0
    monkeypatch.setattr(passwords, "hasher", CountingHasher())
    return CountingHasher


def test_staff_password_is_argon2id(make_staff):
    account, _secret = make_staff()
    assert account.password_hash.startswith("$argon2id$")
    assert STAFF_PASSWORD not in account.password_hash


def test_staff_logs_in_with_password_and_totp(client, make_staff, staff_login):
    _account, secret = make_staff("clerk")
    with clock.frozen(T0):
        response = staff_login("clerk", secret)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"  # the workbench, not /me
    with clock.frozen(T0 + timedelta(minutes=1)):
        page = client.get("/me")
    assert page.status_code == 200 and "clerk" in page.get_data(as_text=True)


def test_password_alone_is_refused(client, make_staff, staff_login, get_csrf):
    _account, secret = make_staff("clerk")
    token = get_csrf("/login/staff")
    response = client.post("/login/staff", data={"csrf_token": token, "username": "clerk",
                                                 "password": STAFF_PASSWORD, "totp": ""})
    assert response.status_code == 422 and "verification code" in response.get_data(as_text=True)
    with clock.frozen(T0):
        wrong = staff_login("clerk", secret, totp="000000" if passwords.current_totp(secret, T0) != "000000"
                            else "111111")
    assert wrong.status_code == 401
    assert "wrong" in wrong.get_data(as_text=True)
    assert client.get("/me").status_code == 302  # not logged in


def test_a_totp_code_works_once(make_staff, staff_login, client):
    _account, secret = make_staff("clerk")
    with clock.frozen(T0):
        assert staff_login("clerk", secret).status_code == 302
    with clock.frozen(T0 + timedelta(seconds=5)):
        replay = staff_login("clerk", secret)
    assert replay.status_code == 401


def test_rate_limits_refuse_before_any_hash(client, make_staff, staff_login, counting_hasher, app, monkeypatch):
    _account, secret = make_staff("clerk")
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_STAFF_LOGIN_IP", "2/10 minutes")
    counting_hasher.calls = 0
    statuses = [staff_login(f"nobody{n}", secret).status_code for n in range(3)]
    assert statuses == [401, 401, 429]
    assert counting_hasher.calls == 2  # unknown names still cost a hash (no timing oracle), the limit none


def test_unknown_username_is_refused_like_a_wrong_password(staff_login, make_staff):
    _account, secret = make_staff("clerk")
    unknown = staff_login("nobody", secret)
    wrong = staff_login("clerk", secret, password="Wrong-Password-1")
    assert unknown.status_code == wrong.status_code == 401
    message = "The username, password or verification code is wrong."
    assert message in unknown.get_data(as_text=True) and message in wrong.get_data(as_text=True)


@pytest.mark.parametrize(("password", "expected"), [
    ("Short1!", "at least 10 characters"),
    ("alllowercaseletters", "three of"),
    ("clerk-Password-1", "must not contain the username"),
    ("Aaaa1111!!!!bbbb", "four times in a row"),
])
def test_password_rules_say_what_is_wrong(password, expected):
    assert any(expected in problem for problem in passwords.password_problems(password, username="clerk"))


def test_a_good_password_passes_the_rules():
    assert passwords.password_problems("Correct-Horse-42", username="clerk") == []


def test_change_password_ends_every_session(client, make_staff, staff_login, get_csrf, db_session):
    account, secret = make_staff("clerk")
    with clock.frozen(T0):
        staff_login("clerk", secret)
        old_cookie = client.get_cookie("portal_session").value
        response = client.post("/staff/password", data={
            "csrf_token": get_csrf("/staff/password"), "current_password": STAFF_PASSWORD,
            "new_password": "Brand-New-Secret-7", "confirm_password": "Brand-New-Secret-7"})
        assert response.status_code == 302 and response.headers["Location"].endswith("/login/staff")
        assert passwords.verify_password(account.password_hash, "Brand-New-Secret-7")
        client.set_cookie("portal_session", old_cookie)
        assert client.get("/me").status_code == 302  # the old session is dead on the server
    sessions = db_session.execute(select(LoginSession)).scalars().all()
    assert sessions and all(s.revoked_at is not None for s in sessions)


def test_change_password_refuses_weak_or_wrong(client, make_staff, staff_login, get_csrf):
    _account, secret = make_staff("clerk")
    with clock.frozen(T0):
        staff_login("clerk", secret)
        weak = client.post("/staff/password", data={
            "csrf_token": get_csrf("/staff/password"), "current_password": STAFF_PASSWORD,
            "new_password": "weakweak", "confirm_password": "weakweak"})
        assert weak.status_code == 422 and "at least 10 characters" in weak.get_data(as_text=True)
        wrong = client.post("/staff/password", data={
            "csrf_token": get_csrf("/staff/password"), "current_password": "Not-The-Password-1",
            "new_password": "Brand-New-Secret-7", "confirm_password": "Brand-New-Secret-7"})
        assert wrong.status_code == 422 and "current password is wrong" in wrong.get_data(as_text=True)


def test_password_older_than_90_days_must_be_changed(client, make_staff, staff_login):
    account, secret = make_staff("clerk")
    account.password_changed_at = T0 - timedelta(days=90)
    with clock.frozen(T0):
        response = staff_login("clerk", secret)
        assert response.headers["Location"].endswith("/staff/password")
        forced = client.get("/me")
        assert forced.status_code == 302 and forced.headers["Location"].endswith("/staff/password")
        assert client.get("/staff/password").status_code == 200


def test_role_change_ends_sessions_and_needs_an_administrator(client, make_staff, staff_login, db_session):
    clerk, secret = make_staff("clerk")
    admin, _ = make_staff("boss", roles={Role.ADMIN})
    with clock.frozen(T0):
        staff_login("clerk", secret)
        assert client.get("/me").status_code == 200
        with pytest.raises(PermissionDenied):
            operations.change_roles(admin, frozenset({Role.ACCEPTOR}), by=clerk, actor=Actor("staff"))
        operations.change_roles(clerk, frozenset({Role.REVIEWER}), by=admin, actor=Actor("staff", str(admin.id)))
        assert clerk.roles == {Role.REVIEWER}
        assert client.get("/me").status_code == 302
        with pytest.raises(ValidationFailed):
            operations.change_roles(clerk, frozenset(), by=admin, actor=Actor("staff"))
    assert db_session.execute(select(AuditEvent).where(AuditEvent.action == "role.changed")).scalar_one()
