"""Local HTTP servers that speak the SMS providers' wire protocols, for the adapters and the worker to talk to.

Each checks what a provider checks — the API action and version, the request signature computed with the
configured secret (ACS3-HMAC-SHA256 for Alibaba Cloud, TC3-HMAC-SHA256 for Tencent Cloud), the required
parameters — and keeps a log of every message it accepted, with the business id it came with. ``answer`` picks
the code for a message (success by default); ``block_at = N`` accepts the N-th message and then holds its answer
until ``release`` is set, which lets a test kill the caller between the provider's acceptance and the caller's
commit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

KEY_ID, KEY_SECRET = "LTAI5tLocalTestKey", "local-test-secret"


class _Handler(BaseHTTPRequestHandler):
    server: LocalProvider

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, answer = self.server.handle(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                            body)
        data = json.dumps(answer, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", self.server.CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the caller was killed (or gave up) while we held it
            self.close_connection = True

    do_GET = do_POST

    def log_message(self, *args: Any) -> None:
        """Quiet: the test reads ``requests`` and ``accepted`` instead."""


class LocalProvider(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []  # every request: action and parameters
        self.accepted: list[dict[str, Any]] = []  # every message taken for sending: phone, business id, template …
        self.answer: Callable[[dict[str, Any]], str] = lambda _message: self.OK
        self.block_at: int | None = None
        self.blocked = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    OK = "OK"
    CONTENT_TYPE = "application/json;charset=utf-8"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> LocalProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()

    def take(self, message: dict[str, Any]) -> str:
        """Decide on one message: its code; accepted ones are logged (and the N-th held if asked)."""
        with self.lock:
            code = self.answer(message)
            if code != self.OK:
                return code
            self.accepted.append(message)
            hold = self.block_at is not None and len(self.accepted) == self.block_at
        if hold:
            self.blocked.set()
            self.release.wait(timeout=120)
        return code

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class LocalAliyun(LocalProvider):
    """Alibaba Cloud's RPC API (version 2017-05-25): ``SendSms`` and ``QuerySendDetails``."""

    OK = "OK"

    def _signature_ok(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        auth = headers.get("authorization", "")
        if not auth.startswith(f"ACS3-HMAC-SHA256 Credential={KEY_ID},"):
            return False
        fields = dict(part.split("=", 1) for part in auth.split(" ", 1)[1].split(","))
        signed = fields["SignedHeaders"].split(";")
        url = urlsplit(path)
        query = sorted(parse_qsl(url.query, keep_blank_values=True))
        canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)
        canonical = "\n".join([method, url.path or "/", canonical_query,
                               "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed),
                               ";".join(signed), headers.get("x-acs-content-sha256", _sha256(body))])
        expected = hmac.new(KEY_SECRET.encode(), f"ACS3-HMAC-SHA256\n{_sha256(canonical.encode())}".encode(),
                            hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, fields["Signature"])

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        action = headers.get("x-acs-action")
        params = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
        params.update(dict(parse_qsl(body.decode(), keep_blank_values=True)))
        with self.lock:
            self.requests.append({"action": action, "params": params})
        if headers.get("x-acs-version") != "2017-05-25":
            return 400, {"Code": "InvalidVersion", "Message": "version", "RequestId": "req-v"}
        if not self._signature_ok(method, path, headers, body):
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "signature", "RequestId": "req-s"}
        if action == "SendSms":
            missing = [n for n in ("PhoneNumbers", "SignName", "TemplateCode") if not params.get(n)]
            if missing:
                return 400, {"Code": "MissingParameter", "Message": ",".join(missing), "RequestId": "req-m"}
            message = {"phone": params["PhoneNumbers"], "business_id": params.get("OutId"),
                       "template": params["TemplateCode"], "params": json.loads(params.get("TemplateParam") or "{}"),
                       "sign": params["SignName"]}
            code = self.take(message)
            if code != "OK":
                return 200, {"Code": code, "Message": "refused", "RequestId": f"req-{len(self.requests)}"}
            return 200, {"Code": "OK", "Message": "OK", "BizId": f"biz^{len(self.accepted)}",
                         "RequestId": f"req-{len(self.requests)}"}
        if action == "QuerySendDetails":
            with self.lock:
                mine = [m for m in self.accepted if m["phone"] == params.get("PhoneNumber")]
            details = [{"PhoneNum": m["phone"], "OutId": m["business_id"], "SendStatus": 3, "ErrCode": "DELIVERED",
                        "TemplateCode": m["template"], "Content": "…",
                        "SendDate": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")} for m in mine]
            return 200, {"Code": "OK", "Message": "OK", "RequestId": "req-q", "TotalCount": len(details),
                         "SmsSendDetailDTOs": {"SmsSendDetailDTO": details}}
        return 404, {"Code": "InvalidAction.NotFound", "Message": str(action), "RequestId": "req-a"}


class LocalTencent(LocalProvider):
    """Tencent Cloud's API 3.0 (service sms, version 2021-01-11): ``SendSms``."""

    OK = "Ok"
    CONTENT_TYPE = "application/json"  # exactly: the SDK reads errors only from this content type

    def _signature_ok(self, headers: dict[str, str], body: bytes) -> bool:
        auth = headers.get("authorization", "")
        prefix = "TC3-HMAC-SHA256 Credential="
        if not auth.startswith(prefix + KEY_ID + "/"):
            return False
        parts = dict(p.strip().split("=", 1) for p in auth[len("TC3-HMAC-SHA256 "):].split(","))
        _key_id, day, service, _end = parts["Credential"].split("/")
        signed = parts["SignedHeaders"].split(";")
        canonical = "\n".join(["POST", "/", "", "".join(f"{n}:{headers.get(n, '').strip().lower()}\n" for n in signed),
                               ";".join(signed), _sha256(body)])
        to_sign = "\n".join(["TC3-HMAC-SHA256", headers.get("x-tc-timestamp", ""), f"{day}/{service}/tc3_request",
                             _sha256(canonical.encode())])
        key = _hmac(_hmac(_hmac(("TC3" + KEY_SECRET).encode(), day), service), "tc3_request")
        return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), parts["Signature"])

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        action = headers.get("x-tc-action")
        params = json.loads(body or b"{}")
        with self.lock:
            self.requests.append({"action": action, "params": params, "region": headers.get("x-tc-region")})
        request_id = f"req-{len(self.requests)}"

        def error(code: str) -> tuple[int, dict[str, Any]]:
            return 200, {"Response": {"Error": {"Code": code, "Message": code}, "RequestId": request_id}}

        if headers.get("x-tc-version") != "2021-01-11":
            return error("NoSuchVersion")
        if not self._signature_ok(headers, body):
            return error("AuthFailure.SignatureFailure")
        if action != "SendSms":
            return error("InvalidAction")
        missing = [n for n in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId") if not params.get(n)]
        if missing:
            return error("MissingParameter")
        statuses = []
        for phone in params["PhoneNumberSet"]:
            message = {"phone": phone, "business_id": params.get("SessionContext"), "template": params["TemplateId"],
                       "params": params.get("TemplateParamSet") or [], "sign": params.get("SignName"),
                       "app": params["SmsSdkAppId"]}
            code = self.take(message)
            statuses.append({"SerialNo": f"2433:{len(self.accepted)}" if code == "Ok" else "", "PhoneNumber": phone,
                             "Fee": 1 if code == "Ok" else 0, "SessionContext": params.get("SessionContext", ""),
                             "Code": code, "Message": "send success" if code == "Ok" else code, "IsoCode": "CN"})
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}
