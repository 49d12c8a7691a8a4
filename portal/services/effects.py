"""The ledger of an effect: record each change a handler makes to the records, and undo them in reverse.

Handlers change rows through a ``Ledger`` (``created``, ``changed``, ``appended``); ``Ledger.save`` stores the
steps as the case's ``CaseEffect``. ``revert`` undoes them newest first. It refuses (``EffectConflict``) when a
row no longer holds the value the effect gave it: someone changed it since, and a blind undo would erase that.
Text values (names, addresses, sealed numbers) are kept sealed in the steps, so the ledger holds no personal
data in the clear; ids, dates and enumerated values are kept as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Date, DateTime, Numeric, String, Text, insert, select, update
from sqlalchemy import Enum as SAEnum
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ..accounts.models import Account
from ..core import clock
from ..core.crypto import Encrypted, keyring
from ..core.db import db
from ..core.errors import DomainError
from ..core.translation import gettext as _
from ..insurance.models import Benefit, Enrolment, EnrolmentEvent, Person, Unit
from ..organisations.models import Institution, InstitutionEvent
from .models import CaseEffect

# Account: completing a unit's 单位参保登记 makes its filer the unit's administrator (services.enrolment.units)
# Institution, InstitutionEvent: the agreement items change the institution register (services.institutions)
MODELS: dict[str, type] = {m.__tablename__: m for m in (Unit, Person, Enrolment, EnrolmentEvent, Benefit, Account,
                                                          Institution, InstitutionEvent)}
SEAL_CONTEXT = "case_effect.steps"


class EffectRefused(DomainError):
    """The records cannot take the change the case asks for; the completion is undone with it."""

    code = "effect_refused"
    status = 409


class EffectConflict(DomainError):
    """The records changed after the effect was applied, so it cannot be undone automatically."""

    code = "effect_conflict"
    status = 409


def _dump(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _is_text(model: type, key: str) -> bool:
    """A free-text or sealed column (not an enumeration, which is a String too): its values are sealed."""
    column_type = model.__table__.c[key].type
    return not isinstance(column_type, SAEnum) and isinstance(column_type, String | Text | Encrypted)


def _stored(model: type, key: str, value: Any) -> Any:
    """The value as a step keeps it: text sealed (``{"sealed": ...}``), everything else as ``_dump`` gives it."""
    value = _dump(value)
    if isinstance(value, str) and _is_text(model, key):
        return {"sealed": keyring().seal(value, SEAL_CONTEXT)}
    return value


def opened(value: Any) -> Any:
    """A step's value in the clear (steps written before sealing hold it in the clear already)."""
    if isinstance(value, dict) and "sealed" in value:
        return keyring().open(value["sealed"], SEAL_CONTEXT)
    return value


