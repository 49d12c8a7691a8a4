"""The virus-scan hook: no-op by default; with clamd configured, INSTREAM over TCP, failing closed when the
scanner cannot give a verdict."""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _

from .refusals import UploadRefused, log

_CLAMD_CHUNK = 64 * 1024
_CLAMD_REPLY_MAX = 4096


def scan(data: bytes, *, config: Mapping[str, Any] | None = None) -> None:
    """Scan ``data`` with the configured virus scanner; raise UploadRefused ``scan_infected`` or, when a scanner
    is configured but cannot give a verdict (unreachable, timed out, error, unknown backend), ``scan_unavailable``:
    it fails closed.

    Settings, from ``config`` (default: the app's config), else the environment: ``PORTAL_SCAN_BACKEND``
    ``none`` (default) or ``clamd``; ``PORTAL_CLAMD_HOST`` (127.0.0.1), ``PORTAL_CLAMD_PORT`` (3310),
    ``PORTAL_CLAMD_TIMEOUT`` seconds for the whole scan (30). clamd's StreamMaxLength must be at least the
    largest file allowed, or every large file is refused as scan_unavailable.
    """
    settings = _scan_settings(config)
    backend = str(settings("SCAN_BACKEND", "none")).strip().lower()
    if backend in ("", "none"):
        return
    if backend != "clamd":
        log.error("PORTAL_SCAN_BACKEND=%r names no virus scanner; refusing uploads", backend)
        raise _scan_unavailable()
    try:
        host = str(settings("CLAMD_HOST", "127.0.0.1"))
        port = int(settings("CLAMD_PORT", 3310))
        timeout = float(settings("CLAMD_TIMEOUT", 30))
    except (TypeError, ValueError):
        log.error("PORTAL_CLAMD_PORT or PORTAL_CLAMD_TIMEOUT is not a number; refusing uploads")
        raise _scan_unavailable() from None
    try:
        reply = clamd_instream(data, host, port, timeout)
    except (OSError, TimeoutError) as exc:
        log.warning("virus scanner at %s:%d unavailable: %s", host, port, exc.__class__.__name__)
        raise _scan_unavailable() from None
    if reply.endswith(" FOUND"):
        signature = reply.removeprefix("stream:").removesuffix(" FOUND").strip()
        log.warning("virus scanner found %s in an upload", signature[:200])
        raise UploadRefused("scan_infected", _(
            "Our virus check found harmful content in this file, so it was not accepted. Please scan or "
            "photograph the paper document again and upload the new file."))
    if not reply.endswith(" OK"):
        log.warning("virus scanner answered %r; refusing the upload", reply[:200])
        raise _scan_unavailable()


def _scan_settings(config: Mapping[str, Any] | None) -> Callable[[str, Any], Any]:
    if config is None:
        config = current_app.config if has_app_context() else {}

    def setting(name: str, default: Any) -> Any:
        value = config.get(f"PORTAL_{name}")
        if value is None:
            value = os.environ.get(f"PORTAL_{name}")
        return default if value is None else value

    return setting


def _scan_unavailable() -> UploadRefused:
    return UploadRefused("scan_unavailable", _(
        "We cannot check files for viruses at the moment, so we cannot accept uploads. Please try again in a few "
        "minutes."))


def clamd_instream(data: bytes, host: str, port: int, timeout: float) -> str:
    """Send ``data`` to clamd with the INSTREAM command and return its reply ("stream: OK",
    "stream: <signature> FOUND", or "... ERROR"). ``timeout`` bounds the whole exchange; raises OSError."""
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("virus scan took too long")
        return left

    with socket.create_connection((host, port), timeout=remaining()) as sock:
        sock.settimeout(remaining())
        sock.sendall(b"zINSTREAM\x00")
        view = memoryview(data)
        for start in range(0, len(view), _CLAMD_CHUNK):
            chunk = view[start : start + _CLAMD_CHUNK]
            sock.settimeout(remaining())
            sock.sendall(struct.pack(">I", len(chunk)))
            sock.sendall(chunk)
        sock.settimeout(remaining())
        sock.sendall(struct.pack(">I", 0))
        reply = bytearray()
        while b"\x00" not in reply and len(reply) < _CLAMD_REPLY_MAX:
            sock.settimeout(remaining())
            received = sock.recv(1024)
            if not received:
                break
            reply += received
    return reply.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
