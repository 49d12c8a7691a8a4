"""WeChat mini-program login: exchange a ``wx.login()`` code for the user's openid (code2session).

``HttpWeChatClient`` calls the real API; ``FakeWeChatClient`` stands in for development and tests;
``get_wechat_client(app)`` picks one from ``PORTAL_WECHAT_BACKEND``. Whatever goes wrong becomes a
``WeChatError`` carrying WeChat's errcode and a message the user can act on.

S14: the app secret, the login code and the session key never appear in a log line, an exception
message or a repr. The request URL carries the secret (the API takes it in the query string), so
urllib3's debug line about it is redacted and network exceptions, whose text holds the URL, are not
chained to the error we raise.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import requests
from flask import Flask
from flask_babel import lazy_gettext as _l

from ..config import ConfigError
from ..core.errors import DomainError

log = logging.getLogger("portal.accounts.wechat")

ERRCODE_UNREACHABLE = -1000  # ours, not WeChat's: no usable answer (network error, timeout, HTTP error, garbage)
MAX_CODE_LENGTH = 128  # wx.login() codes are 32 characters; anything much longer is not one


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    session_key: str = field(repr=False)  # decrypts the user's data: a secret (S14)
    unionid: str | None = None


@dataclass(frozen=True)
class _Kind:
    code: str
    status: int
    message: Any  # a lazy string, translated when the error is raised


_INVALID_CODE = _Kind("wechat_code_invalid", 401, _l("The login code is invalid. Please reopen the mini-program."))
_UNKNOWN = _Kind("wechat_failed", 502, _l("Logging in with WeChat failed. Please try again later, or log in with "
                                          "an SMS code."))
_KINDS: dict[int, _Kind] = {
    40029: _INVALID_CODE,  # invalid code
    40163: _INVALID_CODE,  # code already used
    45011: _Kind("wechat_rate_limited", 429, _l("Too many login attempts. Please wait a minute and try again.")),
    40226: _Kind("wechat_user_blocked", 403, _l("WeChat did not allow this account to log in (high-risk account). "
                                                "Please log in with an SMS code instead.")),
    -1: _Kind("wechat_busy", 503, _l("WeChat is busy right now. Please try again in a moment.")),
    ERRCODE_UNREACHABLE: _Kind("wechat_unavailable", 503, _l("WeChat could not be reached. Please try again in a "
                                                             "moment.")),
}
# errcodes that mean our configuration is wrong, not the user's action: the log says so loudly
_CONFIG_ERRCODES = {40013: "invalid appid", 40125: "invalid app secret", 41002: "appid missing",
                    41004: "secret missing"}


class WeChatError(DomainError):
    """code2session did not give a session; ``errcode`` is WeChat's (or ERRCODE_UNREACHABLE), the message
    tells the user what to do. ``detail`` is for logs and holds no secret."""

    code = "wechat_failed"
    status = 502

    def __init__(self, errcode: int, detail: str = ""):
        kind = _KINDS.get(errcode, _UNKNOWN)
        super().__init__(str(kind.message), code=kind.code)
        self.status = kind.status
        self.errcode = errcode
        self.detail = detail


class WeChatClient(Protocol):
    def code2session(self, code: str) -> WeChatSession: ...


def _check_code(code: Any) -> str:
    """A login code is a short printable token; anything else is refused without asking WeChat."""
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE_LENGTH or not code.isprintable():
        raise WeChatError(40029, "malformed code")
    return code.strip()


class _RedactQuery(logging.Filter):
    """Blank the secret and the login code in urllib3's debug line about each request (S14)."""

    _SECRET_RE = re.compile(r"((?:secret|js_code)=)[^&\s\"']*")

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


