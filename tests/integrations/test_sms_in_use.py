"""The business code speaks to the SMS port only, and a login code goes through a real gateway's protocol."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import portal
from portal.accounts.models import OtpChallenge

from .sms_servers import KEY_ID, KEY_SECRET, LocalAliyun

ADAPTERS = re.compile(r"integrations(\.sms)?\s*(\.|import\s+)(aliyun|tencent|outbox)\b"
                      r"|integrations\.sms\.(aliyun|tencent|outbox)")


@pytest.mark.no_db
def test_no_module_outside_the_sms_package_imports_an_sms_adapter():
    root = Path(portal.__file__).parent
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if "integrations/sms" not in path.as_posix() and ADAPTERS.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.fixture
def aliyun_configured(app, monkeypatch):
    with LocalAliyun() as server:
        for name, value in {"PORTAL_SMS_BACKEND": "aliyun", "PORTAL_SMS_KEY_ID": KEY_ID,
                            "PORTAL_SMS_KEY_SECRET": KEY_SECRET, "PORTAL_SMS_SIGN_NAME": "吉林医保",
                            "PORTAL_SMS_ENDPOINT": server.url,
                            "PORTAL_SMS_TEMPLATES": '{"otp_login": "SMS_100", "otp_lookup": "SMS_200", '
                                                    '"binding_active": "SMS_5", "binding_pending": "SMS_6"}'}.items():
            monkeypatch.setitem(app.config, name, value)
        yield server


def test_a_login_code_goes_out_as_the_configured_template_with_the_challenge_as_outid(client, aliyun_configured,
                                                                                       db_session):
    response = client.post("/api/v1/auth/sms/request", json={"phone": "13912340001"})
    assert response.status_code == 202, response.get_json()
    [message] = aliyun_configured.accepted
    challenge = db_session.query(OtpChallenge).order_by(OtpChallenge.id.desc()).first()
    assert message["template"] == "SMS_100" and message["phone"] == "13912340001" and message["sign"] == "吉林医保"
    assert message["business_id"] == f"otp-{challenge.id}"
    assert set(message["params"]) == {"code", "minutes"} and re.fullmatch(r"\d{6}", message["params"]["code"])
    assert message["params"]["minutes"] == "5"


def test_a_rate_limited_gateway_answers_503_with_a_message_not_a_500(client, aliyun_configured):
    aliyun_configured.answer = lambda _message: "isv.BUSINESS_LIMIT_CONTROL"
    response = client.post("/api/v1/auth/sms/request", json={"phone": "13912340002"},
                           headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "sms_failed" and "短信暂时无法发送" in body["error"]["message"]
    assert "isv." not in body["error"]["message"]


def test_the_doctor_reports_whether_the_configured_gateway_can_send(app, monkeypatch):
    from portal.core import doctor

    run = doctor.checks()["sms"].run
    with app.app_context():
        assert run().ok
        monkeypatch.setitem(app.config, "PORTAL_SMS_BACKEND", "aliyun")
        monkeypatch.setitem(app.config, "PORTAL_SMS_KEY_ID", "")
        monkeypatch.setitem(app.config, "PORTAL_SMS_KEY_SECRET", "")
        outcome = run()
    assert not outcome.ok and "Alibaba Cloud SMS lacks its key" in outcome.problems[0]
