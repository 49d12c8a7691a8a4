"""The SMS adapters against local servers that speak Alibaba Cloud's and Tencent Cloud's protocols: what each
sends (signed requests, parameters, our business id), and how each provider answer maps to sent / retry /
permanent failure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.integrations import sms
from portal.integrations.sms import Found, SmsError, SmsSettings

from .sms_servers import KEY_ID, KEY_SECRET, LocalAliyun, LocalTencent

pytestmark = pytest.mark.no_db
TEMPLATES = (("accepted", "SMS_900"), ("otp_login", "SMS_100"))


def _settings(backend: str, url: str, **changes) -> SmsSettings:
    values = {"backend": backend, "key_id": KEY_ID, "key_secret": KEY_SECRET, "sign_name": "吉林医保",
              "app_id": "1400123456", "endpoint": url, "templates": TEMPLATES, "timeout": 3.0}
    values.update(changes)
    return SmsSettings(**values)


@pytest.fixture
def aliyun():
    with LocalAliyun() as server:
        yield server


@pytest.fixture
def tencent():
    with LocalTencent() as server:
        yield server


def test_aliyun_sends_a_signed_sendsms_with_template_params_and_our_id_as_outid(app, aliyun):
    from portal.integrations.sms.aliyun import AliyunGateway

    with app.app_context():
        receipt = AliyunGateway(_settings("aliyun", aliyun.url)).send(
            "13800001111", "otp_login", {"code": "123456", "minutes": "5"}, business_id="otp-7", text="ignored")
    assert receipt.provider == "aliyun" and receipt.provider_id == "biz^1" and receipt.provider_code == "OK"
    [request] = aliyun.requests
    assert request["action"] == "SendSms"
    assert request["params"]["PhoneNumbers"] == "13800001111" and request["params"]["SignName"] == "吉林医保"
    assert request["params"]["TemplateCode"] == "SMS_100" and request["params"]["OutId"] == "otp-7"
    assert aliyun.accepted[0]["params"] == {"code": "123456", "minutes": "5"}


def test_aliyun_requests_signed_with_a_wrong_secret_are_refused_by_the_server(app, aliyun):
    from portal.integrations.sms.aliyun import AliyunGateway

    with app.app_context(), pytest.raises(SmsError) as caught:
        AliyunGateway(_settings("aliyun", aliyun.url, key_secret="wrong")).send(
            "13800001111", "otp_login", {"code": "1"}, business_id="otp-1")
    assert caught.value.provider_code == "SignatureDoesNotMatch" and not caught.value.uncertain
    assert aliyun.accepted == []


@pytest.mark.parametrize(("code", "permanent"), [
    ("isv.BUSINESS_LIMIT_CONTROL", False),  # per-number rate limit: later
    ("isv.DAY_LIMIT_CONTROL", False),
    ("isv.AMOUNT_NOT_ENOUGH", False),
    ("isv.MOBILE_NUMBER_ILLEGAL", True),
    ("isv.SMS_TEMPLATE_ILLEGAL", True),
    ("isv.SOMETHING_NEW", False),  # an unknown code is retried
])
def test_aliyun_codes_map_to_retry_or_permanent_failure(app, aliyun, code, permanent):
    from portal.integrations.sms.aliyun import AliyunGateway

    aliyun.answer = lambda _message: code
    with app.app_context(), pytest.raises(SmsError) as caught:
        AliyunGateway(_settings("aliyun", aliyun.url)).send("13800001111", "accepted", {"item": "x"},
                                                            business_id="delivery-1")
    assert caught.value.provider_code == code and caught.value.permanent is permanent
    assert not caught.value.uncertain and code in caught.value.reason


def test_aliyun_unreachable_is_temporary_and_certainly_unsent(app):
    from portal.integrations.sms.aliyun import AliyunGateway

    with LocalAliyun() as server:
        url = server.url
    with app.app_context(), pytest.raises(SmsError) as caught:
        AliyunGateway(_settings("aliyun", url)).send("13800001111", "accepted", {}, business_id="delivery-1")
    assert caught.value.provider_code == "unreachable" and not caught.value.permanent
    assert not caught.value.uncertain  # no connection: the provider never saw it
    assert "13800001111" not in str(caught.value) and caught.value.__cause__ is None


def test_aliyun_no_answer_in_time_is_uncertain(app, aliyun):
    from portal.integrations.sms.aliyun import AliyunGateway

    aliyun.block_at = 1
    with app.app_context(), pytest.raises(SmsError) as caught:
        AliyunGateway(_settings("aliyun", aliyun.url, timeout=1.0)).send("13800001111", "accepted", {},
                                                                         business_id="delivery-9")
    assert caught.value.uncertain and not caught.value.permanent  # the provider did take it
    assert [m["business_id"] for m in aliyun.accepted] == ["delivery-9"]


def test_aliyun_confirms_by_our_outid_through_querysenddetails(app, aliyun):
    from portal.integrations.sms.aliyun import AliyunGateway

    gateway = AliyunGateway(_settings("aliyun", aliyun.url))
    since = datetime.now(UTC)
    with app.app_context():
        gateway.send("13800001111", "accepted", {"item": "x"}, business_id="delivery-41")
        assert gateway.confirm("13800001111", "delivery-41", since=since).found is Found.SENT
        assert gateway.confirm("13800001111", "delivery-42", since=since).found is Found.NOT_SENT
        assert gateway.confirm("13900002222", "delivery-41", since=since).found is Found.NOT_SENT
    query = next(r for r in aliyun.requests if r["action"] == "QuerySendDetails")["params"]
    assert query["PhoneNumber"] == "13800001111" and len(query["SendDate"]) == 8 and query["PageSize"] == "50"


def test_aliyun_template_missing_from_the_configuration_is_permanent(app, aliyun):
    from portal.integrations.sms.aliyun import AliyunGateway

    with app.app_context(), pytest.raises(SmsError) as caught:
        AliyunGateway(_settings("aliyun", aliyun.url)).send("13800001111", "refused", {}, business_id="d")
    assert caught.value.permanent and "refused" in caught.value.reason and aliyun.requests == []


def test_tencent_sends_a_signed_sendsms_with_e164_number_param_list_and_session_context(app, tencent):
    from portal.integrations.sms.tencent import TencentGateway

    with app.app_context():
        receipt = TencentGateway(_settings("tencent", tencent.url, region="ap-beijing")).send(
            "13800001111", "accepted", {"item": "门诊慢特病", "number": "JL-1"}, business_id="delivery-5")
    assert receipt.provider == "tencent" and receipt.provider_id == "2433:1" and receipt.provider_code == "Ok"
    [request] = tencent.requests
    assert request["action"] == "SendSms" and request["region"] == "ap-beijing"
    assert request["params"] == {"PhoneNumberSet": ["+8613800001111"], "SmsSdkAppId": "1400123456",
                                 "TemplateId": "SMS_900", "SignName": "吉林医保",
                                 "TemplateParamSet": ["门诊慢特病", "JL-1"], "SessionContext": "delivery-5"}


def test_tencent_requests_signed_with_a_wrong_secret_are_refused(app, tencent):
    from portal.integrations.sms.tencent import TencentGateway

    with app.app_context(), pytest.raises(SmsError) as caught:
        TencentGateway(_settings("tencent", tencent.url, key_secret="wrong")).send(
            "13800001111", "accepted", {}, business_id="delivery-5")
    assert caught.value.provider_code == "AuthFailure.SignatureFailure" and tencent.accepted == []


@pytest.mark.parametrize(("code", "permanent"), [
    ("LimitExceeded.PhoneNumberThirtySecondLimit", False),
    ("LimitExceeded.PhoneNumberDailyLimit", False),
    ("FailedOperation.InsufficientBalanceInSmsPackage", False),
    ("InvalidParameterValue.IncorrectPhoneNumber", True),
    ("FailedOperation.PhoneNumberInBlacklist", True),
    ("FailedOperation.TemplateIncorrectOrUnapproved", True),
])
def test_tencent_send_status_codes_map_to_retry_or_permanent_failure(app, tencent, code, permanent):
    from portal.integrations.sms.tencent import TencentGateway

    tencent.answer = lambda _message: code
    with app.app_context(), pytest.raises(SmsError) as caught:
        TencentGateway(_settings("tencent", tencent.url)).send("13800001111", "accepted", {}, business_id="d-1")
    assert caught.value.provider_code == code and caught.value.permanent is permanent and not caught.value.uncertain


def test_tencent_cannot_confirm_a_lost_send(app, tencent):
    from portal.integrations.sms.tencent import TencentGateway

    with app.app_context():
        found = TencentGateway(_settings("tencent", tencent.url)).confirm("13800001111", "d-1",
                                                                          since=datetime.now(UTC))
    assert found.found is Found.UNKNOWN and tencent.requests == []


def test_the_factory_builds_the_configured_gateway_once(app, aliyun, monkeypatch):
    for name, value in {"PORTAL_SMS_BACKEND": "aliyun", "PORTAL_SMS_KEY_ID": KEY_ID,
                        "PORTAL_SMS_KEY_SECRET": KEY_SECRET, "PORTAL_SMS_SIGN_NAME": "吉林医保",
                        "PORTAL_SMS_ENDPOINT": aliyun.url,
                        "PORTAL_SMS_TEMPLATES": '{"otp_login": "SMS_100"}'}.items():
        monkeypatch.setitem(app.config, name, value)
    gateway = sms.get_gateway(app)
    assert gateway.name == "aliyun" and sms.get_gateway(app) is gateway
    assert gateway.health().ok and KEY_SECRET not in repr(gateway)
    monkeypatch.setitem(app.config, "PORTAL_SMS_BACKEND", "outbox")
    assert sms.get_gateway(app).name == "outbox" and sms.get_gateway(app).transactional
    monkeypatch.setitem(app.config, "PORTAL_SMS_BACKEND", "nonesuch")
    with pytest.raises(RuntimeError, match="nonesuch"):
        sms.get_gateway(app)
