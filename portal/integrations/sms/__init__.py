"""The SMS port: what the portal asks of a text-message gateway, and the one place that picks the gateway.

Business code calls ``get_gateway().send(phone, template, params, business_id=…, text=…)``:

- ``template`` names the message (``otp_login``, ``otp_lookup``, or a notification event such as ``accepted``);
  real gateways send the provider template configured for it in ``PORTAL_SMS_TEMPLATES`` (approved in advance
  with the signature ``PORTAL_SMS_SIGN_NAME``) filled with ``params`` (strings, in the template's order);
  the development outbox stores ``text``, the message as the portal words it.
- ``business_id`` is our id for the message (a notification delivery's ``delivery-<id>``, a code's
  ``otp-<id>``). It travels as Alibaba Cloud's ``OutId`` and Tencent Cloud's ``SessionContext`` and comes back
  in the provider's records, which is how :meth:`SmsGateway.confirm` tells whether a message we lost track of
  (a worker killed during the call) was accepted.

``PORTAL_SMS_BACKEND`` chooses the adapter: ``outbox`` (development and tests: the ``sms_outbox`` table,
written in the caller's transaction), ``aliyun`` (:mod:`.aliyun`, SDK ``alibabacloud_dysmsapi20170525``) or
``tencent`` (:mod:`.tencent`, SDK ``tencentcloud-sdk-python-sms``). Nothing here logs a phone number or a
message body (S14); the credentials never reach a log line or an exception message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from flask import Flask, current_app

from ...core.errors import DomainError
from ...core.template_ids import template_ids
from ...core.translation import gettext as _
from .. import Health

REAL_BACKENDS = ("aliyun", "tencent")
OTP_TEMPLATES = ("otp_login", "otp_lookup")  # the login and lookup flows cannot work without these two
# and the owner of a record must hear of every binding to it (portal/accounts/binding.py)
REQUIRED_TEMPLATES = (*OTP_TEMPLATES, "binding_active", "binding_pending")


class SmsError(DomainError):
    """The gateway did not take the message.

    ``reason`` is short and holds no personal data (it is stored with the delivery); ``provider_code`` is the
    provider's own code; ``permanent`` says that a retry cannot help (a wrong number, an unapproved template);
    ``uncertain`` says that the request may have reached the provider all the same (a read timeout), so the
    message must be confirmed before it is sent again.
    """

    code = "sms_failed"
    status = 503

    def __init__(self, reason: str, *, provider_code: str | None = None, permanent: bool = False,
                 uncertain: bool = False, request_id: str | None = None):
        super().__init__(_("The text message could not be sent. Please try again in a few minutes."))
        self.reason = reason[:200]
        self.provider_code = provider_code
        self.permanent = permanent
        self.uncertain = uncertain
        self.request_id = request_id

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Receipt:
    """What the provider answered for an accepted message: its id for it (BizId, SerialNo) and its codes."""

    provider: str
    provider_id: str | None = None
    provider_code: str | None = None
    request_id: str | None = None


class Found(StrEnum):
    SENT = "sent"  # the provider has the message under our business id
    NOT_SENT = "not_sent"  # the provider certainly does not: sending it again makes no duplicate
    UNKNOWN = "unknown"  # the provider cannot say: a person decides (see portal.notifications.worker)


@dataclass(frozen=True)
class Confirmation:
    found: Found
    receipt: Receipt | None = None


class SmsGateway(Protocol):
    name: str
    #: True when ``send`` writes in the caller's database transaction (the outbox): a rolled-back transaction
    #: takes the message with it, so a delivery still marked ``sending`` was certainly not sent
    transactional: bool

    def send(self, phone: str, template: str, params: Mapping[str, str], *, business_id: str | None = None,
             text: str = "") -> Receipt:
        """Send one message to the normalised mainland mobile ``phone``; raise :class:`SmsError` if refused."""

    def confirm(self, phone: str, business_id: str, *, since: datetime) -> Confirmation:
        """Whether the provider accepted the message ``business_id`` sent to ``phone`` at or after ``since``;
        raise :class:`SmsError` when the question itself could not be asked (try again later)."""

    def health(self) -> Health:
        """Whether the adapter is configured to send (no message is sent)."""


@dataclass(frozen=True)
class SmsSettings:
    """``PORTAL_SMS_*``, read in one place."""

    backend: str
    key_id: str = ""
    key_secret: str = field(default="", repr=False)
    sign_name: str = ""
    app_id: str = ""  # Tencent's SmsSdkAppId
    region: str = ""
    endpoint: str = ""  # a URL (http://127.0.0.1:8080 in tests); empty: the provider's public endpoint
    templates: tuple[tuple[str, str], ...] = ()
    timeout: float = 10.0

    def template_id(self, template: str) -> str | None:
        """The provider's template id for ``template``; None when there is none (or it is declined)."""
        return dict(self.templates).get(template) or None

    def declines(self, template: str) -> bool:
        """Whether ``PORTAL_SMS_TEMPLATES`` maps ``template`` to "": the operator chose to send it without a text
        message (a notification event then reaches the inbox, and WeChat where the user subscribed)."""
        return dict(self.templates).get(template) == ""


