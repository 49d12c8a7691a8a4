"""A local clamd on 127.0.0.1 speaking ClamAV's TCP protocol (``zINSTREAM`` and ``zPING``), for the antivirus
adapter and the upload checks that use it."""

from __future__ import annotations

import socket
import socketserver
import struct
from collections.abc import Iterator

from tests.servers import in_thread

VIRUS_MARKER = b"FAKE-VIRUS-FOR-TESTS"  # what this clamd flags (no real signature kept in the repo)


class FakeClamd(socketserver.ThreadingTCPServer):
    """``mode``: "scan" (flags VIRUS_MARKER), "error" (an ERROR answer) or "silent" (never answers).
    ``received`` records (command, payload, number of chunks) per INSTREAM connection."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ClamdHandler)
        self.mode = "scan"
        self.received: list[tuple[bytes, bytes, int]] = []

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def config(self) -> dict:
        return {"PORTAL_SCAN_BACKEND": "clamd", "PORTAL_CLAMD_HOST": "127.0.0.1", "PORTAL_CLAMD_PORT": self.port,
                "PORTAL_CLAMD_TIMEOUT": 2}


class _ClamdHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: FakeClamd = self.server  # type: ignore[assignment]
        self.request.settimeout(5)
        with self.request.makefile("rb") as stream:
            command = bytearray()
            while (byte := stream.read(1)) not in (b"\0", b""):
                command += byte
            if server.mode == "silent":
                stream.read(1)  # until the client gives up and closes
                return
            if command == b"zPING":
                self.request.sendall(b"PONG\0" if server.mode == "scan" else b"UNKNOWN COMMAND\0")
                return
            chunks = []
            while True:
                (size,) = struct.unpack(">I", stream.read(4))
                if size == 0:
                    break
                chunks.append(stream.read(size))
            payload = b"".join(chunks)
            server.received.append((bytes(command), payload, len(chunks)))
            if server.mode == "error":
                reply = b"INSTREAM size limit exceeded. ERROR\0"
            elif VIRUS_MARKER in payload:
                reply = b"stream: Eicar-Test-Signature FOUND\0"
            else:
                reply = b"stream: OK\0"
            self.request.sendall(reply)


def running_clamd() -> Iterator[FakeClamd]:
    """A started FakeClamd, stopped when the generator is closed (use as a fixture body)."""
    yield from in_thread(FakeClamd())


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
