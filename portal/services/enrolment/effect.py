"""The roster effect every enrolment item shares: reading the rows, the rules each row must meet, writing them."""

from __future__ import annotations

from datetime import date
from typing import Any

from ...core import bulk, clock
from ...core.db import db
from ...core.errors import ValidationFailed
from ...core.translation import gettext as _
from ...core.validators import normalize_id_number
from ...insurance.constants import EnrolmentEventKind, EnrolmentStatus, InsuranceType, PersonCategory
from ...insurance.models import Enrolment, EnrolmentEvent, Person
from ..base import FilingContext, Handler, case_table
from ..effects import EffectRefused, Ledger, revert
from .records import (
    CATEGORY_KEYS,
    CATEGORY_KINDS,
    K,
    Row,
    case_note,
    change_enrolment,
    find_person,
    has_open_enrolment,
    new_persons,
    persons_prefetched,
    refusal,
    scheme_of,
)


class EnrolmentEffect(Handler):
    """Roster changes of the employee scheme (or, for residents, of the resident scheme)."""

    name = "enrolment"
    kinds: frozenset[EnrolmentEventKind] = frozenset(CATEGORY_KINDS.values())
    default_kind: EnrolmentEventKind = K.ADDED
    scheme = InsuranceType.EMPLOYEE_MEDICAL
    ignored_categories: frozenset[str] = frozenset()  # rows that change nothing the records hold

    # --- reading the case --------------------------------------------------------------------------------

    def rows(self, case: Any) -> list[Row]:
        """The roster rows of the form; without a roster, the case's own person with the item's change."""
        table = case_table(case)
        if not table:
            person = case.person
            if person is None:
                return []
            return [Row(1, person.name, person.id_number, self.default_kind)]
        rows, reasons = [], []
        for index, raw in enumerate(table, start=1):
            number = raw.get("_row", index)  # an uploaded roster's rows say where they stand in the sheet
            category = next((raw.get(k) for k in CATEGORY_KEYS if raw.get(k)), None)
            if category in self.ignored_categories:
                continue
            kind = CATEGORY_KINDS.get(category) if category else self.default_kind
            try:
                id_number = normalize_id_number(raw.get("id_number"))
            except ValidationFailed as error:
                reasons.append((f"row.{number}", error.reasons[0][1]))
                continue
            if kind is None or kind not in self.kinds:
                reasons.append((f"row.{number}", _("Row %(n)d asks for “%(category)s”, which this item does not "
                                                   "handle; file the item for that change.", n=number,
                                                   category=category)))
                continue
            died = date.fromisoformat(raw["death_date"]) if raw.get("death_date") else None
            rows.append(Row(number, str(raw.get("name") or "").strip(), id_number, kind, raw.get("mobile"), died))
        if reasons:
            raise EffectRefused(refusal(reasons))
        return rows

    # --- the effect --------------------------------------------------------------------------------------

    def apply_effect(self, case: Any, context: FilingContext) -> None:
        """Check every row, then write them all; refuse with every problem at once. The persons of the rows are
        read in one prefetch and the additions written in a few flushes, so a roster of thousands completes in
        seconds."""
        rows = self.rows(case)
        with persons_prefetched(r.id_number for r in rows):
            problems = self.duplicates(rows) + [p for row in rows if (p := self.problem(case, row))]
            if problems:
                raise EffectRefused(refusal(problems))
            ledger = Ledger()
            self.add_all(case, [r for r in rows if r.kind is K.ADDED], ledger)
            for row in rows:
                if row.kind is not K.ADDED:
                    self.apply_row(case, row, ledger)
            ledger.save(case, case.handler)

    @staticmethod
    def duplicates(rows: list[Row]) -> list[tuple[str, str]]:
        """A person named twice: the second row is refused (the first says what to do with them)."""
        seen: dict[str, int] = {}
        out = []
        for row in rows:
            first = seen.setdefault(row.id_number, row.number)
            if first != row.number:
                out.append((f"row.{row.number}", _("Row %(n)d: the same person as row %(first)d.", n=row.number,
                                                   first=first)))
        return out

    def revoke_effect(self, case: Any, reason: str) -> None:
        revert(case, reason)

    def problem(self, case: Any, row: Row) -> tuple[str, str] | None:
        """Why the records cannot take ``row``, as (row key, message); None when they can."""
        person = find_person(row.id_number)
        label = _("Row %(n)d (%(name)s)", n=row.number, name=row.name or "")
        key = f"row.{row.number}"
        if case.audience != "unit" and (case.person is None or case.person.id_number != row.id_number):
            return key, _("%(row)s: an insured person files only for themselves; a unit files for its staff.",
                          row=label)
        if row.kind is K.ADDED:
            if person is not None and has_open_enrolment(person, self.scheme):
                return key, _("%(row)s: already insured in this scheme; file a transfer or a change instead.",
                              row=label)
            if person is None and not row.name:
                return key, _("%(row)s: the name is needed to register a new person.", row=label)
            return None
        if person is None:
            return key, _("%(row)s: this person is not in the insurance records.", row=label)
        enrolments = self._enrolments(case, person, row.kind)
        if not enrolments:
            return key, _("%(row)s: no open enrolment of this person that the filer may change.", row=label)
        statuses = {e.status for e in enrolments}
        wanted = {K.INTERRUPTED: EnrolmentStatus.ACTIVE, K.RESUMED: EnrolmentStatus.SUSPENDED}.get(row.kind)
        if wanted is not None and wanted not in statuses:
            return key, _("%(row)s: the enrolment is “%(status)s”, so this change does not apply.", row=label,
                          status=enrolments[0].status.label)
        if row.death_date and not person.birth_date <= row.death_date <= clock.today():
            return key, _("%(row)s: the date of death is not possible.", row=label)
        if row.kind is K.RETIRED and person.category is not PersonCategory.EMPLOYEE:
            return key, _("%(row)s: only an in-service employee can retire.", row=label)
        if row.kind is K.TRANSFERRED:
            if case.unit_id is None:
                return key, _("%(row)s: a transfer within the pooling area is filed by the receiving unit.",
                              row=label)
            if all(e.unit_id == case.unit_id for e in enrolments):
                return key, _("%(row)s: the person is already insured through this unit.", row=label)
        return None

    def _enrolments(self, case: Any, person: Person, kind: EnrolmentEventKind) -> list[Enrolment]:
        """The person's open enrolments in the scheme the filer may change: a unit changes its own staff only,
        except that a transfer is filed by the receiving unit about staff insured through another."""
        rows = [e for e in person.enrolments if e.status is not EnrolmentStatus.TERMINATED
                and scheme_of(e.insurance_type) is self.scheme]
        if case.audience != "unit":
            return rows
        if kind is K.TRANSFERRED:
            return [e for e in rows if e.unit_id is not None]
        return [e for e in rows if e.unit_id is not None and e.unit_id == case.unit_id]

    def apply_row(self, case: Any, row: Row, ledger: Ledger) -> None:
        today = clock.today()
        note = case_note(case)
        if row.kind is K.ADDED:
            self.add_all(case, [row], ledger)
            return
        person = find_person(row.id_number)
        enrolments = self._enrolments(case, person, row.kind)
        if row.kind is K.RETIRED:
            ledger.changed(person, category=PersonCategory.RETIREE)
        if row.kind is K.TRANSFERRED:
            ledger.changed(person, unit_id=case.unit_id)
        if row.death_date:
            ledger.changed(person, death_date=row.death_date)
        for enrolment in enrolments:
            change_enrolment(enrolment, row.kind, row.death_date or today, note, ledger, to_unit=case.unit_id)

    def add_all(self, case: Any, rows: list[Row], ledger: Ledger) -> None:
        """The additions: persons the records do not know are created, then every row's enrolment and its history
        row, each kind in one statement (a roster of thousands)."""
        if not rows:
            return
        today, note = clock.today(), case_note(case)
        category, unit_id = self.new_person_placement(case)
        known = [p for r in rows if (p := find_person(r.id_number)) is not None]
        fresh = new_persons([r for r in rows if find_person(r.id_number) is None], ledger, category=category,
                            unit_id=unit_id, extra=self.new_person_extra(case))
        with ledger.batched():  # the known persons' placements: one UPDATE per new value, not one per person
            enrolments = [self.enrolment_for(case, person, today, ledger) for person in known]
        db.session.flush()
        now, unit = clock.now(), self.new_enrolment_unit(case)
        ids = ledger.inserted(Enrolment, [{
            "person_id": e.person_id, "insurance_type": e.insurance_type, "unit_id": e.unit_id, "status": e.status,
            "start_date": e.start_date, "created_at": now} for e in enrolments] + [{
            "person_id": person_id, "insurance_type": self.scheme, "unit_id": unit, "status": EnrolmentStatus.ACTIVE,
            "start_date": today, "created_at": now} for person_id in fresh])
        # the history rows go with their enrolments: revoking an enrolment the effect created deletes its events, so
        # they need no steps of their own (and no RETURNING: COPY on PostgreSQL, one executemany elsewhere)
        bulk.insert_rows(EnrolmentEvent.__table__, [{"enrolment_id": i, "kind": K.ADDED, "effective_date": today,
                                                     "note": note, "recorded_at": now} for i in ids])
        for person in known:
            db.session.expire(person, ["enrolments"])

    def new_person_extra(self, case: Any) -> dict[str, Any]:
        """More columns of a person the addition creates (none here; a newborn's guardian, for one)."""
        return {}

    def new_enrolment_unit(self, case: Any) -> int | None:
        """The unit of a new person's enrolment: the filing unit's."""
        return self.new_person_placement(case)[1]

    def new_person_placement(self, case: Any) -> tuple[PersonCategory, int | None]:
        """The category and unit of a person the addition creates: the filing unit's employee."""
        unit_id = case.unit_id if case.audience == "unit" else None
        return (PersonCategory.EMPLOYEE if unit_id else PersonCategory.FLEXIBLE), unit_id

    def enrolment_for(self, case: Any, person: Person, today: date, ledger: Ledger) -> Enrolment:
        """The new enrolment of ``person`` (not yet written), after placing them in the unit that files."""
        unit_id = case.unit_id if case.audience == "unit" else person.unit_id
        category = PersonCategory.EMPLOYEE if unit_id else PersonCategory.FLEXIBLE
        if person.category is not category:
            ledger.changed(person, category=category)
        if person.unit_id != unit_id:
            ledger.changed(person, unit_id=unit_id)
        return Enrolment(person_id=person.id, insurance_type=self.scheme, unit_id=unit_id,
                         status=EnrolmentStatus.ACTIVE, start_date=today)
