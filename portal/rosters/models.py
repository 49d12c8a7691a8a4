"""A roster uploaded for a unit's case: the rows as read (sealed) and the check of each row.

One roster per draft case, replaced by each upload. The rows are personal data (names, ID numbers, phones) and are
kept sealed, as the cells were read; the checks hold only row numbers, column keys and codes, never a value, so
they can be read and counted without opening the rows. Messages are written from the codes in the reader's
language when shown (``portal.rosters.checks.describe``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import Encrypted
from ..core.db import Base


class Roster(Base):
    __tablename__ = "roster"
    __table_args__ = (UniqueConstraint("uploaded_by_id", "idempotency_key", name="roster_idempotency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(40))
    table_key: Mapped[str] = mapped_column(String(64))  # the form's table the roster fills
    source: Mapped[str] = mapped_column(String(8))  # xlsx, csv or api
    encoding: Mapped[str | None] = mapped_column(String(8))  # a CSV's: utf-8 or gbk
    filename: Mapped[str | None] = mapped_column(Encrypted("roster.filename"))  # may name people: sealed
    uploaded_at: Mapped[datetime] = mapped_column(default=clock.now)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)  # rows with at least one error
    new_count: Mapped[int] = mapped_column(Integer, default=0)  # rows of persons the records do not know yet
    idempotency_key: Mapped[str | None] = mapped_column(String(64))  # the batch API's, per uploader
    # [[sheet row, {column key: text as read}], ...]: sealed, and loaded only when the rows are needed
    rows_json: Mapped[str] = mapped_column(Encrypted("roster.rows"), default="[]", deferred=True)
    # [[sheet row, status, [[column key or null, code, {params}], ...]], ...]: no values, only codes
    checks_json: Mapped[str] = mapped_column(Text, default="[]", deferred=True)

    application = relationship("Application")

    @property
    def rows(self) -> list[tuple[int, dict[str, str]]]:
        return [(n, values) for n, values in json.loads(self.rows_json or "[]")]

    @rows.setter
    def rows(self, value: list[tuple[int, dict[str, str]]]) -> None:
        self.rows_json = json.dumps([[n, v] for n, v in value], ensure_ascii=False, separators=(",", ":"))

    @property
    def checks(self) -> list[tuple[int, str, list[tuple[str | None, str, dict[str, Any]]]]]:
        return [(n, status, [tuple(e) for e in errors]) for n, status, errors in json.loads(self.checks_json or "[]")]

    @checks.setter
    def checks(self, value: list[tuple[int, str, list[tuple[str | None, str, dict[str, Any]]]]]) -> None:
        self.checks_json = json.dumps([[n, s, [list(e) for e in errors]] for n, s, errors in value],
                                      ensure_ascii=False, separators=(",", ":"))
