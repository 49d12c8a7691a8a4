"""The national medical-security platform (国家医保服务平台): the port through which pooling areas exchange the
documents of 转移接续 and report 异地就医备案, and ask what other areas know of a person.

The protocol is written down in ``PROTOCOL.md`` beside this file; every message is an envelope
(``schemas/envelope.schema.json``) around a body of one documented type (``schemas/<type>.schema.json``), checked
against its schema when it is sent and when it is received, on both sides. A message's ``message_id`` is its
idempotency key: sending it again is the same message (the platform answers with the first receipt).

Adapters (``get_national(app)`` picks one from ``PORTAL_NATIONAL_BACKEND``):

- ``local`` (development): the hub (``hub.py``) in this process, kept in a SQLite file that every deployment on the
  machine shares (``PORTAL_NATIONAL_HUB_PATH``), so two portals on one laptop exchange real messages.
- ``http``: the platform over HTTPS (``http.py``), configured by ``PORTAL_NATIONAL_URL``, this area's node code and
  ``PORTAL_NATIONAL_SECRET``; every request and every answer is signed (HMAC-SHA256). ``portal national hub`` serves
  the hub over the same HTTP protocol (``hub_server.py``) for several deployments and for the tests.
- ``off``: no platform; what would be sent waits in the outbox.

Business code imports this module (``Message``, ``NationalPlatform``, the errors, ``get_national``), never an
adapter. S14: an ID number or a name never reaches a log line or an exception message.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, ClassVar, Protocol

from flask import Flask

from ...config import ConfigError
from ...core import clock
from ...core.errors import DomainError
from ...core.translation import lazy_gettext as _l
from .. import Health

SCHEMA_VERSION = "1"
BACKENDS = ("local", "http", "off")
MESSAGE_TYPES = ("contact_letter", "contact_letter_rejection", "information_sheet", "fund_transfer",
                 "transfer_completed", "filing_report")
NATIONAL = "national"  # the recipient of what the platform itself keeps (filing reports)


class NationalError(DomainError):
    """The platform did not take or give a message. ``retry`` says whether trying again later may succeed."""

    code = "national_platform"
    status = 503

    _MESSAGES: ClassVar[dict[str, Any]] = {
        "unavailable": _l("The national medical-security platform cannot be reached right now; it will be tried "
                          "again."),
        "refused": _l("The national medical-security platform refused the message."),
        "invalid": _l("The message does not follow the national platform's documented format."),
        "disabled": _l("No national platform is configured for this deployment."),
    }

    def __init__(self, kind: str, detail: str = "", *, retry: bool | None = None):
        super().__init__(str(self._MESSAGES.get(kind, self._MESSAGES["unavailable"])), code=f"national_{kind}")
        self.kind = kind
        self.detail = detail[:200]  # for logs and the outbox row: codes and paths, never personal data
        self.retry = kind == "unavailable" if retry is None else retry

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


@dataclass(frozen=True)
class Message:
    """One message: who sends it to whom, of which documented type, with its body (checked against the schema)."""

    type: str
    sender: str
    recipient: str
    body: dict[str, Any] = field(repr=False)
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    sent_at: str = field(default_factory=lambda: clock.now().isoformat(timespec="seconds"))
    in_reply_to: str | None = None

    def to_json(self) -> dict[str, Any]:
        envelope = {"schema_version": SCHEMA_VERSION, "message_id": self.message_id, "type": self.type,
                    "sender": self.sender, "recipient": self.recipient, "sent_at": self.sent_at, "body": self.body}
        if self.in_reply_to:
            envelope["in_reply_to"] = self.in_reply_to
        return envelope

    @classmethod
    def from_json(cls, envelope: Any) -> Message:
        """A message from its envelope, after checking envelope and body; NationalError("invalid") otherwise."""
        validate(envelope)
        return cls(type=envelope["type"], sender=envelope["sender"], recipient=envelope["recipient"],
                   body=envelope["body"], message_id=envelope["message_id"], sent_at=envelope["sent_at"],
                   in_reply_to=envelope.get("in_reply_to"))


@dataclass(frozen=True)
class Receipt:
    """The platform took the message: when, and whether it already had it (a resend of the same id)."""

    message_id: str
    accepted_at: str
    duplicate: bool = False


class NationalPlatform(Protocol):
    """What a pooling area asks of the platform."""

    node: str  # this area's code (统筹区)

    def send(self, message: Message) -> Receipt:
        """Hand over one message (a 联系函, a rejection, a 信息表, a fund-transfer notice, a completion, a filing
        report). Idempotent by ``message_id``: the same id again answers the first receipt and delivers nothing
        twice; the same id with another content is refused."""

    def receive(self, *, limit: int = 50) -> list[Message]:
        """The messages addressed to this area that it has not acknowledged yet, oldest first (each checked)."""

    def acknowledge(self, message_ids: list[str]) -> None:
        """This area has stored these messages: the platform stops offering them."""

    def filings_of(self, id_number: str) -> list[dict[str, Any]]:
        """The 异地就医备案 the platform knows of a person, from every area's reports (latest state per filing)."""

    def enrolments_of(self, id_number: str) -> list[dict[str, Any]]:
        """Where the platform knows the person is or was insured, from the transfers it carried: ``{"area",
        "status": "open"|"closed", "since"}`` per area."""

    def health(self) -> Health:
        """Whether the platform answers and accepts our credentials (nothing is sent)."""


