"""The local adapter of the antivirus port: no scanner, every file is clean (``PORTAL_SCAN_BACKEND=none``).

For development and for deployments that scan elsewhere; ``portal doctor`` says that uploads are not scanned.
"""

from __future__ import annotations

from .. import Health
from . import Verdict


class PassThroughScanner:
    name = "none"

    def scan(self, data: bytes) -> Verdict:
        return Verdict(infected=False)

    def health(self) -> Health:
        return Health(True, "no virus scanner configured (PORTAL_SCAN_BACKEND=none): uploads are not scanned")
