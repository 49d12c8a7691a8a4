"""Behind reverse proxies (PORTAL_PROXY_HOPS): the client's address, scheme and host as the app sees them, and what
reads them: per-IP rate limits, audit records and the staff session's address check. Forwarded headers a client
wrote itself (no proxy configured, or more values than proxies) are never believed."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from argon2 import PasswordHasher
from flask import request, request_started
from sqlalchemy import select

from portal.accounts import passwords
from portal.accounts.models import LoginSession, Role
from portal.config import ConfigError, build_config
from portal.core.audit import AuditEvent
from tests.conftest import csrf_from
from tests.factories import STAFF_PASSWORD, mobile

PROXY = "127.0.0.1"  # nginx on the app's host
CLIENT = "198.51.100.7"
OTHER_CLIENT = "198.51.100.8"
SPOOFED = "203.0.113.66"


def through_proxy(client: str, *, spoofed: str | None = None, proxy: str = PROXY, proto: str = "https",
                  host: str = "portal.example.gov.cn") -> dict:
    """The WSGI environ of a request nginx forwarded for ``client`` (nginx appends the address it saw to whatever
    X-Forwarded-For the client sent)."""
    forwarded_for = f"{spoofed}, {client}" if spoofed else client
    return {"REMOTE_ADDR": proxy, "HTTP_X_FORWARDED_FOR": forwarded_for, "HTTP_X_FORWARDED_PROTO": proto,
            "HTTP_X_FORWARDED_HOST": host}


@contextmanager
def observed(app):
    """What the app's views see of each request: (remote address, scheme, host), appended as requests start."""
    seen: list[tuple[str | None, str, str]] = []

    def _record(sender, **extra):
        seen.append((request.remote_addr, request.scheme, request.host))

    with request_started.connected_to(_record, app):
        yield seen


@pytest.fixture
def hops(app, monkeypatch):
    def _set(number: int) -> None:
        monkeypatch.setitem(app.config, "PORTAL_PROXY_HOPS", number)

    return _set


def test_by_default_no_forwarded_header_is_believed(app, client):
    assert app.config["PORTAL_PROXY_HOPS"] == 0
    with observed(app) as seen:
        client.get("/", environ_base={**through_proxy(CLIENT), "REMOTE_ADDR": "10.0.0.2"})
    assert seen == [("10.0.0.2", "http", "localhost")]


def test_forwarded_headers_without_hops_are_reported_to_the_operator_once(app, client, caplog, monkeypatch):
    monkeypatch.setattr(app.wsgi_app, "_warned", False)
    with caplog.at_level("WARNING", logger="portal"):
        client.get("/", environ_base={"REMOTE_ADDR": "127.0.0.1"})  # no header: nothing to say
        for _ in range(3):
            client.get("/", environ_base=through_proxy(CLIENT))
    warnings = [r.getMessage() for r in caplog.records if "PORTAL_PROXY_HOPS" in r.getMessage()]
    assert len(warnings) == 1 and "127.0.0.1" in warnings[0] and CLIENT not in warnings[0]


def test_behind_one_proxy_the_app_sees_the_client_its_scheme_and_host(app, client, hops):
    hops(1)
    with observed(app) as seen:
        client.get("/", environ_base=through_proxy(CLIENT))
    assert seen == [(CLIENT, "https", "portal.example.gov.cn")]


def test_a_client_prepending_its_own_forwarded_for_is_not_believed(app, client, hops):
    hops(1)
    with observed(app) as seen:
        client.get("/", environ_base={**through_proxy(CLIENT, spoofed=SPOOFED),
                                      "HTTP_X_FORWARDED_PROTO": "http, https"})
    assert seen == [(CLIENT, "https", "portal.example.gov.cn")]


def test_behind_two_proxies_the_second_value_from_the_right_is_the_client(app, client, hops):
    hops(2)  # a load balancer (10.0.0.5) in front of nginx (10.0.0.6)
    with observed(app) as seen:
        client.get("/", environ_base={"REMOTE_ADDR": "10.0.0.6",
                                      "HTTP_X_FORWARDED_FOR": f"{SPOOFED}, {CLIENT}, 10.0.0.5",
                                      "HTTP_X_FORWARDED_PROTO": "https, http"})
        # a request that bypassed the outer proxy carries fewer values than there are hops: nothing is believed
        client.get("/", environ_base={"REMOTE_ADDR": "10.0.0.6", "HTTP_X_FORWARDED_FOR": SPOOFED})
    assert seen == [(CLIENT, "https", "localhost"), ("10.0.0.6", "http", "localhost")]


