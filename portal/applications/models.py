"""Cases (办件), their events, one-time notices and progress tokens.

The form data and the principal's identity of a filing on someone's behalf are personal data and are
stored sealed. ``version`` is SQLAlchemy's version counter: two people acting on one case at once cannot
both win (S20). ``idempotency_key`` makes a double submit create one case (S19).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import clock
from ..core.crypto import BlindIndex, Encrypted
from ..core.db import Base
from .constants import CLOSED_STATES, State

STATE_VALUES = ", ".join(f"'{s.value}'" for s in State)
# states no correction notice can have been issued in: a notice moves a submitted case to correction_requested,
# and nothing moves a case back to draft or submitted (lifecycle.TRANSITIONS)
NEVER_NOTIFIED = frozenset({State.DRAFT.value, State.SUBMITTED.value})


class Application(Base):
    """One case: who files which item for whom, with what, and where it stands."""

    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint(f"state IN ({STATE_VALUES})", name="state"),
        CheckConstraint("audience IN ('individual', 'unit', 'institution')", name="audience"),
        CheckConstraint("state = 'draft' OR number IS NOT NULL", name="number_once_submitted"),
        CheckConstraint("state NOT IN ('not_accepted', 'denied') OR decision_reason IS NOT NULL",
                        name="refusal_has_reason"),
        UniqueConstraint("applicant_id", "idempotency_key", name="idempotency"),
        # the workbench's queue pages read these in order (keyset pagination, portal/workbench/queues.py)
        Index("ix_application_queue_work_due", "queue", "work_due", "id"),
        Index("ix_application_queue_id", "queue", "id"),
        Index("ix_application_work_due_id", "work_due", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)  # 受理编号, given at submission
    region: Mapped[str] = mapped_column(String(16))
    item_code: Mapped[str] = mapped_column(String(40), index=True)
    item_name: Mapped[str] = mapped_column(String(200))  # the item's Chinese name when filed
    handler: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(16))
    is_money: Mapped[bool] = mapped_column(Boolean, default=False)
    is_instant: Mapped[bool] = mapped_column(Boolean, default=False)
    limit_kind: Mapped[str] = mapped_column(String(16))  # the item's time limit when filed (LimitKind)
    limit_value: Mapped[int | None] = mapped_column(Integer)
    limit_wording: Mapped[str] = mapped_column(String(100), default="")

    applicant_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)  # whom it is about
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    applicant_name: Mapped[str] = mapped_column(Encrypted("application.applicant_name"))
    # 委托: filed on behalf of someone else (the principal), with their identity and the relation
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    principal_name: Mapped[str | None] = mapped_column(Encrypted("application.principal_name"))
    principal_id_number: Mapped[str | None] = mapped_column(Encrypted("application.principal_id_number"))
    principal_id_index: Mapped[str | None] = mapped_column(BlindIndex, index=True)
    principal_relation: Mapped[str | None] = mapped_column(String(32))

    form_json: Mapped[str] = mapped_column(Encrypted("application.form"), default="{}")
    materials_json: Mapped[str] = mapped_column(Text, default="{}")  # {material id: MaterialMode}

    state: Mapped[str] = mapped_column(String(24), default=State.DRAFT.value, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    # the staff member working the case now (claimed or assigned), if any; cleared when released or closed
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    assigned_at: Mapped[datetime | None]
    # the workbench queue the case sits in and the day the agency must act by (NULL when the agency has nothing
    # to do now); kept up to date on every flush by portal/workbench/queues.py
    queue: Mapped[str] = mapped_column(String(16), default="draft")
    work_due: Mapped[date | None] = mapped_column(Date)

    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    submitted_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]  # approved, denied or not accepted
    # when its approval was returned to review before payment (退回重审); cleared when it is decided again: the review
    # queue marks such a case, so the reviewer sees it came back from finance and reads why on its page
    returned_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # reached a state where it stays (incl. withdrawn)
    accept_by: Mapped[date | None] = mapped_column(Date)  # the agency should accept or notify by then
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    paused_working_days: Mapped[int] = mapped_column(Integer, default=0)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    result_text: Mapped[str | None] = mapped_column(Text)  # 办理结果 printed on the completion slip

    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", order_by="ApplicationEvent.id", cascade="all, delete-orphan"
    )
    notices: Mapped[list[CorrectionNotice]] = relationship(
        back_populates="application", order_by="CorrectionNotice.id", cascade="all, delete-orphan"
    )
    applicant = relationship("Account", lazy="joined", foreign_keys=[applicant_id])
    assignee = relationship("Account", foreign_keys=[assignee_id])
    person = relationship("Person")
    unit = relationship("Unit")
    institution = relationship("Institution")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)

    @property
    def organisation(self) -> Any:
        """The unit or the designated institution that filed the case (None for a person's case)."""
        return self.institution if self.audience == "institution" else self.unit if self.audience == "unit" else None

    @property
    def form_data(self) -> dict[str, Any]:
        return json.loads(self.form_json or "{}")

    @form_data.setter
    def form_data(self, value: dict[str, Any]) -> None:
        self.form_json = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)

    @property
    def materials(self) -> dict[str, str]:
        return json.loads(self.materials_json or "{}")

    @materials.setter
    def materials(self, value: dict[str, str]) -> None:
        self.materials_json = json.dumps(value, sort_keys=True)

    @property
    def state_enum(self) -> State:
        return State(self.state)

    @property
    def is_closed(self) -> bool:
        return self.state_enum in CLOSED_STATES

    @property
    def open_notice(self) -> CorrectionNotice | None:
        if self.state in NEVER_NOTIFIED and "notices" not in inspect(self).dict:
            return None  # a draft or a first submission has had no notice: nothing to read (a query saved)
        return next((n for n in reversed(self.notices) if n.resolved_at is None), None)


