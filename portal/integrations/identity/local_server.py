"""A local HTTP server speaking the identity providers' protocol (see ``http.py``), on 127.0.0.1 only.

Tests run the HTTP adapters against it; a developer can too (``python -m portal.integrations.identity.local_server
APP_ID SECRET``). It checks the signature and its age, and answers as the local adapters do (``local.py``);
a live token ``face-busy`` answers BUSY (HTTP 503).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ..local_http import JsonHandler, LocalServer
from ..signed_http import signature_ok
from . import IdentityProofError
from .local import ecredential, face_verdict

MAX_SKEW_SECONDS = 300


class IdentityServer(LocalServer):
    def __init__(self, app_id: str, secret: str, port: int = 0):
        super().__init__(_Handler, port)
        self.app_id = app_id
        self.secret = secret
        self.seen: list[tuple[str, dict[str, Any]]] = []  # (path, body) of every signed request


class _Handler(JsonHandler):
    server: IdentityServer

    def do_POST(self):
        body = self._body()
        if not signature_ok(self.server.secret, self.server.app_id, self.headers, self.path, body, MAX_SKEW_SECONDS):
            return self._answer(401, {"code": "AUTH_FAILED"})
        try:
            payload = json.loads(body)
        except ValueError:
            return self._answer(400, {"code": "BAD_REQUEST"})
        self.server.seen.append((self.path, payload))
        try:
            if self.path == "/face/verify":
                if payload.get("live_token") == "face-busy":
                    return self._answer(503, {"code": "BUSY"})
                verdict = face_verdict(str(payload.get("id_number")), str(payload.get("live_token")))
                return self._answer(200, {"code": "OK", "verdict": "pass" if verdict.passed else "fail",
                                          "score": verdict.score, "request_id": payload.get("request_id")})
            if self.path == "/ecredential/verify":
                credential = ecredential(str(payload.get("code")))
                return self._answer(200, {"code": "OK", "name": credential.name, "id_number": credential.id_number,
                                          "valid_until": credential.valid_until.isoformat()})
        except IdentityProofError:
            return self._answer(200, {"code": "INVALID_TOKEN" if "face" in self.path else "INVALID_CODE"})
        return self._answer(404, {"code": "NOT_FOUND"})


if __name__ == "__main__":  # pragma: no cover (a developer's tool)
    server = IdentityServer(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 8765)
    print(f"identity provider on {server.base_url}")
    server.serve_forever()