class HttpWeChatClient:
    """The real code2session API: GET {base_url}/sns/jscode2session."""

    def __init__(self, appid: str, secret: str, base_url: str = "https://api.weixin.qq.com",
                 timeout: tuple[float, float] = (3, 5)):
        self.appid = appid
        self._secret = secret
        self.url = base_url.rstrip("/") + "/sns/jscode2session"
        self.timeout = timeout
        _install_log_redaction()

    def __repr__(self) -> str:
        return f"<HttpWeChatClient appid={self.appid} url={self.url}>"

    def code2session(self, code: str) -> WeChatSession:
        """Exchange a ``wx.login()`` code for a session, or raise WeChatError."""
        code = _check_code(code)
        params = {"appid": self.appid, "secret": self._secret, "js_code": code, "grant_type": "authorization_code"}
        # Failures are noted inside the except blocks and raised after them, so the requests exception
        # (whose text holds the URL with the secret) is not attached to ours as its context.
        failure = None
        try:
            response = requests.get(self.url, params=params, timeout=self.timeout)
        except requests.Timeout:
            failure = "timeout"
        except requests.RequestException as exc:
            failure = f"network error ({type(exc).__name__})"
        if failure:
            raise self._unreachable(failure)
        if response.status_code != 200:
            raise self._unreachable(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise self._unreachable("answer is not a JSON object")
        return self._session_from(data, code)

    def _session_from(self, data: dict[str, Any], code: str) -> WeChatSession:
        errcode = data.get("errcode") or 0
        if errcode != 0:
            errmsg = str(data.get("errmsg", ""))[:200]
            for secret in (self._secret, code):  # WeChat does not echo them; make sure a log never does
                errmsg = errmsg.replace(secret, "***")
            if errcode in _CONFIG_ERRCODES:
                log.error("WeChat code2session refused our configuration (appid %s): %s, errcode %s",
                          self.appid, _CONFIG_ERRCODES[errcode], errcode)
            else:
                log.warning("WeChat code2session failed: errcode %s, errmsg %r", errcode, errmsg)
            raise WeChatError(errcode if isinstance(errcode, int) else ERRCODE_UNREACHABLE, f"errcode {errcode}")
        openid, session_key, unionid = data.get("openid"), data.get("session_key"), data.get("unionid")
        if not (isinstance(openid, str) and openid and isinstance(session_key, str) and session_key):
            raise self._unreachable("answer lacks openid or session_key")
        return WeChatSession(openid, session_key, unionid if isinstance(unionid, str) and unionid else None)

    def _unreachable(self, reason: str) -> WeChatError:
        log.warning("WeChat code2session unreachable: %s", reason)
        return WeChatError(ERRCODE_UNREACHABLE, reason)


class FakeWeChatClient:
    """Development and tests, no network: ``demo-<openid>`` logs in as <openid>; ``bad`` answers 40029,
    ``limited`` 45011, ``risky`` 40226, ``busy`` -1 and ``down`` as if WeChat could not be reached.
    """

    ERRORS: ClassVar[dict[str, int]] = {"bad": 40029, "limited": 45011, "risky": 40226, "busy": -1,
                                          "down": ERRCODE_UNREACHABLE}

    def code2session(self, code: str) -> WeChatSession:
        code = _check_code(code)
        if code in self.ERRORS:
            raise WeChatError(self.ERRORS[code], "fake")
        if not code.startswith("demo-") or len(code) == len("demo-"):
            raise WeChatError(40029, "fake: not a demo code")
        openid = code.removeprefix("demo-")
        # stable per openid, so a test can log the same user in twice
        session_key = base64.b64encode(hashlib.sha256(f"fake-session:{openid}".encode()).digest()[:16]).decode()
        return WeChatSession(openid, session_key, None)


def get_wechat_client(app: Flask) -> WeChatClient:
    """The app's WeChat client, built once from ``PORTAL_WECHAT_BACKEND`` (``fake`` or ``http``)."""
    client = app.extensions.get("portal_wechat")
    if client is None:
        client = app.extensions["portal_wechat"] = _build_client(app.config)
    return client


def _build_client(config: Any) -> WeChatClient:
    backend = config.get("PORTAL_WECHAT_BACKEND", "fake")
    if backend == "fake":
        return FakeWeChatClient()
    if backend == "http":
        if not config.get("PORTAL_WECHAT_APPID") or not config.get("PORTAL_WECHAT_SECRET"):
            raise ConfigError("PORTAL_WECHAT_APPID and PORTAL_WECHAT_SECRET must be set when "
                              "PORTAL_WECHAT_BACKEND=http")
        return HttpWeChatClient(config["PORTAL_WECHAT_APPID"], config["PORTAL_WECHAT_SECRET"],
                                config.get("PORTAL_WECHAT_API_BASE") or "https://api.weixin.qq.com")
    raise ConfigError(f"PORTAL_WECHAT_BACKEND must be fake or http, not {backend!r}")
