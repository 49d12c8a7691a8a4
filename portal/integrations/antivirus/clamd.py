"""ClamAV's daemon (clamd) over TCP: ``zINSTREAM`` for a file, ``zPING`` for health.

INSTREAM sends the file in chunks, each prefixed with its length as a 4-byte big-endian number, ended by a zero
length; clamd answers ``stream: OK``, ``stream: <signature> FOUND`` or ``... ERROR``, NUL-terminated. clamd's
StreamMaxLength must be at least the largest file allowed, or every large file is refused as unavailable.
"""

from __future__ import annotations

import socket
import struct
import time

from .. import Health
from . import ScanUnavailable, Verdict

CHUNK = 64 * 1024
REPLY_MAX = 4096
PING_TIMEOUT = 5.0


class ClamdScanner:
    name = "clamd"

    def __init__(self, host: str, port: int, timeout: float):
        self.host = host
        self.port = port
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<ClamdScanner {self.host}:{self.port}>"

    def scan(self, data: bytes) -> Verdict:
        try:
            reply = self._exchange(b"zINSTREAM\x00", data, self.timeout)
        except (OSError, TimeoutError) as exc:
            raise ScanUnavailable(f"clamd at {self.host}:{self.port} unavailable: {exc.__class__.__name__}") from None
        if reply.endswith(" FOUND"):
            return Verdict(True, reply.removeprefix("stream:").removesuffix(" FOUND").strip()[:200])
        if not reply.endswith(" OK"):
            raise ScanUnavailable(f"clamd answered {reply[:200]!r}")
        return Verdict(False)

    def health(self) -> Health:
        try:
            reply = self._exchange(b"zPING\x00", None, min(self.timeout, PING_TIMEOUT))
        except (OSError, TimeoutError) as exc:
            return Health(False, f"clamd at {self.host}:{self.port} unreachable: {exc.__class__.__name__}")
        if reply != "PONG":
            return Health(False, f"clamd at {self.host}:{self.port} answered {reply[:80]!r} to PING")
        return Health(True, f"clamd at {self.host}:{self.port} answers")

    def _exchange(self, command: bytes, data: bytes | None, timeout: float) -> str:
        """Send ``command`` (and ``data`` as an INSTREAM body) and return clamd's reply; ``timeout`` bounds the
        whole exchange. Raise OSError (TimeoutError when the time is up)."""
        deadline = time.monotonic() + timeout

        def remaining() -> float:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("clamd took too long")
            return left

        with socket.create_connection((self.host, self.port), timeout=remaining()) as sock:
            sock.settimeout(remaining())
            sock.sendall(command)
            if data is not None:
                view = memoryview(data)
                for start in range(0, len(view), CHUNK):
                    chunk = view[start : start + CHUNK]
                    sock.settimeout(remaining())
                    sock.sendall(struct.pack(">I", len(chunk)))
                    sock.sendall(chunk)
                sock.settimeout(remaining())
                sock.sendall(struct.pack(">I", 0))
            reply = bytearray()
            while b"\x00" not in reply and len(reply) < REPLY_MAX:
                sock.settimeout(remaining())
                received = sock.recv(1024)
                if not received:
                    break
                reply += received
        return reply.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