class ApplicationEvent(Base):
    """One move of a case: who, when, from which state to which, and why. Never changed once written."""

    __tablename__ = "application_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))  # NULL: the system
    actor_kind: Mapped[str] = mapped_column(String(16))  # citizen, agent, staff, system
    actor_role: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=clock.now)
    reason: Mapped[str | None] = mapped_column(Text)
    detail_json: Mapped[str] = mapped_column(Text, default="{}")  # e.g. a deadline shift, no personal data

    application: Mapped[Application] = relationship(back_populates="events")
    actor = relationship("Account")

    @property
    def detail(self) -> dict[str, Any]:
        return json.loads(self.detail_json or "{}")


class CorrectionNotice(Base):
    """A one-time notice (一次性告知): everything missing or wrong, given at once, with the time allowed.

    ``entries`` lists ``{"material": id, "defect": "missing"|"defective", "note": str}``. The clock of a
    case already accepted stops from ``issued_on`` until the applicant resubmits (``resolved_on``).
    """

    __tablename__ = "correction_notice"
    __table_args__ = (UniqueConstraint("application_id", "sequence", name="sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)  # 1 for the first notice on the case
    issued_at: Mapped[datetime] = mapped_column(default=clock.now)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    issued_on: Mapped[date] = mapped_column(Date)
    respond_by: Mapped[date] = mapped_column(Date)
    pauses_clock: Mapped[bool] = mapped_column(Boolean, default=False)
    entries_json: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolved_on: Mapped[date | None] = mapped_column(Date)
    response_note: Mapped[str | None] = mapped_column(Text)
    new_defect: Mapped[bool] = mapped_column(Boolean, default=False)  # set when a resubmission brought one

    application: Mapped[Application] = relationship(back_populates="notices")

    @property
    def entries(self) -> list[dict[str, str]]:
        return json.loads(self.entries_json or "[]")

    @property
    def material_ids(self) -> list[str]:
        return [e["material"] for e in self.entries]


class ProgressToken(Base):
    """The secret in a receipt's QR code. Only its SHA-256 is kept; a reprint issues a new one."""

    __tablename__ = "progress_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    application: Mapped[Application] = relationship()
