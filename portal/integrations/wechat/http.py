"""The real WeChat API (``https://api.weixin.qq.com``): code2session, the access token, subscribe messages.

The access token (``GET /cgi-bin/token``, valid about 2 hours) is kept in one place shared by every process
(``integrations.token_cache``), renewed 5 minutes before it runs out, and at once when WeChat says it is stale
(unless another process has renewed it meanwhile). Any transport problem (network error, timeout, HTTP error, an
answer that is not a JSON object) is ``ERRCODE_UNREACHABLE``; the requests exception, whose text holds the URL with
the secret, is never chained to our error (S14), and urllib3's debug line about each request is redacted.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import timedelta
from typing import Any, Protocol

import requests

from .. import Health
from . import (
    CONFIG_ERRCODES,
    ERRCODE_UNREACHABLE,
    TOKEN_ERRCODES,
    WeChatError,
    WeChatPhone,
    WeChatSession,
    check_code,
)

log = logging.getLogger("portal.integrations.wechat")


class _RedactQuery(logging.Filter):
    """Blank the secret, login codes and the access token in urllib3's debug line about each request (S14)."""

    _SECRET_RE = re.compile(r"((?:secret|js_code|access_token)=)[^&\s\"']*")

    def _redact(self, value: Any) -> Any:
        return self._SECRET_RE.sub(r"\1***", value) if isinstance(value, str) else value

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact(a) for a in record.args)
        return True


def _install_log_redaction() -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactQuery) for f in logger.filters):
        logger.addFilter(_RedactQuery())


class TokenStore(Protocol):
    def get(self, name: str) -> str | None: ...

    def put(self, name: str, value: str, lifetime: timedelta) -> None: ...


