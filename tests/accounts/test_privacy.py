"""S12 and S14: no phone, 身份证 number, code or token in logs, URLs, pages or the audit log."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from flask import request_started
from sqlalchemy import select

from portal.core import clock
from portal.core.audit import AuditEvent
from tests.factories import mobile, valid_id_number

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def test_secrets_never_reach_logs_urls_pages_or_audit(app, client, caplog, get_csrf, make_person, make_staff,
                                                       staff_login, outbox_code, db_session):
    caplog.set_level(logging.DEBUG)
    urls: list[str] = []

    def _seen(sender, **_extra):
        from flask import request

        urls.append(request.full_path)

    request_started.connect(_seen, app)
    try:
        phone, number = mobile(), valid_id_number()
        make_person("周九", number, phone=phone)
        secrets: list[str] = [phone, number]
        # citizen by the pages, with a wrong code and a wrong binding on the way
        client.post("/login/citizen", data={"csrf_token": get_csrf("/login/citizen"), "phone": phone})
        code = outbox_code(phone)
        secrets.append(code)
        client.post("/login/code", data={"csrf_token": get_csrf("/login/code"), "code": "000000"})
        client.post("/login/code", data={"csrf_token": get_csrf("/login/code"), "code": code})
        client.post("/bind", data={"csrf_token": get_csrf("/bind"), "name": "周十", "id_number": number})
        client.post("/bind", data={"csrf_token": get_csrf("/bind"), "name": "周九", "id_number": number})
        pages = [client.get("/me").get_data(as_text=True)]
        client.post("/logout", data={"csrf_token": get_csrf("/me")})
        # the API, with a token
        api_phone = mobile()
        secrets.append(api_phone)
        client.post("/api/v1/auth/sms/request", json={"phone": api_phone})
        api_code = outbox_code(api_phone)
        secrets.append(api_code)
        body = client.post("/api/v1/auth/sms/login", json={"phone": api_phone, "code": api_code}).get_json()
        secrets.append(body["token"])
        pages.append(client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
                     .get_data(as_text=True))
        client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {body['token']}"})
        # staff with a wrong password
        _account, totp_secret = make_staff("clerk")
        secrets.append(totp_secret)
        with clock.frozen(T0):
            staff_login("clerk", totp_secret, password="Wrong-Password-9")
        # an exception path: a malformed API body
        client.post("/api/v1/auth/sms/login", data="{", content_type="application/json")
    finally:
        request_started.disconnect(_seen, app)

    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    audit = "\n".join(e.detail + (e.object_id or "") for e in db_session.execute(select(AuditEvent)).scalars())
    for secret in secrets:
        assert secret not in logged
        assert secret not in audit
        assert all(secret not in url for url in urls), secret
    for page in pages:
        assert phone not in page and number not in page and api_phone not in page
    assert all("?" not in url.rstrip("?") or url.startswith("/login?next=") for url in urls)
    assert re.search(r"1[3-9]\d\*{4}\d{4}", audit)  # the OTP audit rows name the phone, masked


def test_no_form_sends_personal_data_by_get(client):
    for url in ("/login/citizen", "/login/agent", "/login/staff"):
        html = client.get(url).get_data(as_text=True)
        for form in re.findall(r"<form[^>]*>", html):
            assert 'method="post"' in form
