"""The HTTP adapter of the 电子营业执照 port: the licence service's API, configured by URL, app id and secret.

The protocol (what ``local_server.py`` also speaks), signed as ``portal.integrations.signed_http`` says:

- ``POST {base}/authorizations`` with ``{"credit_code", "grantee_name", "grantee_id_number", "return_url",
  "request_id"}`` answers ``{"code": "OK", "ticket", "authorize_url"}``;
- the browser goes to ``authorize_url``; the service sends it back to ``return_url`` with ``?ticket=…``;
- ``POST {base}/authorizations/result`` with ``{"ticket", "request_id"}`` answers ``{"code": "OK", "status":
  "authorised"|"refused"|"pending", "license": {"credit_code", "name", "legal_rep_name"}, "grantee_id_number"}``
  (``license`` and ``grantee_id_number`` only when authorised).

Refusals: ``INVALID_TICKET`` (unknown or used ticket), ``AUTH_FAILED`` (HTTP 401), ``BUSY`` (HTTP 503).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from .. import Health
from ..signed_http import SignedClient
from . import AuthorisationRequest, License, LicenseServiceError, Outcome, Started

log = logging.getLogger("portal.integrations.business_license")
STATUSES = frozenset({"authorised", "refused", "pending"})


class HttpLicenseService(SignedClient):
    provider = "business licence service"
    log = log

    def __init__(self, base_url: str, app_id: str, secret: str, *, local: bool = False, **kwargs: Any):
        super().__init__(base_url, app_id, secret, **kwargs)
        self.local = local  # the development service this process started (``local`` backend)

    def failure(self, kind: str, detail: str) -> LicenseServiceError:
        return LicenseServiceError(kind, detail)

    def health(self) -> Health:
        health = super().health()
        if self.local:
            return Health(health.ok, f"local 电子营业执照 service (development): {health.detail}")
        return health

    def start(self, request: AuthorisationRequest) -> Started:
        answer = self.post("/authorizations", {
            "credit_code": request.credit_code, "grantee_name": request.grantee_name,
            "grantee_id_number": request.grantee_id_number, "return_url": request.return_url,
            "request_id": uuid.uuid4().hex})
        ticket, url = answer.get("ticket"), answer.get("authorize_url")
        if not isinstance(ticket, str) or not ticket or not isinstance(url, str) or not url.startswith("http"):
            raise LicenseServiceError("unavailable", "malformed start")
        return Started(ticket, url)

    def result(self, ticket: str) -> Outcome:
        answer = self.post("/authorizations/result", {"ticket": ticket, "request_id": uuid.uuid4().hex})
        status = answer.get("status")
        if status not in STATUSES:
            raise LicenseServiceError("unavailable", "malformed status")
        if status != "authorised":
            return Outcome(status)
        data = answer.get("license")
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) and data.get(k)
                                                 for k in ("credit_code", "name", "legal_rep_name")):
            raise LicenseServiceError("unavailable", "malformed licence")
        grantee = answer.get("grantee_id_number")
        return Outcome(status, License(data["credit_code"], data["name"], data["legal_rep_name"]),
                       grantee if isinstance(grantee, str) else None)
