"""The HTTP adapter: the national platform (or ``portal national hub``) over HTTPS, as ``PROTOCOL.md`` describes.

Configured by ``PORTAL_NATIONAL_URL``, this area's node code (``PORTAL_NATIONAL_NODE``, default the region's 统筹区)
and ``PORTAL_NATIONAL_SECRET``. Every request is signed (``X-Node``, ``X-Timestamp``, ``X-Nonce``, ``X-Signature``:
HMAC-SHA256 of ``timestamp \\n nonce \\n path \\n sha256(body)``, as ``signed_http``), and so is every answer,
with the same secret: an answer without a good signature is not believed. Messages are checked against the schemas
before they leave and when they arrive. Bodies carry ID numbers and names: only HTTPS is accepted outside 127.0.0.1,
and nothing of a body is ever logged.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from ...config import ConfigError
from .. import Health
from ..signed_http import signature, signed_with
from . import Message, NationalError, Receipt, validate

log = logging.getLogger("portal.integrations.national")
MAX_SKEW_SECONDS = 300


def signed_headers(node: str, secret: str, path: str, body: bytes) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    return {"Content-Type": "application/json", "X-Node": node, "X-Timestamp": timestamp, "X-Nonce": nonce,
            "X-Signature": signature(secret, timestamp, nonce, path, body)}


def is_signed(secret: str, path: str, body: bytes, headers: Any) -> bool:
    """Whether a request or an answer carries a fresh, good signature under ``secret``."""
    return signed_with(secret, headers.get("X-Nonce", ""), headers, path, body, MAX_SKEW_SECONDS)


class HttpNationalPlatform:
    def __init__(self, base_url: str, node: str, secret: str, timeout: tuple[float, float] = (3, 15)):
        parts = urlsplit(base_url)
        if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError("PORTAL_NATIONAL_URL must use https")
        self.base = base_url.rstrip("/")
        self.node = node
        self._secret = secret
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<HttpNationalPlatform base={self.base} node={self.node}>"

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        url = self.base + path
        full_path = urlsplit(url).path
        try:
            response = requests.post(url, data=body, headers=signed_headers(self.node, self._secret, full_path, body),
                                     timeout=self.timeout)
        except requests.RequestException as exc:
            log.warning("national platform %s unreachable: %s", path, type(exc).__name__)
            raise NationalError("unavailable", type(exc).__name__) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise NationalError("unavailable", f"HTTP {response.status_code} without a JSON answer")
        code = answer.get("code")
        if code == "AUTH_FAILED":
            log.error("national platform refused our credentials (node %s)", self.node)
            raise NationalError("refused", "AUTH_FAILED: the platform does not accept our credentials", retry=True)
        if not is_signed(self._secret, full_path, response.content, response.headers):
            log.error("national platform answer to %s is not signed with our secret", path)
            raise NationalError("unavailable", "answer without a valid signature")
        if code == "INVALID":
            raise NationalError("invalid", "; ".join(map(str, answer.get("problems") or []))[:200], retry=False)
        if code == "REFUSED":
            raise NationalError("refused", str(answer.get("detail") or "")[:200], retry=False)
        if code != "OK" or response.status_code != 200:
            raise NationalError("unavailable", f"HTTP {response.status_code} code {code}")
        return answer

    def send(self, message: Message) -> Receipt:
        envelope = message.to_json()
        validate(envelope)
        receipt = self._post("/v1/messages", envelope).get("receipt")
        if not isinstance(receipt, dict) or receipt.get("message_id") != message.message_id:
            raise NationalError("unavailable", "receipt for another message")
        return Receipt(message.message_id, str(receipt.get("accepted_at") or ""), bool(receipt.get("duplicate")))

    def receive(self, *, limit: int = 50) -> list[Message]:
        envelopes = self._post("/v1/inbox", {"limit": limit}).get("messages")
        if not isinstance(envelopes, list):
            raise NationalError("unavailable", "inbox answer without messages")
        received = []
        for envelope in envelopes:
            message = Message.from_json(envelope)  # NationalError("invalid") on a message off the schema
            if message.recipient != self.node:
                raise NationalError("refused", "inbox holds a message for another area", retry=False)
            received.append(message)
        return received

    def acknowledge(self, message_ids: list[str]) -> None:
        if message_ids:
            self._post("/v1/inbox/ack", {"message_ids": list(message_ids)})

    def filings_of(self, id_number: str) -> list[dict[str, Any]]:
        filings = self._post("/v1/query/filings", {"id_number": id_number}).get("filings")
        if not isinstance(filings, list):
            raise NationalError("unavailable", "malformed filings answer")
        return filings

    def enrolments_of(self, id_number: str) -> list[dict[str, Any]]:
        enrolments = self._post("/v1/query/enrolments", {"id_number": id_number}).get("enrolments")
        if not isinstance(enrolments, list):
            raise NationalError("unavailable", "malformed enrolments answer")
        return enrolments

    def health(self) -> Health:
        """A signed ping: the platform answers and accepts our credentials; nothing is sent or received."""
        try:
            self._post("/v1/ping", {})
        except NationalError as exc:
            return Health(False, f"national platform at {self.base}: {exc}")
        return Health(True, f"national platform at {self.base} accepts node {self.node}")
