"""The HTTP adapters of the identity port: a provider's API, configured by URL, app id and secret.

The protocol (what ``local_server.py`` also speaks): ``POST {base}/face/verify`` with
``{"name", "id_number", "live_token", "request_id"}`` answers ``{"code": "OK", "verdict": "pass"|"fail",
"score": 0-100, "request_id"}``; ``POST {base}/ecredential/verify`` with ``{"code", "request_id"}`` answers
``{"code": "OK", "name", "id_number", "valid_until": "YYYY-MM-DD"}``. Refusals answer ``{"code": "INVALID_TOKEN"}``
(or ``INVALID_CODE``), ``AUTH_FAILED`` (HTTP 401) or ``BUSY`` (HTTP 503).

Every request is signed: ``X-App-Id``, ``X-Timestamp`` (Unix seconds), ``X-Nonce`` and ``X-Signature`` = hex
HMAC-SHA256 of ``timestamp \\n nonce \\n path \\n sha256(body)`` under the secret. Bodies carry personal data:
only HTTPS bases are accepted outside 127.0.0.1, and nothing of a body is ever logged.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import ssl
import time
import uuid
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import requests

from ...config import ConfigError
from .. import Health
from ..signing import signature
from . import ECredential, FaceVerdict, IdentityProofError

log = logging.getLogger("portal.integrations.identity")


class _SignedClient:
    def __init__(self, base_url: str, app_id: str, secret: str, timeout: tuple[float, float] = (3, 10)):
        parts = urlsplit(base_url)
        if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError("identity provider URLs must use https")
        self.base = base_url.rstrip("/")
        self.app_id = app_id
        self._secret = secret
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base={self.base} app_id={self.app_id}>"

    def health(self) -> Health:
        """A TCP (and, for https, TLS) connection to the provider: the protocol has no harmless call to make, and a
        verification asked for nothing would be billed and logged at the provider."""
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
            log.warning("identity provider %s unreachable: %s", path, problem)
            raise IdentityProofError("unavailable", problem)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            log.warning("identity provider %s answered HTTP %s without a JSON object", path, response.status_code)
            raise IdentityProofError("unavailable", f"HTTP {response.status_code}")
        code = answer.get("code")
        if code in ("INVALID_TOKEN", "INVALID_CODE", "EXPIRED"):
            raise IdentityProofError("invalid_token", str(code))
        if code != "OK" or response.status_code != 200:
            level = logging.ERROR if code == "AUTH_FAILED" else logging.WARNING
            log.log(level, "identity provider %s refused: HTTP %s code %s", path, response.status_code, code)
            raise IdentityProofError("unavailable", str(code))
        return answer


class HttpFaceVerifier(_SignedClient):
    def verify(self, name: str, id_number: str, live_token: str) -> FaceVerdict:
        answer = self.post("/face/verify", {"name": name, "id_number": id_number, "live_token": live_token,
                                            "request_id": uuid.uuid4().hex})
        score = answer.get("score")
        if answer.get("verdict") not in ("pass", "fail") or not isinstance(score, int | float):
            raise IdentityProofError("unavailable", "malformed verdict")
        return FaceVerdict(answer["verdict"] == "pass", float(score), str(answer.get("request_id") or ""))


class HttpECredentialVerifier(_SignedClient):
    def verify(self, code: str) -> ECredential:
        answer = self.post("/ecredential/verify", {"code": code, "request_id": uuid.uuid4().hex})
        name, id_number = answer.get("name"), answer.get("id_number")
        if not isinstance(name, str) or not isinstance(id_number, str):
            raise IdentityProofError("unavailable", "malformed credential")
        try:
            valid_until = date.fromisoformat(answer["valid_until"]) if answer.get("valid_until") else None
        except (TypeError, ValueError):
            raise IdentityProofError("unavailable", "malformed valid_until") from None
        return ECredential(name, id_number, valid_until)