class HttpWeChat:
    def __init__(self, appid: str, secret: str, base_url: str = "https://api.weixin.qq.com",
                 timeout: tuple[float, float] = (3, 5), token_store: TokenStore | None = None):
        from ..token_cache import DbTokenStore

        self.appid = appid
        self._secret = secret
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self._tokens = token_store or DbTokenStore()
        self._token_name = f"wechat:{appid}"
        self._lock = threading.Lock()
        _install_log_redaction()

    def __repr__(self) -> str:
        return f"<HttpWeChat appid={self.appid} base={self.base}>"

    def health(self) -> Health:
        """The shared access token, fetched if none is valid: proves the endpoint answers and takes our credentials.
        A fetched token is stored for every process, as any call would (WeChat keeps one token per AppID)."""
        try:
            self._access_token()
        except WeChatError as exc:
            return Health(False, f"WeChat API at {self.base} (appid {self.appid}): errcode {exc.errcode}, "
                                 f"{exc.meaning}")
        return Health(True, f"WeChat API at {self.base} (appid {self.appid}): access token valid")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One API call: its JSON object, or WeChatError(ERRCODE_UNREACHABLE). Failures are noted inside the except
        blocks and raised after them, so the requests exception is not attached to ours as its context."""
        failure = None
        try:
            response = requests.request(method, self.base + path, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            failure = "timeout"
        except requests.RequestException as exc:
            failure = f"network error ({type(exc).__name__})"
        if failure:
            raise self._unreachable(path, failure)
        if response.status_code != 200:
            raise self._unreachable(path, f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise self._unreachable(path, "answer is not a JSON object")
        return data

    def _unreachable(self, path: str, reason: str) -> WeChatError:
        log.warning("WeChat %s unreachable: %s", path, reason)
        return WeChatError(ERRCODE_UNREACHABLE, reason)

    def _refused(self, path: str, data: dict[str, Any], *secrets: str) -> WeChatError:
        errcode = data.get("errcode")
        errcode = errcode if isinstance(errcode, int) else ERRCODE_UNREACHABLE
        errmsg = str(data.get("errmsg", ""))[:200]
        for secret in (self._secret, *secrets):  # WeChat does not echo them; make sure a log never does
            errmsg = errmsg.replace(secret, "***")
        if errcode in CONFIG_ERRCODES:
            log.error("WeChat %s refused our configuration (appid %s): %s, errcode %s", path, self.appid,
                      CONFIG_ERRCODES[errcode], errcode)
        else:
            log.warning("WeChat %s failed: errcode %s, errmsg %r", path, errcode, errmsg)
        return WeChatError(errcode, f"errcode {errcode}")

    # --- login ---

    def code2session(self, code: str) -> WeChatSession:
        code = check_code(code)
        params = {"appid": self.appid, "secret": self._secret, "js_code": code, "grant_type": "authorization_code"}
        data = self._call("GET", "/sns/jscode2session", params=params)
        if (data.get("errcode") or 0) != 0:
            raise self._refused("code2session", data, code)
        openid, session_key, unionid = data.get("openid"), data.get("session_key"), data.get("unionid")
        if not (isinstance(openid, str) and openid and isinstance(session_key, str) and session_key):
            raise self._unreachable("/sns/jscode2session", "answer lacks openid or session_key")
        return WeChatSession(openid, session_key, unionid if isinstance(unionid, str) and unionid else None)

    # --- the access token ---

    def _access_token(self, *, stale: str | None = None) -> str:
        """The shared access token; ``stale`` is one WeChat just refused, renewed unless another process has."""
        with self._lock:
            token = self._tokens.get(self._token_name)
            if token and token != stale:
                return token
            data = self._call("GET", "/cgi-bin/token", params={"grant_type": "client_credential",
                                                               "appid": self.appid, "secret": self._secret})
            token = data.get("access_token")
            if not isinstance(token, str) or not token:
                raise self._refused("token", data)
            lifetime = data.get("expires_in") if isinstance(data.get("expires_in"), int) else 7200
            self._tokens.put(self._token_name, token, timedelta(seconds=lifetime))
            return token

    def _with_token(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` with the access token; a stale token is renewed once at once, not after a backoff."""
        answer: dict[str, Any] = {}
        token = None
        for _attempt in range(2):
            token = self._access_token(stale=token)
            answer = self._call("POST", path, params={"access_token": token},
                                data=json.dumps(body, ensure_ascii=False).encode(),
                                headers={"Content-Type": "application/json"})
            if (answer.get("errcode") or 0) not in TOKEN_ERRCODES:
                break
        return answer

    # --- the verified phone number ---

    def phone_number(self, code: str) -> WeChatPhone:
        code = check_code(code)
        answer = self._with_token("/wxa/business/getuserphonenumber", {"code": code})
        if (answer.get("errcode") or 0) != 0:
            raise self._refused("getuserphonenumber", answer, code)
        info = answer.get("phone_info")
        if not isinstance(info, dict):
            raise self._unreachable("/wxa/business/getuserphonenumber", "answer lacks phone_info")
        watermark = info.get("watermark") if isinstance(info.get("watermark"), dict) else {}
        if watermark.get("appid") != self.appid:  # a number verified for another mini-program is not ours to use
            log.error("WeChat getuserphonenumber answered for another appid")
            raise WeChatError(40013, "watermark appid mismatch")
        pure, country = info.get("purePhoneNumber"), info.get("countryCode")
        if not isinstance(pure, str) or not pure:
            raise self._unreachable("/wxa/business/getuserphonenumber", "answer lacks purePhoneNumber")
        return WeChatPhone(pure, str(country or ""))

    # --- subscribe messages ---

    def send_subscribe(self, openid: str, template_id: str, page: str, data: dict[str, dict[str, str]]) -> None:
        body = {"touser": openid, "template_id": template_id, "page": page, "data": data,
                "miniprogram_state": "formal", "lang": "zh_CN"}
        answer = self._with_token("/cgi-bin/message/subscribe/send", body)
        if (answer.get("errcode") or 0) != 0:
            raise self._refused("subscribeMessage.send", answer)
