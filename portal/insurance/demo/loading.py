"""Loading the plan: bulk inserts with list positions mapped to database ids, and the summary line."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import exists, select

from ...core.bulk import allocate_ids, insert_rows
from ...core.db import db
from ..models import (
    AccountTransaction,
    Benefit,
    Contribution,
    Enrolment,
    EnrolmentEvent,
    Person,
    PersonalAccount,
    Unit,
    id_number_index,
    person_name_index,
    phone_index,
)
from .build import demo_plans
from .common import DemoPlan


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    region: str
    units: int
    persons: int
    enrolments: int
    events: int
    contributions: int
    accounts: int
    transactions: int
    benefits: int
    seconds: float
    cases: int = 0
    case_events: int = 0

    def line(self) -> str:
        return (f"demo data for {self.region} (seed {self.seed}): {self.persons} persons, {self.units} units, "
                f"{self.enrolments} enrolments, {self.contributions} contributions, {self.accounts} accounts, "
                f"{self.transactions} account transactions, {self.benefits} benefits"
                + (f", {self.cases} applications ({self.case_events} timeline events)" if self.cases else "")
                + f" in {self.seconds:.1f} s")


def insert_plan(plan: DemoPlan, unit_ids: list[int] | None = None) -> list[int]:
    """Bulk-write the plan's rows, mapping list positions to database ids; returns the database ids of the units
    (written from this plan, or given as ``unit_ids`` when an earlier plan of the same build wrote them). Ids are
    handed out first (core/bulk.py), so no row is read back. Flushes first, does not commit."""
    session = db.session
    session.flush()

    def write(model: Any, rows: list[dict[str, Any]]) -> list[int]:
        ids = allocate_ids(model.__table__, len(rows))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        insert_rows(model.__table__, rows)
        return ids

    if unit_ids is None:
        for row in plan.units:
            row["legal_rep_id_index"] = id_number_index(row["legal_rep_id_number"])
        unit_ids = write(Unit, plan.units)
    for row in plan.persons:
        row["id_number_index"] = id_number_index(row["id_number"])
        row["name_index"] = person_name_index(row["name"])  # a bulk insert: the model's validator does not run
        row["phone_index"] = phone_index(row["phone"]) if row["phone"] else None
        if row["unit_id"] is not None:
            row["unit_id"] = unit_ids[row["unit_id"]]
    person_ids = write(Person, plan.persons)
    for row in plan.enrolments:
        row["person_id"] = person_ids[row["person_id"]]
        if row["unit_id"] is not None:
            row["unit_id"] = unit_ids[row["unit_id"]]
    enrolment_ids = write(Enrolment, plan.enrolments)
    for row in plan.events:
        row["enrolment_id"] = enrolment_ids[row["enrolment_id"]]
        for key in ("from_unit_id", "to_unit_id"):
            if row[key] is not None:
                row[key] = unit_ids[row[key]]
    for row in plan.accounts:
        row["person_id"] = person_ids[row["person_id"]]
    account_ids = write(PersonalAccount, plan.accounts)
    for row in plan.transactions:
        row["account_id"] = account_ids[row["account_id"]]
    for row in plan.contributions:
        row["person_id"] = person_ids[row["person_id"]]
        if row["unit_id"] is not None:
            row["unit_id"] = unit_ids[row["unit_id"]]
    for row in plan.benefits:
        row["person_id"] = person_ids[row["person_id"]]
    for model, rows in ((EnrolmentEvent, plan.events), (Contribution, plan.contributions),
                        (AccountTransaction, plan.transactions), (Benefit, plan.benefits)):
        insert_rows(model.__table__, rows)
    return unit_ids


class AfterChunks(Protocol):
    """What else is written beside the persons, a chunk at a time (``portal demo --cases``: applications/demo.py)."""

    units: dict[int, dict[str, Any]]  # the written units by database id, set once they are written
    made: int
    events_made: int

    def file_for(self, persons: list[dict[str, Any]]) -> None: ...


def generate_demo_data(seed: int = 20261122, persons: int = 2000, units: int = 100,
                       also: AfterChunks | None = None) -> DemoSummary:
    """Build and write the demo data for the deployment region (``PORTAL_REGION``), a chunk of persons at a time;
    ``also`` writes its rows after each chunk (e.g. cases filed by those persons). Flushes, does not commit."""
    started = time.perf_counter()
    region = current_app.config["PORTAL_REGION"]
    counts = dict.fromkeys(("units", "persons", "enrolments", "events", "contributions", "accounts",
                            "transactions", "benefits"), 0)
    unit_ids: list[int] | None = None
    for plan in demo_plans(seed, persons, units, region):
        units_of_plan = plan.units
        for name in counts:
            counts[name] += len(getattr(plan, name))
        unit_ids = insert_plan(plan, unit_ids)
        if also is not None:
            if units_of_plan:
                also.units = dict(zip(unit_ids, units_of_plan, strict=True))
            also.file_for(plan.persons)
    return DemoSummary(seed=seed, region=region, **counts, cases=also.made if also else 0,
                       case_events=also.events_made if also else 0, seconds=time.perf_counter() - started)


def has_persons() -> bool:
    return bool(db.session.execute(select(exists().where(Person.id.isnot(None)))).scalar())


def ensure_demo_data() -> str | None:
    """Load the demo data into an empty system of record and commit; return a one-line summary, or None
    when persons already exist."""
    if has_persons():
        return None
    summary = generate_demo_data()
    db.session.commit()
    return summary.line()
