"""Proving who a person is, for real-name binding: face verification (人脸核身) and the 医保电子凭证.

Two ports, each with an HTTP adapter (``http.py``: a provider's API, configured by URL and credentials) and a
local one (``local.py``: development, no network). ``local_server.py`` serves the HTTP protocol on 127.0.0.1 so
the HTTP adapter can run for real in tests and in development. ``face_verifier(app)`` and
``ecredential_verifier(app)`` pick the adapter from ``PORTAL_FACE_BACKEND`` / ``PORTAL_ECREDENTIAL_BACKEND``
(``local``, ``http`` or ``off``) — the one place that does.

S14: an ID number, a name or a live token never reaches a log line or an exception message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Protocol

from flask import Flask

from ...config import ConfigError
from ...core.errors import DomainError
from ...core.translation import lazy_gettext as _l
from .. import Health

BACKENDS = ("local", "http", "off")


@dataclass(frozen=True)
class FaceVerdict:
    """The provider's answer: whether the live face is the person of (name, ID number), and how sure it is."""

    passed: bool
    score: float  # 0-100
    request_id: str = ""


@dataclass(frozen=True)
class ECredential:
    """Who a 医保电子凭证 belongs to, as its issuer says, and until when the credential is valid."""

    name: str = field(repr=False)
    id_number: str = field(repr=False)
    valid_until: date | None = None


class IdentityProofError(DomainError):
    """The provider gave no verdict (unreachable, refused our credentials, the token or code was invalid)."""

    code = "identity_proof_failed"
    status = 502

    _MESSAGES: ClassVar[dict[str, Any]] = {
        "invalid_token": _l("The verification has expired or was already used. Please start it again."),
        "unavailable": _l("The verification service cannot be reached right now. Please try again later, or bring "
                          "your ID card to the service hall."),
        "disabled": _l("This way of proving who you are is not available here. Please choose another."),
    }

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(str(self._MESSAGES.get(kind, self._MESSAGES["unavailable"])), code=f"identity_{kind}")
        self.status = {"invalid_token": 422, "disabled": 404}.get(kind, 503)
        self.kind = kind
        self.detail = detail  # for logs: never personal data


class FaceVerifier(Protocol):
    def verify(self, name: str, id_number: str, live_token: str) -> FaceVerdict:
        """Compare the live capture behind ``live_token`` with the photo on record of (name, ID number)."""

    def health(self) -> Health:
        """Whether the provider can be reached (no verification is asked for: each one is billed and logged)."""


class ECredentialVerifier(Protocol):
    def verify(self, code: str) -> ECredential:
        """Resolve a 医保电子凭证 code (the QR the 国家医保服务平台 app shows) to its holder."""

    def health(self) -> Health:
        """Whether the provider can be reached (no code is resolved)."""


def _build(config: Any, prefix: str, local: Any, http: Any) -> Any:
    backend = config.get(f"PORTAL_{prefix}_BACKEND") or "local"
    if backend == "off":
        return None
    if backend == "local":
        return local()
    if backend == "http":
        base, app_id, secret = (config.get(f"PORTAL_{prefix}_{k}") for k in ("API_BASE", "APP_ID", "SECRET"))
        if not (base and app_id and secret):
            raise ConfigError(f"PORTAL_{prefix}_API_BASE, PORTAL_{prefix}_APP_ID and PORTAL_{prefix}_SECRET must be "
                              f"set when PORTAL_{prefix}_BACKEND=http")
        return http(base, app_id, secret)
    raise ConfigError(f"PORTAL_{prefix}_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")


def face_verifier(app: Flask) -> FaceVerifier | None:
    """The app's face verifier, built once; None when face verification is off."""
    from .http import HttpFaceVerifier
    from .local import LocalFaceVerifier

    if "portal_face" not in app.extensions:
        app.extensions["portal_face"] = _build(app.config, "FACE", LocalFaceVerifier, HttpFaceVerifier)
    return app.extensions["portal_face"]


def ecredential_verifier(app: Flask) -> ECredentialVerifier | None:
    """The app's 医保电子凭证 verifier, built once; None when it is off."""
    from .http import HttpECredentialVerifier
    from .local import LocalECredentialVerifier

    if "portal_ecredential" not in app.extensions:
        app.extensions["portal_ecredential"] = _build(app.config, "ECREDENTIAL", LocalECredentialVerifier,
                                                      HttpECredentialVerifier)
    return app.extensions["portal_ecredential"]
