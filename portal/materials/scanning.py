"""The virus-scan hook of uploads: the antivirus port's verdict becomes the upload's refusal.

The scanner is picked by ``portal.integrations.antivirus`` (``PORTAL_SCAN_BACKEND``: ``none`` by default, or
``clamd``); a configured scanner that cannot give a verdict refuses the upload: it fails closed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app, has_app_context

from ..config import ConfigError
from ..core.translation import gettext as _
from ..integrations import antivirus
from .refusals import UploadRefused, log


def scan(data: bytes, *, config: Mapping[str, Any] | None = None) -> None:
    """Scan ``data`` with the configured virus scanner; raise UploadRefused ``scan_infected`` or, when a scanner
    is configured but cannot give a verdict (unreachable, timed out, error, unknown backend), ``scan_unavailable``.

    Settings come from ``config`` (default: the app's config), else the environment (see the antivirus port).
    """
    try:
        scanner = antivirus.scanner_from_settings(scan_settings(config))
    except ConfigError as exc:
        log.error("%s; refusing uploads", exc)
        raise _scan_unavailable() from None
    try:
        verdict = scanner.scan(data)
    except antivirus.ScanUnavailable as exc:
        log.warning("virus scanner: %s; refusing the upload", exc)
        raise _scan_unavailable() from None
    if verdict.infected:
        log.warning("virus scanner found %s in an upload", verdict.signature)
        raise UploadRefused("scan_infected", _(
            "Our virus check found harmful content in this file, so it was not accepted. Please scan or "
            "photograph the paper document again and upload the new file."))


def scan_settings(config: Mapping[str, Any] | None = None) -> Callable[[str, Any], Any]:
    """``setting(name, default)``: ``PORTAL_<name>`` from ``config`` (default: the app's), else the environment."""
    return antivirus.settings_reader(current_app.config if config is None and has_app_context() else config or {})


def _scan_unavailable() -> UploadRefused:
    return UploadRefused("scan_unavailable", _(
        "We cannot check files for viruses at the moment, so we cannot accept uploads. Please try again in a few "
        "minutes."))
