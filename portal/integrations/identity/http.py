"""The HTTP adapters of the identity port: a provider's API, configured by URL, app id and secret.

The protocol (what ``local_server.py`` also speaks): ``POST {base}/face/verify`` with
``{"name", "id_number", "live_token", "request_id"}`` answers ``{"code": "OK", "verdict": "pass"|"fail",
"score": 0-100, "request_id"}``; ``POST {base}/ecredential/verify`` with ``{"code", "request_id"}`` answers
``{"code": "OK", "name", "id_number", "valid_until": "YYYY-MM-DD"}``. Refusals answer ``{"code": "INVALID_TOKEN"}``
(or ``INVALID_CODE``), ``AUTH_FAILED`` (HTTP 401) or ``BUSY`` (HTTP 503).

Every request and every answer is signed as ``portal.integrations.signed_http`` says (shared with the 电子营业执照
adapter): an answer not signed for the very request is not believed.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date

from ..signed_http import SignedClient, signature
from . import ECredential, FaceVerdict, IdentityProofError

__all__ = ["HttpECredentialVerifier", "HttpFaceVerifier", "signature"]

log = logging.getLogger("portal.integrations.identity")


class _SignedClient(SignedClient):
    provider = "identity provider"
    log = log

    def failure(self, kind: str, detail: str) -> IdentityProofError:
        return IdentityProofError(kind, detail)


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