def _load(model: type, key: str, value: Any) -> Any:
    value = opened(value)
    if value is None:
        return None
    column_type = model.__table__.c[key].type
    if isinstance(getattr(column_type, "impl", column_type), DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return date.fromisoformat(value)
    if isinstance(column_type, Numeric):
        return Decimal(value)
    if isinstance(column_type, SAEnum) and column_type.enum_class is not None:
        return column_type.enum_class(value)
    return value


class Ledger:
    """The changes one effect makes, in order."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self._batch: dict[tuple[type, tuple[tuple[str, Any], ...]], list[int]] | None = None
        self._pending: set[tuple[str, int, str]] = set()

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Inside the block, ``changed`` rows are not flushed one UPDATE each: the same values go to every row that
        takes them in one ``UPDATE … WHERE id IN (…)`` at the end of the block (thousands of persons placed in the
        unit that files a roster). The objects show the new values at once, as committed ones."""
        self._batch = {}
        try:
            yield
            self._run_batch()
        finally:
            self._batch, self._pending = None, set()

    def _run_batch(self) -> None:
        for (model, items), ids in (self._batch or {}).items():
            table = model.__table__
            for start in range(0, len(ids), 1000):
                db.session.execute(update(table).where(table.c.id.in_(ids[start:start + 1000])).values(dict(items)))
        if self._batch is not None:
            self._batch.clear()
        self._pending.clear()

    def created(self, row: Any) -> Any:
        """``row`` is new: revoking deletes it (when nothing else has come to refer to it)."""
        db.session.add(row)
        db.session.flush()
        self.steps.append({"op": "created", "table": row.__tablename__, "id": row.id})
        return row

    def created_all(self, rows: list[Any]) -> list[Any]:
        """``rows`` are new, written in one flush (a roster's thousands); revoking deletes them, last first."""
        db.session.add_all(rows)
        db.session.flush()
        self.steps += [{"op": "created", "table": row.__tablename__, "id": row.id} for row in rows]
        return rows

    def inserted(self, model: type, values: list[dict[str, Any]]) -> list[int]:
        """New rows of ``model`` written past the session's unit of work (a roster's thousands: no objects to track,
        no validators run — the caller gives every derived column); revoking deletes them, last first. Returns their
        ids in the order of ``values``. On PostgreSQL the ids come from the table's sequence first and the rows go in
        one ``COPY`` (``core.bulk``); elsewhere one INSERT … RETURNING."""
        if not values:
            return []
        if db.is_postgres:
            from ..core import bulk

            table = model.__table__
            ids = bulk.allocate_ids(table, len(values))
            bulk.insert_rows(table, [{"id": i, **v} for i, v in zip(ids, values, strict=True)])
        else:
            ids = list(db.session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), values))
        self.steps += [{"op": "created", "table": model.__tablename__, "id": i} for i in ids]
        return ids

    def changed(self, row: Any, **values: Any) -> None:
        """Set ``values`` on ``row``; revoking puts back what was there."""
        model = type(row)
        before = {k: _stored(model, k, getattr(row, k)) for k in values}
        if self._batch is None:
            for key, value in values.items():
                setattr(row, key, value)
        else:
            marks = {(row.__tablename__, row.id, key) for key in values}
            if marks & self._pending:  # the same field of the same row again: what is queued goes first
                self._run_batch()
            self._pending |= marks
            for key, value in values.items():
                set_committed_value(row, key, value)
            self._batch.setdefault((model, tuple(sorted(values.items()))), []).append(row.id)
        self.steps.append({"op": "changed", "table": row.__tablename__, "id": row.id, "before": before,
                           "after": {k: _stored(model, k, v) for k, v in values.items()}})

    def note(self, **values: Any) -> None:
        """Keep ``values`` (no personal data: ids, months, amounts) with the steps, e.g. the working of an amount;
        revoking passes over it."""
        self.steps.append({"op": "note", **values})

    def save(self, case: Any, handler: str) -> CaseEffect | None:
        """Store the steps as the case's effect; nothing is stored when the effect changed nothing."""
        if not self.steps:
            return None
        db.session.flush()
        effect = CaseEffect(application_id=case.id, handler=handler, applied_at=clock.now())
        effect.steps = self.steps
        db.session.add(effect)
        db.session.flush()
        return effect


def effect_of(case: Any) -> CaseEffect | None:
    return db.session.execute(select(CaseEffect).where(CaseEffect.application_id == case.id)).scalar_one_or_none()


def revert(case: Any, reason: str) -> CaseEffect | None:
    """Undo the case's recorded effect, newest change first; None when the case changed nothing.

    Raises ``EffectConflict`` when a changed row has moved on since, or the effect was already revoked.
    """
    effect = effect_of(case)
    if effect is None:
        return None
    if effect.revoked_at is not None:
        raise EffectConflict(_("The effect of this case has already been revoked."))
    for step in reversed(effect.steps):
        if step["op"] == "note":
            continue
        model = MODELS[step["table"]]
        row = db.session.get(model, step["id"])
        if step["op"] == "changed":
            _undo_change(model, row, step)
        elif row is not None:
            _undo_create(row)
    effect.revoked_at = clock.now()
    effect.revoke_reason = reason
    db.session.flush()
    return effect


def _undo_change(model: type, row: Any, step: dict[str, Any]) -> None:
    now = {k: _dump(getattr(row, k)) for k in step["after"]} if row is not None else None
    if now != {k: opened(v) for k, v in step["after"].items()}:
        raise EffectConflict(_("The records changed after this case was completed (%(what)s %(id)s); "
                               "undo its effect by hand.", what=step["table"], id=step["id"]))
    for key, value in step["before"].items():
        setattr(row, key, _load(model, key, value))


def _undo_create(row: Any) -> None:
    """Delete a row the effect created; a row others have come to refer to stays (the note says why)."""
    if isinstance(row, Enrolment):
        for event in list(row.events):
            db.session.delete(event)
    try:
        with db.session.begin_nested():
            db.session.delete(row)
            db.session.flush()
    except IntegrityError:
        pass  # referred to by later records (an account bound to the person, a later case): kept
