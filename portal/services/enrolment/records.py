"""The roster row (one person and the change asked for them) and the reads and writes of the records it leads to."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...core import clock
from ...core.db import db
from ...core.translation import gettext as _
from ...core.validators import id_birth_date, id_gender
from ...insurance.constants import EnrolmentEventKind, EnrolmentStatus, InsuranceType, PersonCategory
from ...insurance.models import Enrolment, EnrolmentEvent, Person, id_number_index, person_name_index, phone_index
from ..effects import EffectRefused, Ledger

K = EnrolmentEventKind
# the change categories of the published roster forms
CATEGORY_KINDS = {"增加": K.ADDED, "中断": K.INTERRUPTED, "终止": K.TERMINATED, "恢复": K.RESUMED,
                  "在职转退休": K.RETIRED, "统筹区内转移": K.TRANSFERRED,
                  # 《退休人员医保管理》 (岳阳): a death ends the enrolment; a new managing unit takes the retiree over
                  "死亡停保": K.TERMINATED, "医保管理责任单位变更": K.TRANSFERRED}
CATEGORY_KEYS = ("change_category", "change_type")


@dataclass(frozen=True)
class Row:
    """One person of the roster and the change asked for them."""

    number: int  # row number in the form (1-based), for messages
    name: str
    id_number: str
    kind: EnrolmentEventKind
    phone: str | None = None
    death_date: date | None = None


def case_note(case: Any) -> str:
    """The history row's note: record data, written in Chinese whatever the language of the staff member."""
    return f"办件 {case.number or case.id}"


def change_enrolment(enrolment: Enrolment, kind: EnrolmentEventKind, day: date, note: str, ledger: Ledger, *,
            to_unit: int | None) -> None:
    """One status change of one enrolment, with its history row."""
    event = EnrolmentEvent(enrolment_id=enrolment.id, kind=kind, effective_date=day, note=note)
    if kind is K.INTERRUPTED and enrolment.status is EnrolmentStatus.ACTIVE:
        ledger.changed(enrolment, status=EnrolmentStatus.SUSPENDED)
    elif kind is K.RESUMED and enrolment.status is EnrolmentStatus.SUSPENDED:
        ledger.changed(enrolment, status=EnrolmentStatus.ACTIVE)
    elif kind is K.TERMINATED:
        ledger.changed(enrolment, status=EnrolmentStatus.TERMINATED, end_date=max(day, enrolment.start_date))
    elif kind is K.TRANSFERRED:
        if enrolment.unit_id == to_unit or enrolment.unit_id is None:
            return
        event.from_unit_id, event.to_unit_id = enrolment.unit_id, to_unit
        ledger.changed(enrolment, unit_id=to_unit)
    elif kind is not K.RETIRED:
        return  # nothing to change on this enrolment (e.g. a supplementary one already suspended)
    ledger.created(event)


def refusal(reasons: list[tuple[str, str]]) -> str:
    return _("The records cannot take this change: %(problems)s", problems="；".join(m for _k, m in reasons))


PREFETCHED = "portal.persons_by_id_index"  # db.session.info key: blind index → Person or None (known absent)
CHUNK = 500


def find_person(id_number: str) -> Person | None:
    index = id_number_index(id_number)
    known = db.session.info.get(PREFETCHED)
    if known is not None and index in known:
        return known[index]
    return db.session.execute(select(Person).where(Person.id_number_index == index)).scalar_one_or_none()


def find_persons(id_numbers: Iterable[str]) -> dict[str, Person]:
    """The persons the records hold for ``id_numbers`` (normalised), with their enrolments, by blind index:
    one query per 500 numbers instead of one per number (a roster of thousands)."""
    indexes = sorted({id_number_index(n) for n in id_numbers})
    found: dict[str, Person] = {}
    for start in range(0, len(indexes), CHUNK):
        chunk = indexes[start:start + CHUNK]
        found |= {p.id_number_index: p for p in db.session.execute(
            select(Person).where(Person.id_number_index.in_(chunk)).options(selectinload(Person.enrolments)))
            .scalars()}
    return found


@contextmanager
def persons_prefetched(id_numbers: Iterable[str]) -> Iterator[None]:
    """Inside the block ``find_person`` answers for ``id_numbers`` from one prefetch (and knows the persons
    ``new_persons`` creates); outside it, it asks the database as before."""
    numbers = list(id_numbers)
    known: dict[str, Person | None] = dict.fromkeys((id_number_index(n) for n in numbers), None)
    known |= find_persons(numbers)
    db.session.info[PREFETCHED] = known
    try:
        yield
    finally:
        db.session.info.pop(PREFETCHED, None)


def has_open_enrolment(person: Person, scheme: InsuranceType) -> bool:
    return any(e.insurance_type is scheme and e.status is not EnrolmentStatus.TERMINATED for e in person.enrolments)


def scheme_of(insurance_type: InsuranceType) -> InsuranceType:
    """Supplementary and long-term-care enrolments follow the employee enrolment they hang on."""
    return InsuranceType.RESIDENT_MEDICAL if insurance_type is InsuranceType.RESIDENT_MEDICAL \
        else InsuranceType.EMPLOYEE_MEDICAL


def new_persons(rows: list[Row], ledger: Ledger, *, category: PersonCategory, unit_id: int | None,
                extra: dict[str, Any] | None = None) -> list[int]:
    """Persons the records do not know yet, written in one statement and placed in ``category`` and unit; their ids
    in the order of ``rows``. Every derived column (blind indexes, gender and birth date from the ID number) is given
    here, as ``Person``'s setters would; ``extra`` sets more columns on each (e.g. a newborn's guardian)."""
    numbers = unique_numbers(Person, Person.insured_no, "P", len(rows))
    now = clock.now()
    values = []
    for row, number in zip(rows, numbers, strict=True):
        name = row.name[:64]
        values.append({
            "insured_no": number, "name": name, "name_index": person_name_index(name),
            "id_number": row.id_number, "id_number_index": id_number_index(row.id_number),
            "gender": id_gender(row.id_number), "birth_date": id_birth_date(row.id_number),
            "phone": row.phone or None, "phone_index": phone_index(row.phone) if row.phone else None,
            "category": category, "unit_id": unit_id, "is_retired_cadre": False, "created_at": now, **(extra or {}),
        })
    return ledger.inserted(Person, values)


def unique_number(model: type, column: Any, prefix: str) -> str:
    """A new record number (个人编号, 单位编号) the records do not use yet."""
    return unique_numbers(model, column, prefix, 1)[0]


def unique_numbers(model: type, column: Any, prefix: str, count: int) -> list[str]:
    """``count`` new record numbers, different from each other and from those the records use."""
    out: set[str] = set()
    for _attempt in range(20):
        wanted = count - len(out)
        if not wanted:
            return sorted(out)
        fresh = {f"{prefix}{clock.today():%Y}{secrets.randbelow(10**8):08d}" for _n in range(wanted)} - out
        fresh = list(fresh)
        for start in range(0, len(fresh), CHUNK):
            chunk = fresh[start:start + CHUNK]
            taken = set(db.session.execute(select(column).where(column.in_(chunk))).scalars())
            out |= set(chunk) - taken
    raise EffectRefused(_("Could not give the record a number; please try again."))