# --- schemas -----------------------------------------------------------------------------------------------


@cache
def schema(name: str) -> dict[str, Any]:
    """The documented JSON schema ``schemas/<name>.schema.json`` (``envelope`` or a message type)."""
    text = resources.files(__package__).joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema(name))


def problems(envelope: Any) -> list[str]:
    """What is wrong with an envelope and its body, as ``path: reason`` lines without the offending values (they
    may be personal data); empty when it follows the schemas."""
    out = [_describe(error) for error in _validator("envelope").iter_errors(envelope)]
    if not out and envelope["type"] in MESSAGE_TYPES:
        out = [_describe(error, "body") for error in _validator(envelope["type"]).iter_errors(envelope["body"])]
    return sorted(out)


def _describe(error: Any, prefix: str = "") -> str:
    where = "/".join(str(p) for p in ([prefix] if prefix else []) + list(error.absolute_path)) or "(root)"
    reason = {"required": "missing field", "additionalProperties": "unknown field", "pattern": "wrong format",
              "enum": "not an allowed value", "const": "not the supported version", "type": "wrong type"}
    what = reason.get(error.validator, str(error.validator))
    if error.validator in ("required", "additionalProperties"):
        what += f" ({', '.join(sorted(_named_fields(error)))})"
    return f"{where}: {what}"


def _named_fields(error: Any) -> set[str]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "required":
        return {name for name in error.validator_value if name not in instance}
    allowed = set(error.schema.get("properties", {}))
    return {name for name in instance if name not in allowed}


def validate(envelope: Any) -> None:
    found = problems(envelope)
    if found:
        raise NationalError("invalid", "; ".join(found)[:200], retry=False)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- the factory -------------------------------------------------------------------------------------------


def node_of(app: Flask) -> str:
    """This deployment's code on the platform: ``PORTAL_NATIONAL_NODE``, else the region's 统筹区 code."""
    configured = app.config.get("PORTAL_NATIONAL_NODE") or ""
    if configured:
        return configured
    catalog = app.extensions.get("portal_catalog")
    region = catalog.region if catalog is not None else None
    return (getattr(region, "pooling_code", None) or getattr(getattr(region, "agency", None), "division_code", None)
            or "000000")


def build(config: Any, node: str, instance_path: str) -> NationalPlatform | None:
    backend = config.get("PORTAL_NATIONAL_BACKEND") or "local"
    if backend == "off":
        return None
    if backend == "local":
        from pathlib import Path

        from .local import LocalNationalPlatform

        path = config.get("PORTAL_NATIONAL_HUB_PATH") or str(Path(instance_path) / "national-hub.sqlite")
        return LocalNationalPlatform(path, node)
    if backend == "http":
        from .http import HttpNationalPlatform

        url, secret = config.get("PORTAL_NATIONAL_URL"), config.get("PORTAL_NATIONAL_SECRET")
        if not (url and secret):
            raise ConfigError("PORTAL_NATIONAL_URL and PORTAL_NATIONAL_SECRET must be set when "
                              "PORTAL_NATIONAL_BACKEND=http")
        return HttpNationalPlatform(url, node, secret)
    raise ConfigError(f"PORTAL_NATIONAL_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")


def get_national(app: Flask) -> NationalPlatform | None:
    """The app's national-platform adapter, built once; None when the platform is off."""
    if "portal_national" not in app.extensions:
        app.extensions["portal_national"] = build(app.config, node_of(app), app.config["PORTAL_INSTANCE_PATH"])
    return app.extensions["portal_national"]


def serve_hub(store: str, nodes_file: str, host: str = "127.0.0.1", port: int = 8790) -> Any:
    """The hub's HTTP server for ``portal national hub`` (not started): the areas and secrets from ``nodes_file``.
    Raises ValueError or OSError when the file is unusable."""
    from .hub_server import load_nodes, serve

    server, _app = serve(store, load_nodes(nodes_file), host, port)
    return server