def parse_templates(raw: str) -> dict[str, str]:
    """``PORTAL_SMS_TEMPLATES``: a JSON object, message name → provider template id ("" sends it without text)."""
    return template_ids(raw, setting="PORTAL_SMS_TEMPLATES", meaning="message name → template id",
                        example='{"otp_login": "SMS_123456789"}', allow_empty=True)


def settings(config: Mapping[str, Any]) -> SmsSettings:
    return SmsSettings(
        backend=config.get("PORTAL_SMS_BACKEND", "outbox"), key_id=config.get("PORTAL_SMS_KEY_ID", ""),
        key_secret=config.get("PORTAL_SMS_KEY_SECRET", ""), sign_name=config.get("PORTAL_SMS_SIGN_NAME", ""),
        app_id=config.get("PORTAL_SMS_APP_ID", ""), region=config.get("PORTAL_SMS_REGION", ""),
        endpoint=config.get("PORTAL_SMS_ENDPOINT", ""),
        templates=tuple(sorted(parse_templates(config.get("PORTAL_SMS_TEMPLATES", "")).items())),
        timeout=float(config.get("PORTAL_SMS_TIMEOUT_SECONDS", 10)))


def problems(config: Mapping[str, Any], *, production: bool) -> list[str]:
    """What keeps the configured gateway from sending; ``portal.config`` refuses to start on any of them."""
    backend = config.get("PORTAL_SMS_BACKEND", "outbox")
    if backend not in BACKENDS:
        return [f"PORTAL_SMS_BACKEND={backend!r} names no SMS gateway; choose one of {', '.join(BACKENDS)}"]
    if backend == "outbox":
        return ["PORTAL_SMS_BACKEND must name a real SMS gateway (aliyun or tencent), not the development "
                "outbox"] if production else []
    try:
        chosen = settings(config)
    except ValueError as exc:
        return [str(exc)]
    found = []
    needed = [("PORTAL_SMS_KEY_ID", chosen.key_id), ("PORTAL_SMS_KEY_SECRET", chosen.key_secret),
              ("PORTAL_SMS_SIGN_NAME", chosen.sign_name)]
    if backend == "tencent":
        needed.append(("PORTAL_SMS_APP_ID", chosen.app_id))
    missing = [name for name, value in needed if not value]
    if missing:
        found.append(f"PORTAL_SMS_BACKEND={backend} needs {', '.join(missing)}")
    lacking = [name for name in REQUIRED_TEMPLATES if not chosen.template_id(name)]
    if lacking:
        found.append(f"PORTAL_SMS_TEMPLATES must give the {backend} template id of {', '.join(lacking)}")
    return found


def _outbox(_settings: SmsSettings) -> SmsGateway:
    from .outbox import OutboxGateway

    return OutboxGateway()


def _aliyun(chosen: SmsSettings) -> SmsGateway:
    from .aliyun import AliyunGateway

    return AliyunGateway(chosen)


def _tencent(chosen: SmsSettings) -> SmsGateway:
    from .tencent import TencentGateway

    return TencentGateway(chosen)


BACKENDS: dict[str, Callable[[SmsSettings], SmsGateway]] = {"outbox": _outbox, "aliyun": _aliyun,
                                                            "tencent": _tencent}


def sends(template: str, app: Flask | None = None) -> bool:
    """Whether messages named ``template`` go out by SMS at all: not declined in ``PORTAL_SMS_TEMPLATES``."""
    app = app or current_app._get_current_object()
    return not settings(app.config).declines(template)


def get_gateway(app: Flask | None = None) -> SmsGateway:
    """The gateway ``PORTAL_SMS_BACKEND`` names, built once per configuration and kept on the app."""
    app = app or current_app._get_current_object()
    chosen = settings(app.config)
    try:
        factory = BACKENDS[chosen.backend]
    except KeyError:
        raise RuntimeError(f"PORTAL_SMS_BACKEND={chosen.backend!r} names no SMS gateway") from None
    cache: dict[tuple[SmsSettings, Any], SmsGateway] = app.extensions.setdefault("portal_sms_gateways", {})
    key = (chosen, factory)
    if key not in cache:
        cache[key] = factory(chosen)
    return cache[key]


def outbox_messages(limit: int = 20, phone: str | None = None) -> list[Any]:
    """The newest messages of the development outbox, newest first (``portal sms outbox``, ``/dev/outbox``)."""
    from .outbox import outbox_messages as newest

    return newest(limit, phone)
