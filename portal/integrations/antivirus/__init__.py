"""The antivirus port: a verdict on one uploaded file, and the one place that picks the scanner.

Business code (``portal.materials.scanning``) calls ``scanner_from_settings(setting).scan(data)``: the answer is a
:class:`Verdict` (clean, or infected with the scanner's signature name); a scanner that cannot give one (unreachable,
timed out, an error answer) raises :class:`ScanUnavailable`, and the upload is refused: it fails closed.

``PORTAL_SCAN_BACKEND`` chooses the adapter: ``none`` (the default: :mod:`.local`, which accepts every file, for
development and deployments without a scanner) or ``clamd`` (:mod:`.clamd`, ClamAV's daemon over TCP with the
INSTREAM command; ``PORTAL_CLAMD_HOST`` 127.0.0.1, ``PORTAL_CLAMD_PORT`` 3310, ``PORTAL_CLAMD_TIMEOUT`` seconds for
the whole scan, 30). Anything else is a :class:`~portal.config.ConfigError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ...config import ConfigError
from .. import Health

BACKENDS = ("none", "clamd")


@dataclass(frozen=True)
class Verdict:
    infected: bool
    signature: str = ""  # the scanner's name for what it found (e.g. "Eicar-Test-Signature")


class ScanUnavailable(Exception):
    """The scanner gave no verdict; the message says why, for logs (no file content)."""


class Scanner(Protocol):
    name: str

    def scan(self, data: bytes) -> Verdict:
        """Scan one file's bytes; raise :class:`ScanUnavailable` when no verdict can be had."""

    def health(self) -> Health:
        """Whether the scanner answers (no file is scanned)."""


def settings_reader(config: Mapping[str, Any]) -> Callable[[str, Any], Any]:
    """``setting(name, default)``: ``PORTAL_<name>`` from ``config``, else from the environment, else ``default``."""

    def setting(name: str, default: Any) -> Any:
        value = config.get(f"PORTAL_{name}")
        if value is None:
            value = os.environ.get(f"PORTAL_{name}")
        return default if value is None else value

    return setting


def scanner_from_settings(setting: Callable[[str, Any], Any]) -> Scanner:
    """The scanner ``PORTAL_SCAN_BACKEND`` names; ``setting(name, default)`` reads ``PORTAL_<name>``. Raise
    ConfigError for an unknown backend or a port or timeout that is not a number."""
    backend = str(setting("SCAN_BACKEND", "none")).strip().lower()
    if backend in ("", "none"):
        from .local import PassThroughScanner

        return PassThroughScanner()
    if backend != "clamd":
        raise ConfigError(f"PORTAL_SCAN_BACKEND={backend!r} names no virus scanner; choose one of "
                          f"{', '.join(BACKENDS)}")
    try:
        host = str(setting("CLAMD_HOST", "127.0.0.1"))
        port = int(setting("CLAMD_PORT", 3310))
        timeout = float(setting("CLAMD_TIMEOUT", 30))
    except (TypeError, ValueError):
        raise ConfigError("PORTAL_CLAMD_PORT or PORTAL_CLAMD_TIMEOUT is not a number") from None
    from .clamd import ClamdScanner

    return ClamdScanner(host, port, timeout)
