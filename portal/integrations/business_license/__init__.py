"""The 电子营业执照 (electronic business licence) port: a unit proves online that the person registering may act
for it.

The licence holder (the legal representative, or whoever holds the licence in the 电子营业执照 app) authorises
a named person to act for the unit. The flow is a redirect, as the national licence system's relying parties use:

1. ``start(request)`` — the portal asks the service for an authorisation of ``grantee_*`` by the licence of
   ``credit_code`` and gets a ``ticket`` and the ``authorize_url`` to send the browser to;
2. the holder confirms there (in production: scanning with the licence app) and the service sends the browser back
   to ``return_url?ticket=…``;
3. ``result(ticket)`` — the portal asks what came of it: ``authorised`` with the licence's data (credit code,
   registered name, legal representative), ``refused``, or still ``pending``.

Adapters: ``http.py`` (the real service, configured by ``PORTAL_BUSINESS_LICENSE_API_BASE`` / ``_APP_ID`` /
``_SECRET``) and ``local`` (development): the same HTTP adapter talking to ``local_server.py``, started inside the
process on 127.0.0.1. Tests run ``local_server.LicenseServer`` and the ``http`` adapter against it. The business
code calls ``license_service(app)`` only — the one place that picks an adapter. S14: no name, ID number or ticket
reaches a log line or an exception message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from flask import Flask

from ...config import ConfigError
from ...core.errors import DomainError
from ...core.translation import lazy_gettext as _l
from .. import Health

BACKENDS = ("local", "http", "off")


@dataclass(frozen=True)
class AuthorisationRequest:
    credit_code: str
    grantee_name: str = field(repr=False)
    grantee_id_number: str = field(repr=False)
    return_url: str


@dataclass(frozen=True)
class Started:
    ticket: str = field(repr=False)
    authorize_url: str = field(repr=False)


@dataclass(frozen=True)
class License:
    """What the licence says about the unit."""

    credit_code: str
    name: str
    legal_rep_name: str = field(repr=False)


@dataclass(frozen=True)
class Outcome:
    status: str  # authorised | refused | pending
    license: License | None = None
    grantee_id_number: str | None = field(default=None, repr=False)  # whom the holder authorised


class LicenseServiceError(DomainError):
    """The service gave no answer we can use (unreachable, refused our credentials, unknown ticket)."""

    code = "business_license_failed"
    status = 503

    _MESSAGES: ClassVar[dict[str, Any]] = {
        "invalid_token": _l("The authorisation with the electronic business licence has expired or was already "
                            "used. Please start again."),
        "unavailable": _l("The electronic business licence service cannot be reached right now. Please try again "
                          "later, or register with a signed letter of authorisation."),
        "disabled": _l("Registration with the electronic business licence is not available here. Please register "
                       "with a signed letter of authorisation."),
    }

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(str(self._MESSAGES.get(kind, self._MESSAGES["unavailable"])), code=f"license_{kind}")
        self.status = {"invalid_token": 422, "disabled": 404}.get(kind, 503)
        self.kind = kind
        self.detail = detail


class LicenseService(Protocol):
    def start(self, request: AuthorisationRequest) -> Started:
        """Ask for the licence holder's authorisation of the grantee; returns the ticket and where to send them."""

    def result(self, ticket: str) -> Outcome:
        """What came of the authorisation behind ``ticket``."""

    def health(self) -> Health:
        """Whether the service can be reached (nothing is asked of it)."""


def _local(app: Flask) -> LicenseService:
    import secrets

    from .http import HttpLicenseService
    from .local_server import LicenseServer

    server = LicenseServer("local-dev", secrets.token_hex(16)).start()
    app.extensions["portal_license_server"] = server
    return HttpLicenseService(server.base_url, server.app_id, server.secret, local=True)


def license_service(app: Flask) -> LicenseService | None:
    """The app's licence adapter, built once; None when the 电子营业执照 path is off."""
    from .http import HttpLicenseService

    if "portal_business_license" not in app.extensions:
        config = app.config
        backend = config.get("PORTAL_BUSINESS_LICENSE_BACKEND") or "local"
        if backend == "off":
            service = None
        elif backend == "local":
            service = _local(app)
        elif backend == "http":
            base, app_id, secret = (config.get(f"PORTAL_BUSINESS_LICENSE_{k}") for k in ("API_BASE", "APP_ID",
                                                                                         "SECRET"))
            if not (base and app_id and secret):
                raise ConfigError("PORTAL_BUSINESS_LICENSE_API_BASE, PORTAL_BUSINESS_LICENSE_APP_ID and "
                                  "PORTAL_BUSINESS_LICENSE_SECRET must be set when "
                                  "PORTAL_BUSINESS_LICENSE_BACKEND=http")
            service = HttpLicenseService(base, app_id, secret)
        else:
            raise ConfigError(f"PORTAL_BUSINESS_LICENSE_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
        app.extensions["portal_business_license"] = service
    return app.extensions["portal_business_license"]
