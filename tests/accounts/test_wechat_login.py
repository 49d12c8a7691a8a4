"""The mini-program's WeChat login through the API, on the local WeChat adapter: the getPhoneNumber exchange
instead of an SMS code, one identity per unionid, and unit agents (issue 25, point 1)."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import Account, WeChatIdentity
from portal.core.crypto import blind_index
from tests.factories import mobile, valid_id_number

PHONE_LOGIN = "/api/v1/auth/wechat/phone"


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_the_number_wechat_verified_logs_a_citizen_in_without_an_sms_code(client, db_session):
    phone = mobile()
    answer = client.post(PHONE_LOGIN, json={"login_code": "demo-oPhone1", "phone_code": f"phone-{phone}"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["needs_binding"] is True and body["account"]["phone_masked"] == phone[:3] + "****" + phone[-4:]
    account = db_session.execute(select(Account).where(Account.kind == "citizen")).scalar_one()
    assert account.phone == phone
    identity = db_session.execute(select(WeChatIdentity)).scalar_one()
    assert identity.account_id == account.id
    # the openid now logs straight in with wx.login alone
    again = client.post("/api/v1/auth/wechat", json={"code": "demo-oPhone1"}).get_json()
    assert again["status"] == "ok"


def test_the_verified_number_binds_at_once_when_it_is_the_phone_on_record(client, make_person):
    phone, number = mobile(), valid_id_number()
    make_person("冯桂兰", number, phone=phone)
    token = client.post(PHONE_LOGIN, json={"login_code": "demo-oPhone2", "phone_code": f"phone-{phone}"}
                        ).get_json()["token"]
    bound = client.post("/api/v1/me/binding", json={"name": "冯桂兰", "id_number": number}, headers=_bearer(token))
    assert bound.get_json()["binding"] == "active"


def test_wechat_refusals_of_the_phone_code_are_clear(client, db_session):
    for phone_code, status, code in [("bad", 401, "wechat_code_invalid"), ("limited", 429, "wechat_rate_limited"),
                                     ("busy", 503, "wechat_busy"), ("otherapp", 502, "wechat_failed")]:
        answer = client.post(PHONE_LOGIN, json={"login_code": "demo-oPhone3", "phone_code": phone_code})
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (status, code)
    assert db_session.scalar(select(func.count()).select_from(Account)) == 0


def test_one_unionid_is_one_identity_across_the_agencys_apps(client, db_session):
    phone = mobile()
    client.post(PHONE_LOGIN, json={"login_code": "demo-oMini~uPerson1", "phone_code": f"phone-{phone}"})
    # the same person arrives with the openid of the agency's other app: the unionid links them
    other_app = client.post("/api/v1/auth/wechat", json={"code": "demo-oOfficial~uPerson1"}).get_json()
    assert other_app["status"] == "ok" and other_app["session"]["account"]["phone_masked"].endswith(phone[-4:])
    identity = db_session.execute(select(WeChatIdentity)).scalar_one()
    assert identity.unionid_index == blind_index("uPerson1", "wechat_unionid")
    assert "uPerson1" not in str(identity.unionid_index)


def test_unit_agents_log_in_through_wechat(client, make_unit, make_first_agent):
    unit = make_unit()
    phone = mobile()
    make_first_agent(unit, phone)
    answer = client.post(PHONE_LOGIN, json={"login_code": "demo-oAgent1", "phone_code": f"phone-{phone}",
                                            "kind": "agent", "credit_code": unit.credit_code})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["account"]["kind"] == "agent"
    assert answer.get_json()["account"]["unit"]["credit_code"] == unit.credit_code
    stranger = client.post(PHONE_LOGIN, json={"login_code": "demo-oAgent2", "phone_code": f"phone-{mobile()}",
                                              "kind": "agent", "credit_code": unit.credit_code})
    assert stranger.status_code == 401 and stranger.get_json()["error"]["code"] == "not_an_agent"


def test_an_institutions_agents_log_in_through_wechat(client, make_institution, make_institution_agent, make_unit):
    """A 定点医药机构's agent names the institution (its credit code or its national code), as at the SMS login; the
    same number is no agent of a unit, nor of the institution when the kind is left as a unit."""
    clinic = make_institution("长春微信诊所")
    phone = mobile()
    make_institution_agent(clinic, phone)
    for named in (clinic.credit_code, clinic.code):
        answer = client.post(PHONE_LOGIN, json={"login_code": "demo-oClinic1", "phone_code": f"phone-{phone}",
                                                "kind": "agent", "org_kind": "institution", "credit_code": named})
        assert answer.status_code == 200, answer.get_json()
        account = answer.get_json()["account"]
        assert account["kind"] == "agent" and account["institution"]["credit_code"] == clinic.credit_code
        assert account["unit"] is None
    as_unit = client.post(PHONE_LOGIN, json={"login_code": "demo-oClinic2", "phone_code": f"phone-{phone}",
                                             "kind": "agent", "credit_code": clinic.credit_code})
    assert as_unit.status_code == 401 and as_unit.get_json()["error"]["code"] == "not_an_agent"
    client.set_cookie("lang", "zh_Hans_CN")  # (the tests' browsers read English unless told)
    stranger = client.post(PHONE_LOGIN, json={"login_code": "demo-oClinic3", "phone_code": f"phone-{mobile()}",
                                              "kind": "agent", "org_kind": "institution",
                                              "credit_code": clinic.credit_code})
    assert stranger.status_code == 401
    message = stranger.get_json()["error"]["message"]
    assert message == "该微信手机号不是这家定点医药机构的经办人。请联系机构的首位经办人添加您。"
