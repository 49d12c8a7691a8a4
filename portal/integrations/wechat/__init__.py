"""WeChat (mini-program): the port every feature uses, and the choice of adapter.

- ``code2session``: a ``wx.login()`` code → openid (and unionid when the mini-program is bound to an open-platform
  account); the session key stays on the server.
- ``phone_number``: a ``getPhoneNumber`` code → the phone number WeChat has verified (instead of an SMS code);
  the answer's watermark must name our appid.
- ``send_subscribe``: one subscribe message (``subscribeMessage.send``), allowed by one consent of the user.

``http.HttpWeChat`` calls the real API; ``fake.FakeWeChat`` is the local adapter (development and tests, no
network); ``get_wechat(app)`` picks one from ``PORTAL_WECHAT_BACKEND`` (``fake`` or ``http``): the one place that
does. Whatever goes wrong is a :class:`WeChatError` carrying WeChat's errcode, a message the user can act on, and
whether a retry could help (``permanent``).

S14: the app secret, login codes, access tokens and session keys never appear in a log line, an exception message
or a repr; openids are not logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask

from ...config import ConfigError
from ...core.errors import DomainError
from ...core.translation import lazy_gettext as _l
from .. import Health

ERRCODE_UNREACHABLE = -1000  # ours, not WeChat's: no usable answer (network error, timeout, HTTP error, garbage)
MAX_CODE_LENGTH = 128  # wx.login() codes are 32 characters; anything much longer is not one


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    session_key: str = field(repr=False)  # decrypts the user's data: a secret (S14)
    unionid: str | None = None


@dataclass(frozen=True)
class WeChatPhone:
    """The number WeChat verified for the user: ``pure`` without the country code, which is ``country_code``."""

    pure: str = field(repr=False)
    country_code: str


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
CONFIG_ERRCODES = {40013: "invalid appid", 40125: "invalid app secret", 41002: "appid missing",
                   41004: "secret missing"}
# subscribeMessage.send: errcode → (what it means, permanent?)
SUBSCRIBE_ERRCODES: dict[int, tuple[str, bool]] = {
    43101: ("the user has not accepted this subscribe message (or used it up)", True),
    40003: ("invalid openid", True),
    40037: ("invalid template_id", True),
    47003: ("template data does not match the template", True),
    41030: ("invalid page", True),
    -1: ("WeChat busy", False),
    45009: ("daily API limit reached", False),
    40001: ("access token invalid", False),
    42001: ("access token expired", False),
    ERRCODE_UNREACHABLE: ("WeChat unreachable", False),
}
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})


class WeChatError(DomainError):
    """WeChat gave no usable answer; ``errcode`` is WeChat's (or ERRCODE_UNREACHABLE), the message tells the user
    what to do, ``permanent`` whether a retry could help. ``detail`` is for logs and holds no secret."""

    code = "wechat_failed"
    status = 502

    def __init__(self, errcode: int, detail: str = ""):
        kind = _KINDS.get(errcode, _UNKNOWN)
        super().__init__(str(kind.message), code=kind.code)
        self.status = kind.status
        self.errcode = errcode
        self.detail = detail
        self.permanent = SUBSCRIBE_ERRCODES.get(errcode, ("", False))[1]

    @property
    def meaning(self) -> str:
        """What the errcode means, in English, for delivery rows and logs."""
        return SUBSCRIBE_ERRCODES.get(self.errcode, (CONFIG_ERRCODES.get(self.errcode, "unexpected error"),))[0]


class WeChat(Protocol):
    def code2session(self, code: str) -> WeChatSession:
        """Exchange a ``wx.login()`` code for the user's session, or raise WeChatError."""

    def phone_number(self, code: str) -> WeChatPhone:
        """Exchange a ``getPhoneNumber`` code (valid 5 minutes, usable once) for the verified number."""

    def send_subscribe(self, openid: str, template_id: str, page: str, data: dict[str, dict[str, str]]) -> None:
        """Send one subscribe message, or raise WeChatError."""

    def health(self) -> Health:
        """Whether WeChat accepts our AppID and secret (an access token can be had); no message is sent."""


def check_code(code: Any) -> str:
    """A code from the mini-program is a short printable token; anything else is refused without asking WeChat."""
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE_LENGTH or not code.isprintable():
        raise WeChatError(40029, "malformed code")
    return code.strip()


def get_wechat(app: Flask) -> WeChat:
    """The app's WeChat adapter, built once from ``PORTAL_WECHAT_BACKEND`` (``fake`` or ``http``)."""
    adapter = app.extensions.get("portal_wechat")
    if adapter is None:
        adapter = app.extensions["portal_wechat"] = _build(app.config)
    return adapter


def _build(config: Any) -> WeChat:
    from .fake import FakeWeChat
    from .http import HttpWeChat

    backend = config.get("PORTAL_WECHAT_BACKEND", "fake")
    if backend == "fake":
        return FakeWeChat()
    if backend == "http":
        if not config.get("PORTAL_WECHAT_APPID") or not config.get("PORTAL_WECHAT_SECRET"):
            raise ConfigError("PORTAL_WECHAT_APPID and PORTAL_WECHAT_SECRET must be set when "
                              "PORTAL_WECHAT_BACKEND=http")
        return HttpWeChat(config["PORTAL_WECHAT_APPID"], config["PORTAL_WECHAT_SECRET"],
                          config.get("PORTAL_WECHAT_API_BASE") or "https://api.weixin.qq.com")
    raise ConfigError(f"PORTAL_WECHAT_BACKEND must be fake or http, not {backend!r}")
