"""Request signing shared by the HTTP adapters whose providers authenticate us by a shared secret (the identity
providers, the national platform): hex HMAC-SHA256 of ``timestamp \\n nonce \\n path \\n sha256(body)``."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, timestamp: str, nonce: str, path: str, body: bytes) -> str:
    message = "\n".join((timestamp, nonce, path, hashlib.sha256(body).hexdigest())).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def matches(secret: str, timestamp: str, nonce: str, path: str, body: bytes, given: str) -> bool:
    """Whether ``given`` is the signature of the request (compared in constant time)."""
    return hmac.compare_digest(signature(secret, timestamp, nonce, path, body), given or "")
