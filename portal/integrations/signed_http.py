"""The signed JSON-over-HTTPS client the providers' HTTP adapters share (identity, 电子营业执照).

Every request is signed: ``X-App-Id``, ``X-Timestamp`` (Unix seconds), ``X-Nonce`` and ``X-Signature`` = hex
HMAC-SHA256 of ``timestamp \\n nonce \\n path \\n sha256(body)`` under the secret. So is every answer, under the same
secret and with the request's own nonce (``X-Timestamp``, ``X-Nonce``, ``X-Signature`` of the answer's body): an
answer that is not signed, is stale, or was signed for another request is not believed (only ``AUTH_FAILED``, the
provider refusing our own signature, is read unsigned), so whoever can answer in the provider's place cannot say who
a credential's holder is. Answers are JSON objects with a
``code``: ``OK``; ``INVALID_TOKEN`` / ``INVALID_CODE`` / ``INVALID_TICKET`` / ``EXPIRED`` (the user's token is bad);
anything else is a refusal of the provider (``AUTH_FAILED``, ``BUSY``...). Bodies carry personal data: only HTTPS
bases are accepted outside 127.0.0.1, and nothing of a body is ever logged.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import json
import logging
import secrets
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from ..config import ConfigError
from . import Health

INVALID_CODES = frozenset({"INVALID_TOKEN", "INVALID_CODE", "INVALID_TICKET", "EXPIRED"})


def signature(secret: str, timestamp: str, nonce: str, path: str, body: bytes) -> str:
    message = "\n".join((timestamp, nonce, path, hashlib.sha256(body).hexdigest())).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_with(secret: str, nonce: str, headers: Any, path: str, body: bytes, max_skew: int = 300) -> bool:
    """Whether ``headers`` carry a fresh ``X-Timestamp`` and an ``X-Signature`` of ``body`` under ``secret`` for
    ``nonce``: the check every signed request and answer shares (here, and the national platform's)."""
    timestamp = headers.get("X-Timestamp", "")
    fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= max_skew
    return fresh and hmac.compare_digest(signature(secret, timestamp, nonce, path, body),
                                         headers.get("X-Signature", ""))


def signature_ok(secret: str, app_id: str, headers: Any, path: str, body: bytes, max_skew: int = 300) -> bool:
    """The server side of the signature (the local servers): right app id, fresh timestamp, matching HMAC."""
    return headers.get("X-App-Id") == app_id and signed_with(secret, headers.get("X-Nonce", ""), headers, path, body,
                                                            max_skew)


def answer_headers(secret: str, request_nonce: str, path: str, body: bytes) -> dict[str, str]:
    """The headers that sign an answer to the request of ``request_nonce`` (the local servers)."""
    timestamp = str(int(time.time()))
    return {"X-Timestamp": timestamp, "X-Nonce": request_nonce,
            "X-Signature": signature(secret, timestamp, request_nonce, path, body)}


def answer_signed(secret: str, request_nonce: str, headers: Any, path: str, body: bytes, max_skew: int = 300) -> bool:
    """The client side: the answer is signed under ``secret``, fresh, and for the request of ``request_nonce``."""
    return hmac.compare_digest(headers.get("X-Nonce", ""), request_nonce) and signed_with(
        secret, request_nonce, headers, path, body, max_skew)


class SignedClient(abc.ABC):
    """A provider's signed JSON API. Subclasses say which error a failure raises (``failure``) and name the
    provider in logs (``provider``); without ``failure`` a subclass cannot be instantiated."""

    provider = "provider"
    log = logging.getLogger("portal.integrations")

    def __init__(self, base_url: str, app_id: str, secret: str, timeout: tuple[float, float] = (3, 10)):
        parts = urlsplit(base_url)
        if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError(f"{self.provider} URLs must use https")
        self.base = base_url.rstrip("/")
        self.app_id = app_id
        self._secret = secret
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base={self.base} app_id={self.app_id}>"

    @abc.abstractmethod
    def failure(self, kind: str, detail: str) -> Exception:
        """The error to raise: ``kind`` is 'invalid_token' (the user's token or ticket) or 'unavailable'."""

    def health(self) -> Health:
        """A TCP (and, for https, TLS) connection to the provider: the protocols have no harmless call to make, and
        a verification asked for nothing would be billed and logged at the provider."""
        parts = urlsplit(self.base)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname, port), timeout=self.timeout[0]) as sock:
                if parts.scheme == "https":
                    ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname).close()
        except OSError as exc:
            return Health(False, f"provider at {self.base} unreachable: {exc.__class__.__name__}")
        return Health(True, f"provider at {self.base} reachable (app id {self.app_id})")

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        url = self.base + path
        path = urlsplit(url).path
        headers = {"Content-Type": "application/json", "X-App-Id": self.app_id, "X-Timestamp": timestamp,
                   "X-Nonce": nonce, "X-Signature": signature(self._secret, timestamp, nonce, path, body)}
        problem = None
        try:
            response = requests.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            problem = type(exc).__name__
        if problem:
            self.log.warning("%s %s unreachable: %s", self.provider, path, problem)
            raise self.failure("unavailable", problem)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            self.log.warning("%s %s answered HTTP %s without a JSON object", self.provider, path,
                             response.status_code)
            raise self.failure("unavailable", f"HTTP {response.status_code}")
        code = answer.get("code")
        if code != "AUTH_FAILED" and not answer_signed(self._secret, nonce, response.headers, path, response.content):
            self.log.error("%s %s answered without a valid signature under our secret", self.provider, path)
            raise self.failure("unavailable", "unsigned answer")
        if code in INVALID_CODES:
            raise self.failure("invalid_token", str(code))
        if code != "OK" or response.status_code != 200:
            level = logging.ERROR if code == "AUTH_FAILED" else logging.WARNING
            self.log.log(level, "%s %s refused: HTTP %s code %s", self.provider, path, response.status_code, code)
            raise self.failure("unavailable", str(code))
        return answer
