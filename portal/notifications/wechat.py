"""WeChat subscribe messages (订阅消息) of the mini-program: ``subscribeMessage.send``.

``HttpSubscribeClient`` calls the real API (with an access token it fetches and caches); ``FakeSubscribeClient``
stands in for development and tests; ``PORTAL_WECHAT_BACKEND`` picks one, as for the login client of
``portal.accounts.wechat``, whose "unreachable" errcode and log redaction this reuses. WeChat's errcodes become
:class:`~.channels.DeliveryFailed`, permanent or temporary (see ``ERRCODES``). S14: the app secret and the access
token never reach a log line or an exception message; openids are not logged.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from flask import Flask, current_app

from ..accounts.wechat import _CONFIG_ERRCODES, ERRCODE_UNREACHABLE, _RedactQuery
from ..config import ConfigError
from ..core import clock
from .channels import DeliveryFailed
from .messages import Rendered

log = logging.getLogger("portal.notifications.wechat")

# errcode → (what it means, permanent?) for subscribeMessage.send
ERRCODES: dict[int, tuple[str, bool]] = {
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


def failure(errcode: int) -> DeliveryFailed:
    """The delivery failure for a WeChat errcode (unknown ones are temporary: a retry costs little)."""
    meaning, permanent = ERRCODES.get(errcode, (_CONFIG_ERRCODES.get(errcode, "unexpected error"), False))
    return DeliveryFailed(f"WeChat errcode {errcode}: {meaning}", permanent=permanent)


class SubscribeClient(Protocol):
    def send(self, openid: str, template_id: str, page: str, data: dict[str, dict[str, str]]) -> None:
        """Send one subscribe message or raise DeliveryFailed."""


class _RedactToken(_RedactQuery):
    _SECRET_RE = re.compile(r"((?:secret|js_code|access_token)=)[^&\s\"']*")


class HttpSubscribeClient:
    """The real API: GET {base}/cgi-bin/token, POST {base}/cgi-bin/message/subscribe/send."""

    def __init__(self, appid: str, secret: str, base_url: str = "https://api.weixin.qq.com",
                 timeout: tuple[float, float] = (3, 5)):
        self.appid = appid
        self._secret = secret
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        logger = logging.getLogger("urllib3.connectionpool")
        if not any(isinstance(f, _RedactToken) for f in logger.filters):
            logger.addFilter(_RedactToken())

    def __repr__(self) -> str:
        return f"<HttpSubscribeClient appid={self.appid} base={self.base}>"

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; any transport problem is 'unreachable' (the exception, whose text holds the URL, is
        not chained)."""
        problem = None
        try:
            response = requests.request(method, self.base + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            problem = type(exc).__name__
        if problem:
            log.warning("WeChat %s unreachable: %s", path, problem)
            raise failure(ERRCODE_UNREACHABLE)
        try:
            data = response.json() if response.status_code == 200 else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.warning("WeChat %s answered HTTP %s without a JSON object", path, response.status_code)
            raise failure(ERRCODE_UNREACHABLE)
        return data

    def _access_token(self, *, fresh: bool = False) -> str:
        with self._lock:
            if not fresh and self._token and self._token[1] > time.monotonic():
                return self._token[0]
            data = self._call("GET", "/cgi-bin/token", params={"grant_type": "client_credential",
                                                               "appid": self.appid, "secret": self._secret})
            token = data.get("access_token")
            if not isinstance(token, str) or not token:
                errcode = data.get("errcode") if isinstance(data.get("errcode"), int) else ERRCODE_UNREACHABLE
                log.error("WeChat refused an access token (appid %s): errcode %s", self.appid, errcode)
                raise failure(errcode)
            lifetime = data.get("expires_in") if isinstance(data.get("expires_in"), int) else 7200
            self._token = (token, time.monotonic() + max(lifetime - 300, 60))  # renewed 5 minutes early
            return token

    def send(self, openid: str, template_id: str, page: str, data: dict[str, dict[str, str]]) -> None:
        body = {"touser": openid, "template_id": template_id, "page": page, "data": data,
                "miniprogram_state": "formal", "lang": "zh_CN"}
        for attempt in range(2):  # a stale token is renewed once at once, not after a backoff
            token = self._access_token(fresh=attempt > 0)
            answer = self._call("POST", "/cgi-bin/message/subscribe/send", params={"access_token": token},
                                data=json.dumps(body, ensure_ascii=False).encode(),
                                headers={"Content-Type": "application/json"})
            errcode = answer.get("errcode") or 0
            if errcode == 0:
                return
            if errcode not in TOKEN_ERRCODES:
                break
        log.warning("WeChat subscribeMessage.send failed: errcode %s", errcode)
        raise failure(errcode if isinstance(errcode, int) else ERRCODE_UNREACHABLE)


@dataclass
class FakeSubscribeClient:
    """Development and tests: messages are kept in ``sent``; an openid ``fail-<errcode>…`` answers that errcode."""

    sent: list[dict[str, Any]]

    def send(self, openid: str, template_id: str, page: str, data: dict[str, dict[str, str]]) -> None:
        match = re.match(r"^fail-(-?\d+)", openid)
        if match:
            raise failure(int(match.group(1)))
        self.sent.append({"openid": openid, "template_id": template_id, "page": page, "data": data})


def get_client(app: Flask) -> SubscribeClient:
    """The app's subscribe-message client, built once from ``PORTAL_WECHAT_BACKEND``."""
    client = app.extensions.get("portal_wechat_subscribe")
    if client is None:
        client = app.extensions["portal_wechat_subscribe"] = _build(app.config)
    return client


def _build(config: Any) -> SubscribeClient:
    backend = config.get("PORTAL_WECHAT_BACKEND", "fake")
    if backend == "fake":
        return FakeSubscribeClient([])
    if backend == "http":
        if not config.get("PORTAL_WECHAT_APPID") or not config.get("PORTAL_WECHAT_SECRET"):
            raise ConfigError("PORTAL_WECHAT_APPID and PORTAL_WECHAT_SECRET must be set when "
                              "PORTAL_WECHAT_BACKEND=http")
        return HttpSubscribeClient(config["PORTAL_WECHAT_APPID"], config["PORTAL_WECHAT_SECRET"],
                                   config.get("PORTAL_WECHAT_API_BASE") or "https://api.weixin.qq.com")
    raise ConfigError(f"PORTAL_WECHAT_BACKEND must be fake or http, not {backend!r}")


def template_id(event: str) -> str | None:
    """The subscribe-message template of ``event``: ``PORTAL_WECHAT_TEMPLATES`` (JSON, event → id); the fake
    backend has one per event."""
    raw = current_app.config.get("PORTAL_WECHAT_TEMPLATES") or ""
    try:
        configured = json.loads(raw) if raw else {}
    except ValueError:
        configured = {}
    if event in configured:
        return str(configured[event])
    return f"fake-{event}" if current_app.config.get("PORTAL_WECHAT_BACKEND", "fake") == "fake" else None


def page_for(notification: Any) -> str:
    """The mini-program page the message opens: the case, or the inbox."""
    if notification.application_id:
        return f"pages/applications/detail?id={notification.application_id}"
    return "pages/inbox/index"


def data_for(notification: Any, message: Rendered) -> dict[str, dict[str, str]]:
    """The template's keywords (thing ≤ 20 characters, time as WeChat writes it): what happened, a summary, when."""
    when = clock.to_local(notification.created_at).strftime("%Y-%m-%d %H:%M")
    return {"thing1": {"value": message.subject[:20]}, "thing2": {"value": message.body[:20]},
            "time3": {"value": when}}
