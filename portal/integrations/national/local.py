"""The local adapter: the hub (``hub.py``) in this process, on a SQLite file every deployment on the machine shares
(``PORTAL_NATIONAL_HUB_PATH``, default ``instance/national-hub.sqlite``). No network and no signature (the caller
is this process); the messages are checked against the schemas both ways, as over HTTP."""

from __future__ import annotations

import sqlite3
from typing import Any

from .. import Health
from . import Message, Receipt, validate
from .hub import Hub


class LocalNationalPlatform:
    def __init__(self, path: str, node: str, hub: Hub | None = None):
        self.node = node
        self.hub = hub or Hub(path)

    def __repr__(self) -> str:
        return f"<LocalNationalPlatform node={self.node} hub={self.hub.path}>"

    def send(self, message: Message) -> Receipt:
        envelope = message.to_json()
        validate(envelope)
        receipt = self.hub.accept(self.node, envelope)
        return Receipt(receipt["message_id"], receipt["accepted_at"], receipt["duplicate"])

    def receive(self, *, limit: int = 50) -> list[Message]:
        return [Message.from_json(envelope) for envelope in self.hub.inbox(self.node, limit)]

    def acknowledge(self, message_ids: list[str]) -> None:
        self.hub.acknowledge(self.node, message_ids)

    def filings_of(self, id_number: str) -> list[dict[str, Any]]:
        return self.hub.filings(id_number)

    def enrolments_of(self, id_number: str) -> list[dict[str, Any]]:
        return self.hub.enrolments(id_number)

    def health(self) -> Health:
        try:
            waiting = len(self.hub.inbox(self.node, 200))
        except (sqlite3.Error, OSError) as exc:
            return Health(False, f"local hub {self.hub.path} unusable: {type(exc).__name__}")
        return Health(True, f"local hub (development) at {self.hub.path}, node {self.node}, {waiting} message(s) "
                            "waiting")
