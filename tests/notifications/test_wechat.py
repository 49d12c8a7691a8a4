"""WeChat subscribe messages: consent recorded through the API (the openid proven by a fresh wx.login code), one
message per consent, and the real HTTP client against a local server speaking WeChat's protocol."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

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


class WeChatApi(ThreadingHTTPServer):
    """Speaks /cgi-bin/token and /cgi-bin/message/subscribe/send; ``answers`` scripts the send replies."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tokens_issued = 0
        self.answers: list[dict] = []
        self.received: list[tuple[str, dict]] = []


class _Handler(BaseHTTPRequestHandler):
    server: WeChatApi

    def log_message(self, *_args):
        pass

    def _reply(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        query = parse_qs(urlparse(self.path).query)
        assert query["secret"] == ["s3cret"] and query["grant_type"] == ["client_credential"]
        self.server.tokens_issued += 1
        self._reply({"access_token": f"TOKEN{self.server.tokens_issued}", "expires_in": 7200})

    def do_POST(self):
        token = parse_qs(urlparse(self.path).query)["access_token"][0]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((token, body))
        self._reply(self.server.answers.pop(0) if self.server.answers else {"errcode": 0, "errmsg": "ok"})


@pytest.fixture
def wechat_api():
    server = WeChatApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _client(server) -> HttpWeChat:
    return HttpWeChat("wxappid", "s3cret", f"http://127.0.0.1:{server.server_address[1]}")


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
