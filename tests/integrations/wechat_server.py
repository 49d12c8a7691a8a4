"""A local server on 127.0.0.1 speaking WeChat's mini-program API, for the HTTP adapter and ``portal doctor``:

- ``GET /sns/jscode2session``: ``js_code`` decides: ok-<openid> (…-u adds a unionid), err<errcode>, slow (answers
  after ``SLOW_SECONDS``), garbage (HTML), http502, list (a JSON array), anything else a session without its key;
- ``GET /cgi-bin/token``: TOKEN<n>, counted in ``tokens_issued``; a wrong AppID or secret gets WeChat's errcode;
- ``POST /wxa/business/getuserphonenumber``: ``code`` decides: ok-<number>, otherapp-<number> (watermark of another
  AppID), err<errcode>; a code works once, and only the newest token is accepted;
- ``POST /cgi-bin/message/subscribe/send``: answers from ``answers`` in turn, then ok.

``seen`` records (path, query) of every GET, ``seen_tokens`` the token of every phone request, ``received`` (token,
body) of every subscribe message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.servers import in_thread

APPID = "wx0123456789abcdef"
SECRET = "TOPSECRET-app-secret-0042"
SESSION_KEY = "SESSIONKEY-tiWX+0w=="
SLOW_SECONDS = 1.0
OTHER_APPID = "wxSOMEONEELSE0000"


class WeChatServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, appid: str = APPID, secret: str = SECRET):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.appid = appid
        self.secret = secret
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.tokens_issued = 0
        self.used_codes: set[str] = set()
        self.seen_tokens: list[str] = []
        self.answers: list[dict] = []
        self.received: list[tuple[str, dict]] = []

    def handle_error(self, request, client_address):
        pass  # the slow answer finds its client gone; that is the point of it

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: WeChatServer

    def log_message(self, *_args):
        pass

    def answer(self, status: int, body: str, content_type: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def reply(self, body: dict) -> None:
        self.answer(200, json.dumps(body))

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.seen.append((url.path, query))
        if url.path == "/cgi-bin/token":
            return self._token(query)
        code = query.get("js_code", "")
        if code.startswith("ok-"):
            body = {"openid": code[3:], "session_key": SESSION_KEY}
            if code.endswith("-u"):
                body["unionid"] = "union-1"
            self.reply(body)
        elif code.startswith("err"):
            self.reply({"errcode": int(code[3:]), "errmsg": "some error, rid: 65f0"})
        elif code == "slow":
            time.sleep(SLOW_SECONDS)
            self.reply({"openid": "late", "session_key": SESSION_KEY})
        elif code == "garbage":
            self.answer(200, "<html>upstream proxy error</html>", "text/html")
        elif code == "http502":
            self.answer(502, "bad gateway", "text/plain")
        elif code == "list":
            self.answer(200, "[1, 2]")
        else:  # nokey
            self.reply({"openid": "o1"})

    def _token(self, query: dict[str, str]) -> None:
        if query.get("grant_type") != "client_credential" or query.get("appid") != self.server.appid:
            return self.reply({"errcode": 40013, "errmsg": "invalid appid"})
        if query.get("secret") != self.server.secret:
            return self.reply({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.server.tokens_issued += 1
        self.reply({"access_token": f"TOKEN{self.server.tokens_issued}", "expires_in": 7200})

    def do_POST(self):
        url = urlsplit(self.path)
        token = parse_qs(url.query)["access_token"][0]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if url.path == "/cgi-bin/message/subscribe/send":
            self.server.received.append((token, body))
            return self.reply(self.server.answers.pop(0) if self.server.answers else {"errcode": 0, "errmsg": "ok"})
        assert url.path == "/wxa/business/getuserphonenumber"
        self.server.seen_tokens.append(token)
        code = body["code"]
        if token != f"TOKEN{self.server.tokens_issued}":
            return self.reply({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        if code.startswith("err"):
            return self.reply({"errcode": int(code[3:]), "errmsg": "refused"})
        if code in self.server.used_codes:
            return self.reply({"errcode": 40029, "errmsg": "invalid code"})
        self.server.used_codes.add(code)
        kind, _dash, number = code.partition("-")
        appid = self.server.appid if kind == "ok" else OTHER_APPID
        self.reply({"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": number, "purePhoneNumber": number, "countryCode": "86",
            "watermark": {"timestamp": 1765000000, "appid": appid}}})


def running_wechat(appid: str = APPID, secret: str = SECRET) -> Iterator[WeChatServer]:
    """A started server, stopped when the generator is closed (use as a fixture body)."""
    yield from in_thread(WeChatServer(appid, secret))
