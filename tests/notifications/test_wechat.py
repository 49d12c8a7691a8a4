"""WeChat subscribe messages: consent recorded through the API (the openid proven by a fresh wx.login code), one
message per consent, and the real HTTP client against a local server speaking WeChat's protocol."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import current_app
from sqlalchemy import select

from portal.accounts.models import WeChatIdentity
from portal.core.crypto import blind_index
from portal.integrations.wechat import WeChatError, get_wechat
from portal.integrations.wechat.http import HttpWeChat
from portal.notifications.constants import Channel, Status
from portal.notifications.models import Notification, WeChatSubscription
from portal.notifications.worker import deliver_due
from tests.integrations.wechat_server import WeChatServer, running_wechat


def _bind_openid(db_session, account, openid: str) -> None:
    db_session.add(WeChatIdentity(openid_index=blind_index(openid, "wechat_openid"), account_id=account.id))
    db_session.flush()


def test_a_consent_allows_one_subscribe_message(app, case_in, citizen, db_session, bearer, client):
    _bind_openid(db_session, citizen, "oWx-citizen-1")
    headers = bearer(citizen)
    answer = client.post("/api/v1/notifications/wechat-subscriptions", headers=headers,
                         json={"code": "demo-oWx-citizen-1", "accepted": ["accepted", "completed"]})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"grants": {"accepted": 1, "completed": 1}}

    case = case_in("accepted")
    deliver_due()
    sent = get_wechat(current_app).sent
    assert sent[-1]["openid"] == "oWx-citizen-1" and sent[-1]["template_id"] == "fake-accepted"
    assert sent[-1]["page"] == f"pages/applications/detail?id={case.id}"
    assert all(len(v["value"]) <= 20 for k, v in sent[-1]["data"].items() if k.startswith("thing"))
    grants = db_session.execute(select(WeChatSubscription.event, WeChatSubscription.grants)).all()
    assert dict(grants) == {"accepted": 0, "completed": 1}
    second = case_in("accepted")  # the consent is used up: no WeChat delivery for the next message
    [message] = db_session.execute(select(Notification).where(Notification.application_id == second.id)).scalars()
    assert Channel.WECHAT not in {d.channel for d in message.deliveries}


def test_a_consent_for_an_openid_bound_to_someone_else_is_refused(citizen, make_citizen, db_session, bearer, client):
    _bind_openid(db_session, make_citizen("孙七"), "oWx-other")
    answer = client.post("/api/v1/notifications/wechat-subscriptions", headers=bearer(citizen),
                         json={"code": "demo-oWx-other", "accepted": ["accepted"]})
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "forbidden"


def test_unknown_events_are_refused_with_the_list(citizen, db_session, bearer, client):
    _bind_openid(db_session, citizen, "oWx-citizen-2")
    answer = client.post("/api/v1/notifications/wechat-subscriptions", headers=bearer(citizen),
                         json={"code": "demo-oWx-citizen-2", "accepted": ["lottery"]})
    assert answer.status_code == 422
    assert "accepted" in answer.get_json()["error"]["fields"]


@pytest.fixture
def wechat_api() -> Iterator[WeChatServer]:
    yield from running_wechat()


def _client(server: WeChatServer) -> HttpWeChat:
    return HttpWeChat(server.appid, server.secret, server.base_url)


def test_the_http_client_sends_with_a_cached_token(wechat_api):
    client = _client(wechat_api)
    client.send_subscribe("oWx1", "TMPL", "pages/inbox/index", {"thing1": {"value": "受理"}})
    client.send_subscribe("oWx2", "TMPL", "pages/inbox/index", {"thing1": {"value": "办结"}})
    assert wechat_api.tokens_issued == 1
    assert [t for t, _b in wechat_api.received] == ["TOKEN1", "TOKEN1"]
    assert wechat_api.received[0][1]["touser"] == "oWx1" and wechat_api.received[0][1]["template_id"] == "TMPL"


def test_an_expired_token_is_renewed_at_once(wechat_api):
    client = _client(wechat_api)
    wechat_api.answers = [{"errcode": 42001, "errmsg": "access_token expired"}]
    client.send_subscribe("oWx1", "TMPL", "p", {})
    assert wechat_api.tokens_issued == 2 and [t for t, _b in wechat_api.received] == ["TOKEN1", "TOKEN2"]


@pytest.mark.parametrize(("errcode", "permanent"), [(43101, True), (40003, True), (47003, True), (-1, False),
                                                    (45009, False), (99999, False)])
def test_errcodes_map_to_permanent_or_temporary_failures(wechat_api, errcode, permanent):
    wechat_api.answers = [{"errcode": errcode, "errmsg": "x"}]
    with pytest.raises(WeChatError) as caught:
        _client(wechat_api).send_subscribe("oWx1", "TMPL", "p", {})
    assert caught.value.permanent is permanent and caught.value.errcode == errcode


def test_an_unreachable_api_is_a_temporary_failure_without_the_secret():
    client = HttpWeChat("wxappid", "s3cret", "http://127.0.0.1:9")
    with pytest.raises(WeChatError) as caught:
        client.send_subscribe("oWx1", "TMPL", "p", {})
    assert not caught.value.permanent and "s3cret" not in f"{caught.value} {caught.value.detail}"
    assert caught.value.__cause__ is None and caught.value.__context__ is None and "s3cret" not in repr(client)


def test_the_worker_records_a_temporary_wechat_failure_for_a_retry(case_in, citizen, db_session):
    db_session.add(WeChatSubscription(account_id=citizen.id, openid="fail--1-busy",
                                      openid_index=blind_index("fail--1-busy", "wechat_openid"), event="accepted",
                                      grants=1))
    case = case_in("accepted")
    deliver_due()
    [message] = db_session.execute(select(Notification).where(Notification.application_id == case.id)).scalars()
    delivery = next(d for d in message.deliveries if d.channel == Channel.WECHAT)
    assert delivery.status == Status.PENDING and delivery.attempts == 1 and "errcode -1" in delivery.last_error