def _send_code(client, environ: dict) -> int:
    return client.post("/api/v1/auth/sms/request", json={"phone": mobile()}, environ_base=environ).status_code


def test_per_ip_limits_count_the_client_behind_the_proxy(app, client, hops, monkeypatch):
    hops(1)
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_OTP_SEND_IP", "2/hour")
    first = [_send_code(client, through_proxy(CLIENT)) for _ in range(2)]
    # the same client, pretending through X-Forwarded-For to be someone else, is still counted as itself
    spoofing = _send_code(client, through_proxy(CLIENT, spoofed=SPOOFED))
    other = _send_code(client, through_proxy(OTHER_CLIENT))  # everybody shares the proxy's address, not its limit
    assert (first, spoofing, other) == ([202, 202], 429, 202)


def test_without_hops_a_client_cannot_escape_its_limit_by_forged_headers(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_OTP_SEND_IP", "2/hour")
    statuses = [_send_code(client, {**through_proxy(f"198.51.100.{n}"), "REMOTE_ADDR": "10.0.0.2"})
                for n in range(3)]
    assert statuses == [202, 202, 429]


def _audited_ip(db_session) -> str:
    return db_session.execute(select(AuditEvent.ip).where(AuditEvent.action == "otp.sent")
                              .order_by(AuditEvent.id.desc())).scalars().first()


def test_audit_records_carry_the_client_behind_the_proxy(client, hops, db_session):
    hops(1)
    assert _send_code(client, through_proxy(CLIENT, spoofed=SPOOFED)) == 202
    assert _audited_ip(db_session) == CLIENT


def test_audit_records_without_hops_carry_the_connection_not_the_header(client, db_session):
    assert _send_code(client, {**through_proxy(CLIENT), "REMOTE_ADDR": "10.0.0.2"}) == 202
    assert _audited_ip(db_session) == "10.0.0.2"


@pytest.fixture
def staff_browser(make_client, make_staff, monkeypatch):
    """A browser logging a new acceptor in with the WSGI ``environ`` (its address, through a proxy or not)."""
    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

    def _login(username: str, environ: dict):
        from portal.core import clock

        account, secret = make_staff(username, roles={Role.ACCEPTOR})
        browser = make_client()
        page = browser.get("/login/staff", environ_base=environ)
        response = browser.post("/login/staff", environ_base=environ, data={
            "csrf_token": csrf_from(page.get_data(as_text=True)), "username": username, "password": STAFF_PASSWORD,
            "totp": passwords.current_totp(secret, clock.now())})
        assert response.status_code == 302, response.get_data(as_text=True)
        return browser, account

    return _login


def _ended(db_session, account) -> bool:
    login = db_session.execute(select(LoginSession).where(LoginSession.account_id == account.id)).scalar_one()
    return login.revoked_reason == "ip changed"


def test_a_staff_session_keeps_its_client_address_behind_the_proxy(staff_browser, hops, db_session):
    hops(1)
    browser, account = staff_browser("pxclerk", through_proxy(CLIENT))
    assert db_session.execute(select(LoginSession.ip).where(LoginSession.account_id == account.id)).scalar() == CLIENT
    # the same client through another nginx of the pool: the same session
    assert browser.get("/staff/queues/intake", environ_base=through_proxy(CLIENT, proxy="10.0.0.7")).status_code == 200
    # a cookie used from another client, even one that writes the first client's address into the header, is not
    response = browser.get("/staff/queues/intake", environ_base=through_proxy(OTHER_CLIENT, spoofed=CLIENT))
    assert response.status_code == 302 and "/login/staff" in response.headers["Location"]
    assert _ended(db_session, account)


def test_without_hops_a_forged_header_cannot_carry_a_staff_session_elsewhere(staff_browser, db_session):
    browser, account = staff_browser("pxdirect", {"REMOTE_ADDR": "10.0.0.2"})
    forged = {"REMOTE_ADDR": "10.6.6.6", "HTTP_X_FORWARDED_FOR": "10.0.0.2"}
    response = browser.get("/staff/queues/intake", environ_base=forged)
    assert response.status_code == 302 and _ended(db_session, account)


@pytest.mark.no_db
@pytest.mark.parametrize("value", ["-1", "6", "two"])
def test_proxy_hops_must_be_a_small_whole_number(value, monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_PROXY_HOPS", value)
    with pytest.raises(ConfigError, match="PORTAL_PROXY_HOPS"):
        build_config({"INSTANCE_PATH": str(tmp_path)})


@pytest.mark.no_db
def test_proxy_hops_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_PROXY_HOPS", "2")
    assert build_config({"INSTANCE_PATH": str(tmp_path)})["PORTAL_PROXY_HOPS"] == 2
