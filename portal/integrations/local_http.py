"""What the local servers of the providers' protocols share (``identity.local_server``,
``business_license.local_server``): a threaded HTTP server on 127.0.0.1 only, and JSON answers, signed as
``signed_http`` says when the server has a ``secret`` and the request a nonce."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .signed_http import answer_headers


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0):
        super().__init__(("127.0.0.1", port), handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> LocalServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class JsonHandler(BaseHTTPRequestHandler):
    def _body(self, limit: int = 1 << 16) -> bytes:
        return self.rfile.read(min(int(self.headers.get("Content-Length") or 0), limit))

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        secret, nonce = getattr(self.server, "secret", None), self.headers.get("X-Nonce")
        if secret and nonce:
            for name, value in answer_headers(secret, nonce, urlsplit(self.path).path, data).items():
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # nothing of a request reaches a log
        pass
