"""Demo enrolments (参保登记) and their events: added, transferred, interrupted, resumed, retired, ended."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ..constants import EnrolmentEventKind, EnrolmentStatus, InsuranceType
from .common import BuilderState, local_time

if TYPE_CHECKING:
    from .units import UnitTraits


class Enrolments(BuilderState):
    """Adds enrolments and the events of their history."""

    def enrol(self, person: int, kind: InsuranceType, start: date, unit: UnitTraits | None,
              status: EnrolmentStatus = EnrolmentStatus.ACTIVE, end: date | None = None) -> int:
        index = len(self.plan.enrolments)
        self.plan.enrolments.append({"person_id": person, "insurance_type": kind,
                                     "unit_id": unit.index if unit else None,
                                     "status": status, "start_date": start, "end_date": end})
        self.event(index, EnrolmentEventKind.ADDED, start, note=None)
        return index

    def event(self, enrolment: int, kind: EnrolmentEventKind, day: date, *, note: str | None = None,
              from_unit: UnitTraits | None = None, to_unit: UnitTraits | None = None) -> None:
        self.plan.events.append({"enrolment_id": enrolment, "kind": kind, "effective_date": day,
                                 "recorded_at": local_time(day, 9),
                                 "from_unit_id": from_unit.index if from_unit else None,
                                 "to_unit_id": to_unit.index if to_unit else None, "note": note})

    def terminate(self, person: int, day: date, note: str) -> None:
        rows = self.plan.enrolments
        for index in range(self.rows_of_last_person(rows, person), len(rows)):
            row = rows[index]
            if row["status"] is not EnrolmentStatus.TERMINATED:
                row.update(status=EnrolmentStatus.TERMINATED, end_date=max(day, row["start_date"]))
                self.event(index, EnrolmentEventKind.TERMINATED, day, note=note)
