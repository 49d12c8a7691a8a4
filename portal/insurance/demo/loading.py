"""Loading the plan: bulk inserts with list positions mapped to database ids, and the summary line."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import exists, insert, select

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
from .build import build_demo_plan
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

    def line(self) -> str:
        return (f"demo data for {self.region} (seed {self.seed}): {self.persons} persons, {self.units} units, "
                f"{self.enrolments} enrolments, {self.contributions} contributions, {self.accounts} accounts, "
                f"{self.transactions} account transactions, {self.benefits} benefits in {self.seconds:.1f} s")


def insert_plan(plan: DemoPlan) -> None:
    """Bulk-insert the plan's rows (mapping list positions to database ids). Flushes, does not commit."""
    session = db.session
    session.flush()

    def returning_ids(model: Any, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(session.execute(stmt, rows).scalars())

    for row in plan.units:
        row["legal_rep_id_index"] = id_number_index(row["legal_rep_id_number"])
    unit_ids = returning_ids(Unit, plan.units)
    for row in plan.persons:
        row["id_number_index"] = id_number_index(row["id_number"])
        row["name_index"] = person_name_index(row["name"])  # a bulk insert: the model's validator does not run
        row["phone_index"] = phone_index(row["phone"]) if row["phone"] else None
        if row["unit_id"] is not None:
            row["unit_id"] = unit_ids[row["unit_id"]]
    person_ids = returning_ids(Person, plan.persons)
    for row in plan.enrolments:
        row["person_id"] = person_ids[row["person_id"]]
        if row["unit_id"] is not None:
            row["unit_id"] = unit_ids[row["unit_id"]]
    enrolment_ids = returning_ids(Enrolment, plan.enrolments)
    for row in plan.events:
        row["enrolment_id"] = enrolment_ids[row["enrolment_id"]]
        for key in ("from_unit_id", "to_unit_id"):
            if row[key] is not None:
                row[key] = unit_ids[row[key]]
    for row in plan.accounts:
        row["person_id"] = person_ids[row["person_id"]]
    account_ids = returning_ids(PersonalAccount, plan.accounts)
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
        for start in range(0, len(rows), 20_000):
            session.execute(insert(model), rows[start:start + 20_000])
    session.flush()


def generate_demo_data(seed: int = 20261122, persons: int = 2000, units: int = 100) -> DemoSummary:
    """Build and insert the demo data for the deployment region (``PORTAL_REGION``). Flushes, does not commit."""
    started = time.perf_counter()
    region = current_app.config["PORTAL_REGION"]
    plan = build_demo_plan(seed, persons, units, region)
    insert_plan(plan)
    return DemoSummary(
        seed=seed, region=region, units=len(plan.units), persons=len(plan.persons), enrolments=len(plan.enrolments),
        events=len(plan.events), contributions=len(plan.contributions), accounts=len(plan.accounts),
        transactions=len(plan.transactions), benefits=len(plan.benefits), seconds=time.perf_counter() - started,
    )


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
