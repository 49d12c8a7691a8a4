"""The hub over HTTP (``PROTOCOL.md``): a WSGI application in front of :class:`~.hub.Hub`, for several portal
deployments at once and for the tests of the HTTP adapter. ``portal national hub`` serves it on 127.0.0.1.

It knows each area by its node code and secret (a JSON file ``{"220100": "secret", …}``), checks every request's
signature, its age and its nonce (a replayed request is refused), validates every message against the schemas and
signs every answer with the caller's secret. Nothing of a body is logged.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from . import NationalError
from .http import MAX_SKEW_SECONDS, is_signed, signed_headers
from .hub import Hub

MAX_BODY = 1 << 20


class HubApp:
    def __init__(self, hub: Hub, secrets: dict[str, str]):
        self.hub = hub
        self._secrets = dict(secrets)
        self._nonces: dict[str, float] = {}
        self._nonce_lock = threading.Lock()
        self.paused = False  # tests: answer BUSY (HTTP 503) to everything, as a platform under maintenance

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.answer(Request(environ))(environ, start_response)

    def _fresh_nonce(self, nonce: str) -> bool:
        now = time.time()
        with self._nonce_lock:
            for old in [n for n, at in self._nonces.items() if now - at > 2 * MAX_SKEW_SECONDS]:
                del self._nonces[old]
            if not nonce or nonce in self._nonces:
                return False
            self._nonces[nonce] = now
            return True

    def answer(self, request: Request) -> Response:
        node = request.headers.get("X-Node", "")
        secret = self._secrets.get(node)
        body = request.get_data(cache=False)[:MAX_BODY] if request.method == "POST" else b""
        if (request.method != "POST" or secret is None or not is_signed(secret, request.path, body, request.headers)
                or not self._fresh_nonce(request.headers.get("X-Nonce", ""))):
            return self._json(401, {"code": "AUTH_FAILED"})
        if self.paused:
            return self._json(503, {"code": "BUSY"}, node, secret, request.path)
        try:
            payload = json.loads(body)
        except ValueError:
            return self._json(400, {"code": "INVALID", "problems": ["(root): not JSON"]}, node, secret, request.path)
        try:
            status, answer = 200, {"code": "OK", **self._route(request.path, node, payload)}
        except NationalError as error:
            if error.kind == "invalid":
                status, answer = 422, {"code": "INVALID", "problems": error.detail.split("; ")}
            else:
                status, answer = 409, {"code": "REFUSED", "detail": error.detail}
        except LookupError:
            status, answer = 404, {"code": "NOT_FOUND"}
        return self._json(status, answer, node, secret, request.path)

    def _route(self, path: str, node: str, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise NationalError("invalid", "(root): not an object", retry=False)
        if path == "/v1/ping":
            return {"node": node}
        if path == "/v1/messages":
            return {"receipt": self.hub.accept(node, payload)}
        if path == "/v1/inbox":
            limit = payload.get("limit", 50)
            return {"messages": self.hub.inbox(node, limit if isinstance(limit, int) else 50)}
        if path == "/v1/inbox/ack":
            ids = [i for i in payload.get("message_ids") or [] if isinstance(i, str)]
            return {"acknowledged": self.hub.acknowledge(node, ids)}
        if path in ("/v1/query/filings", "/v1/query/enrolments"):
            id_number = payload.get("id_number")
            if not isinstance(id_number, str) or not id_number:
                raise NationalError("invalid", "id_number: missing field", retry=False)
            if path.endswith("filings"):
                return {"filings": self.hub.filings(id_number)}
            return {"enrolments": self.hub.enrolments(id_number)}
        raise LookupError(path)

    @staticmethod
    def _json(status: int, payload: dict[str, Any], node: str = "", secret: str | None = None,
              path: str = "") -> Response:
        data = json.dumps(payload, ensure_ascii=False).encode()
        headers = signed_headers(node, secret, path, data) if secret is not None else {"Content-Type":
                                                                                      "application/json"}
        return Response(data, status=status, headers=headers)


def serve(store: str, secrets: dict[str, str], host: str = "127.0.0.1", port: int = 0) -> tuple[BaseWSGIServer, HubApp]:
    """A threaded server of the hub (not yet started: ``serve_forever`` it, e.g. in a thread)."""
    app = HubApp(Hub(store, frozenset(secrets)), secrets)
    return make_server(host, port, app, threaded=True), app


def load_nodes(path: str) -> dict[str, str]:
    """The areas the hub serves: a JSON object of node code → secret."""
    with open(path, encoding="utf-8") as handle:
        nodes = json.load(handle)
    if not isinstance(nodes, dict) or not all(isinstance(k, str) and isinstance(v, str) and len(v) >= 16
                                              for k, v in nodes.items()):
        raise ValueError("the nodes file must be a JSON object of area code to a secret of at least 16 characters")
    return nodes
