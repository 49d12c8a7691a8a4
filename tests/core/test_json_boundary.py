"""The JSON boundary and the logs (issue 25, point 3): bodies the portal cannot hold are refused with a 400 in
the user's language, and a failing statement never shows its parameters. The suite-wide sweep of every log
record for the demo people's numbers is ``tests/log_sweep.py``."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.accounts import tokens
from portal.core import jsonbody
from portal.core.audit import Actor
from portal.core.db import db
from portal.insurance.demo import DEMO_CITIZENS

EMPLOYEE = DEMO_CITIZENS[0]  # 张伟明, the README's demo login
SURROGATE = '{"form": {"name": "\\ud800"}, "materials": {}}'
DEEP = "[" * 3000 + "]" * 3000


def post(client, url: str, body: str, lang: str = "zh", token: str | None = None, method: str = "POST"):
    headers = {"Content-Type": "application/json", "Accept-Language": lang}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.open(url, method=method, data=body.encode(), headers=headers)


@pytest.mark.parametrize("body", [DEEP, '{"a":' * 40 + "1" + "}" * 40, '{"phone": "\\udfff"}', '{"\\ud800": 1}',
                                  '"\\ud83d"', b"\xff\xfe{}".decode("latin-1")])
def test_bodies_the_portal_cannot_hold_are_a_400_before_login(client, body):
    response = post(client, "/api/v1/auth/sms/request", body, lang="en")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_json"


def test_the_refusal_speaks_the_users_language(app, make_client):
    # Chinese first: within one test the locale of the first request is remembered (flask-babel caches it on g)
    for raw, message in ((DEEP, "请求内容的嵌套层级过深。"), (SURROGATE, "请求中含有无效字符。")):
        with app.test_request_context("/", headers={"Cookie": "lang=zh_Hans_CN"}), \
                pytest.raises(jsonbody.BadJson) as refused:
            jsonbody.parse(raw)
        assert refused.value.message == message
    en = post(make_client(), "/api/v1/auth/sms/request", DEEP, lang="en").get_json()["error"]["message"]
    assert en == "The request body is nested too deeply."


def test_a_valid_pair_of_surrogates_is_ordinary_text(client):
    response = post(client, "/api/v1/auth/sms/request", '{"phone": "\\ud83d\\ude00"}', lang="en")
    assert response.status_code == 422  # an emoji is text; it is just not a phone number


def test_a_lone_surrogate_in_a_draft_is_refused_and_logs_nothing_personal(app, client, make_person, db_session,
                                                                        caplog):
    person = make_person(name=EMPLOYEE.name, id_number=EMPLOYEE.id_number, phone=EMPLOYEE.phone)
    with app.test_request_context("/"):
        code = account_ops.request_login_code(account_ops.CodeRequest(EMPLOYEE.phone), actor=Actor.system(),
                                              client_ip="127.0.0.5")
        account = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle),
                                              actor=Actor.system(), client_ip="127.0.0.5")
        binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number),
                                   actor=Actor.system())
    token = tokens.issue_token(account, label="test")[0]
    db_session.commit()
    case = post(client, "/api/v1/applications", '{"item_code": "G002036005000_01_001"}', token=token).get_json()
    with caplog.at_level(logging.DEBUG):
        response = post(client, f"/api/v1/applications/{case['id']}", SURROGATE, token=token, method="PUT")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_json"
    logged = "\n".join(f"{r.getMessage()} {r.exc_info}" for r in caplog.records)
    assert EMPLOYEE.id_number not in logged and EMPLOYEE.phone not in logged


def test_a_failing_statement_does_not_show_its_parameters(db_session):
    with pytest.raises(DBAPIError) as failure, db.session.begin_nested():
        db.session.execute(text("INSERT INTO no_such_table (id_number, phone) VALUES (:id_number, :phone)"),
                           {"id_number": EMPLOYEE.id_number, "phone": EMPLOYEE.phone})
    assert EMPLOYEE.id_number not in str(failure.value) and EMPLOYEE.phone not in str(failure.value)
    assert "hidden due to hide_parameters" in str(failure.value)
