"""The WeChat port's login (code2session): the HTTP adapter against a real HTTP server on 127.0.0.1 that plays
WeChat, the local (fake) adapter, and the choice between them."""

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask_babel import force_locale

from portal.config import ConfigError
from portal.integrations.wechat import ERRCODE_UNREACHABLE, WeChatError, WeChatSession, get_wechat
from portal.integrations.wechat.fake import FakeWeChat
from portal.integrations.wechat.http import HttpWeChat

APPID = "wx0123456789abcdef"
SECRET = "TOPSECRET-app-secret-0042"
SESSION_KEY = "SESSIONKEY-tiWX+0w=="
SLOW_SECONDS = 1.0


class FakeWeChatServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self):
        super().__init__(("127.0.0.1", 0), WeChatHandler)
        self.seen: list[tuple[str, dict[str, str]]] = []

    def handle_error(self, request, client_address):
        pass  # the slow answer finds its client gone; that is the point of it

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class WeChatHandler(BaseHTTPRequestHandler):
    """js_code decides the answer: ok-<openid>, err<errcode>, slow, garbage, http502, list, nokey."""

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.seen.append((url.path, query))
        code = query.get("js_code", "")
        if code.startswith("ok-"):
            body = {"openid": code[3:], "session_key": SESSION_KEY}
            if code.endswith("-u"):
                body["unionid"] = "union-1"
            self.answer(200, json.dumps(body))
        elif code.startswith("err"):
            self.answer(200, json.dumps({"errcode": int(code[3:]), "errmsg": "some error, rid: 65f0"}))
        elif code == "slow":
            time.sleep(SLOW_SECONDS)
            self.answer(200, json.dumps({"openid": "late", "session_key": SESSION_KEY}))
        elif code == "garbage":
            self.answer(200, "<html>upstream proxy error</html>", "text/html")
        elif code == "http502":
            self.answer(502, "bad gateway", "text/plain")
        elif code == "list":
            self.answer(200, "[1, 2]")
        else:  # nokey
            self.answer(200, json.dumps({"openid": "o1"}))

    def answer(self, status: int, body: str, content_type: str = "application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def wechat_server():
    server = FakeWeChatServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


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
