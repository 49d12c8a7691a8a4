"""The WeChat port's login (code2session): the HTTP adapter against a real HTTP server on 127.0.0.1 that plays
WeChat, the local (fake) adapter, and the choice between them."""

import logging
import socket
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_babel import force_locale

from portal.config import ConfigError
from portal.integrations.wechat import ERRCODE_UNREACHABLE, WeChatError, WeChatSession, get_wechat
from portal.integrations.wechat.fake import FakeWeChat
from portal.integrations.wechat.http import HttpWeChat
from tests.integrations.wechat_server import APPID, SECRET, SESSION_KEY, SLOW_SECONDS, WeChatServer, running_wechat


@pytest.fixture(scope="module")
def wechat_server() -> Iterator[WeChatServer]:
    yield from running_wechat()


@pytest.fixture
def client(wechat_server):
    return HttpWeChat(APPID, SECRET, wechat_server.base_url + "/", timeout=(1, SLOW_SECONDS / 4))


@pytest.fixture(autouse=True)
def _english(app):
    with app.test_request_context("/"), force_locale("en"):
        yield


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the HTTP client ---


def test_success_returns_the_session_and_sends_the_documented_query(client, wechat_server):
    session = client.code2session("ok-oABC")
    assert session == WeChatSession("oABC", SESSION_KEY, None)
    path, query = wechat_server.seen[-1]
    assert path == "/sns/jscode2session"
    assert query == {"appid": APPID, "secret": SECRET, "js_code": "ok-oABC", "grant_type": "authorization_code"}


def test_unionid_is_passed_on_when_wechat_gives_one(client):
    assert client.code2session("ok-oABC-u").unionid == "union-1"


@pytest.mark.parametrize(("errcode", "code", "status", "words"), [
    (40029, "wechat_code_invalid", 401, "reopen the mini-program"),
    (40163, "wechat_code_invalid", 401, "reopen the mini-program"),
    (45011, "wechat_rate_limited", 429, "wait a minute"),
    (40226, "wechat_user_blocked", 403, "SMS code instead"),
    (-1, "wechat_busy", 503, "busy"),
    (40125, "wechat_failed", 502, "try again later"),
    (61234, "wechat_failed", 502, "try again later"),
])
def test_errcodes_become_errors_the_user_can_act_on(client, errcode, code, status, words):
    with pytest.raises(WeChatError) as excinfo:
        client.code2session(f"err{errcode}")
    error = excinfo.value
    assert (error.errcode, error.code, error.status) == (errcode, code, status)
    assert words in error.message


@pytest.mark.parametrize(("js_code", "detail"), [
    ("slow", "timeout"),
    ("garbage", "answer is not a JSON object"),
    ("list", "answer is not a JSON object"),
    ("http502", "HTTP 502"),
    ("nokey", "answer lacks openid or session_key"),
])
def test_unusable_answers_mean_wechat_is_unreachable(client, js_code, detail):
    started = time.monotonic()
    with pytest.raises(WeChatError) as excinfo:
        client.code2session(js_code)
    assert time.monotonic() - started < SLOW_SECONDS
    assert excinfo.value.errcode == ERRCODE_UNREACHABLE
    assert excinfo.value.status == 503
    assert excinfo.value.detail == detail
    assert "could not be reached" in excinfo.value.message


def test_closed_port_is_unreachable_and_does_not_carry_the_url():
    client = HttpWeChat(APPID, SECRET, f"http://127.0.0.1:{closed_port()}", timeout=(1, 1))
    with pytest.raises(WeChatError) as excinfo:
        client.code2session("ok-oABC")
    assert excinfo.value.errcode == ERRCODE_UNREACHABLE
    # the requests exception names the URL, secret included: it must not travel with our error
    assert excinfo.value.__cause__ is None and excinfo.value.__context__ is None


@pytest.mark.parametrize("code", ["", "   ", "x" * 500, "ok-\n"])
def test_malformed_codes_are_refused_without_asking_wechat(client, wechat_server, code):
    before = len(wechat_server.seen)
    with pytest.raises(WeChatError) as excinfo:
        client.code2session(code)
    assert excinfo.value.errcode == 40029
    assert len(wechat_server.seen) == before


def test_secret_code_and_session_key_never_reach_logs_or_reprs(client, caplog):
    caplog.set_level(logging.DEBUG)
    session = client.code2session("ok-oSECRETCODE")
    errors = []
    for code in ("err40029", "err40125", "slow", "garbage"):
        with pytest.raises(WeChatError) as excinfo:
            client.code2session(code)
        errors.append(excinfo.value)
    assert "jscode2session" in caplog.text  # urllib3 did log the requests...
    texts = [caplog.text, repr(session), repr(client), *(f"{e!r} {e} {e.detail}" for e in errors)]
    for text in texts:
        for secret in (SECRET, "ok-oSECRETCODE", "err40029", SESSION_KEY):
            assert secret not in text  # ...with the secret and the code blanked


# --- the fake client and the choice between them ---


def test_fake_client_logs_demo_codes_in_and_plays_errors():
    fake = FakeWeChat()
    first, again = fake.code2session("demo-o123"), fake.code2session("demo-o123")
    assert first.openid == "o123" and first == again
    for code, errcode in [("bad", 40029), ("limited", 45011), ("risky", 40226), ("busy", -1),
                          ("down", ERRCODE_UNREACHABLE), ("demo-", 40029), ("something", 40029)]:
        with pytest.raises(WeChatError) as excinfo:
            fake.code2session(code)
        assert excinfo.value.errcode == errcode


def make_app(**config) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    return app


def test_backend_is_chosen_by_configuration_and_built_once():
    fake_app = make_app(PORTAL_WECHAT_BACKEND="fake")
    assert isinstance(get_wechat(fake_app), FakeWeChat)
    assert get_wechat(fake_app) is get_wechat(fake_app)
    http_app = make_app(PORTAL_WECHAT_BACKEND="http", PORTAL_WECHAT_APPID=APPID, PORTAL_WECHAT_SECRET=SECRET,
                        PORTAL_WECHAT_API_BASE="http://127.0.0.1:9")
    client = get_wechat(http_app)
    assert isinstance(client, HttpWeChat)
    assert client.base == "http://127.0.0.1:9"


@pytest.mark.parametrize(("config", "words"), [
    ({"PORTAL_WECHAT_BACKEND": "http", "PORTAL_WECHAT_APPID": APPID, "PORTAL_WECHAT_SECRET": ""}, "SECRET must"),
    ({"PORTAL_WECHAT_BACKEND": "carrier-pigeon"}, "fake or http"),
])
def test_unusable_configuration_is_refused(config, words):
    with pytest.raises(ConfigError, match=words):
        get_wechat(make_app(**config))
