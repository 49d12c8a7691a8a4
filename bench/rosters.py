"""A unit's roster of 10,000 persons against one of 1,000, in one run: checking the upload, and applying it when the
case completes.

    python bench/rosters.py [--small 1000] [--large 10000] [--runs 3] [--database-url URL]

In a fresh database (a temporary SQLite file, or the PostgreSQL database URL given, whose tables are dropped and
re-created) it makes a unit, its agent and staff, then for each size and run:

- **check**: a draft of 吉林 职工参保登记 takes an XLSX of that many 增加 rows (half the persons already in the records,
  without an enrolment; the rest new) through ``rosters.store.upload_file`` — reading (openpyxl, values only), the
  check of every cell and of every row against the records, sealing and storing — and commits. It reports the wall
  and CPU time, the peak of Python allocations during the check (tracemalloc) and the process's peak RSS.
- **apply**: the case is submitted, accepted, reviewed, approved and completed; completion re-checks every row and
  writes the persons, enrolments and history rows in one transaction. It reports wall and CPU time of the completion
  and its commit.

- **baseline** (same run, same database): writing the same number of persons, enrolments and history rows with
  nothing else — ``core.bulk`` (COPY on PostgreSQL), every sealed column sealed — then rolled back. It is the floor
  of any apply; ``apply ÷ baseline`` (wall and CPU) says how much the completion costs beyond writing the rows.

It prints the median of each, the ratio of the large size to the small one (the work should grow with the rows, not
faster), the ratio of apply to the baseline, and whether the large size meets the targets (check ≤ 5 s and ≤ 200
MB, apply ≤ 10 s). The machine may be shared: the CPU times say how much of the wall time was this process's own.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from argon2 import PasswordHasher
from sqlalchemy import func, select

from portal import create_app
from portal.accounts import operations as account_ops
from portal.accounts import passwords
from portal.accounts.models import Account, Role
from portal.applications import operations as ops
from portal.applications.constants import MaterialMode
from portal.core import clock
from portal.core.audit import Actor
from portal.core.db import Base, db
from portal.core.models_registry import import_all_models
from portal.insurance.models import Enrolment, Person, Unit
from portal.rosters import store
from tests.rosters.support import ROSTER_ITEM, person_rows, workbook

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SYSTEM = Actor.system()
TARGET_CHECK_S, TARGET_CHECK_MB, TARGET_APPLY_S = 5.0, 200.0, 10.0


def _setup():
    passwords.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # accounts, not timed
    unit = Unit(code="UBENCH0001", credit_code="91220101MABENCH01X", name="长春基准测试有限公司")
    db.session.add(unit)
    db.session.flush()
    agent = account_ops.register_first_agent(unit, account_ops.NewAgent("13900000001", "经办人"), actor=SYSTEM)
    staff = {name: account_ops.create_staff(account_ops.NewStaff(f"b{name}", name, "Correct-Horse-42",
                                                                 frozenset({role})), actor=SYSTEM)[0]
             for name, role in (("acceptor", Role.ACCEPTOR), ("reviewer", Role.REVIEWER))}
    db.session.commit()
    return agent, staff


def _known_persons(rows: list[list[str]]) -> None:
    """Half the roster's persons are in the records already (not enrolled): the check finds them."""
    for row in rows[::2]:
        person = Person(insured_no=f"PB{row[2][-12:]}", name=row[0], gender="M",
                        birth_date=datetime.strptime(row[2][6:14], "%Y%m%d").date())
        person.set_id_number(row[2])
        db.session.add(person)
    db.session.commit()


def _draft(item, agent):
    case = ops.start_application(item, by=agent, actor=SYSTEM)
    materials = {m.id: MaterialMode.AT_WINDOW.value for m in item.materials}
    ops.save_draft(case, ops.DraftInput(form=case.form_data, materials=materials), by=agent, actor=SYSTEM)
    db.session.commit()
    return case


def one_run(item, agent_id: int, staff_ids: dict[str, int], n: int, offset: int) -> dict[str, float]:
    agent = db.session.get(Account, agent_id)
    staff = {name: db.session.get(Account, k) for name, k in staff_ids.items()}
    rows = person_rows(n, offset=offset)
    _known_persons(rows)
    data = workbook(rows)
    case = _draft(item, agent)
    wall, cpu = time.perf_counter(), time.process_time()
    roster = store.upload_file(case, item, data, "bench.xlsx", by=agent, actor=SYSTEM)
    db.session.commit()
    check_wall, check_cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert roster.row_count == n and roster.error_count == 0, (roster.row_count, roster.error_count)
    # the memory of the same check, measured apart (tracemalloc slows Python down several times) and rolled back
    other = _draft(item, agent)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    store.upload_file(other, item, data, "bench.xlsx", by=agent, actor=SYSTEM)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    db.session.rollback()
    ops.submit_application(case, by=agent, actor=SYSTEM)
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    db.session.commit()
    db.session.expire_all()
    wall, cpu = time.perf_counter(), time.process_time()
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)
    db.session.commit()
    apply_wall, apply_cpu = time.perf_counter() - wall, time.process_time() - cpu
    enrolled = db.session.execute(select(func.count()).select_from(Enrolment)).scalar_one()
    assert enrolled == offset + n, (enrolled, offset + n)
    db.session.expunge_all()
    base_wall, base_cpu = _baseline(agent.unit_id, n, offset)
    return {"check_s": check_wall, "check_cpu_s": check_cpu, "check_mb": peak / 2**20, "apply_s": apply_wall,
            "apply_cpu_s": apply_cpu, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_growth_mb": rss_growth, "base_s": base_wall, "base_cpu_s": base_cpu}


def _baseline(unit_id: int, n: int, offset: int) -> tuple[float, float]:
    """Wall and CPU seconds of writing ``n`` persons, enrolments and history rows through ``core.bulk`` alone (the
    floor of an apply), rolled back."""
    from portal.core import bulk
    from portal.core.validators import id_birth_date, id_gender
    from portal.insurance.constants import EnrolmentEventKind, EnrolmentStatus, InsuranceType, PersonCategory
    from portal.insurance.models import EnrolmentEvent, id_number_index, person_name_index

    rows = person_rows(n, offset=offset + 1_000_000)
    today, now = clock.today(), clock.now()
    db.session.commit()
    wall, cpu = time.perf_counter(), time.process_time()
    person_ids = bulk.allocate_ids(Person.__table__, n)
    bulk.insert_rows(Person.__table__, [{
        "id": i, "insured_no": f"PX{i:012d}", "name": r[0], "name_index": person_name_index(r[0]), "id_number": r[2],
        "id_number_index": id_number_index(r[2]), "gender": id_gender(r[2]), "birth_date": id_birth_date(r[2]),
        "category": PersonCategory.EMPLOYEE, "unit_id": unit_id, "is_retired_cadre": False, "created_at": now}
        for i, r in zip(person_ids, rows, strict=True)])
    enrolment_ids = bulk.allocate_ids(Enrolment.__table__, n)
    bulk.insert_rows(Enrolment.__table__, [{
        "id": e, "person_id": p, "insurance_type": InsuranceType.EMPLOYEE_MEDICAL, "unit_id": unit_id,
        "status": EnrolmentStatus.ACTIVE, "start_date": today, "created_at": now}
        for e, p in zip(enrolment_ids, person_ids, strict=True)])
    bulk.insert_rows(EnrolmentEvent.__table__, [{"enrolment_id": e, "kind": EnrolmentEventKind.ADDED,
                                                 "effective_date": today, "note": "baseline", "recorded_at": now}
                                                for e in enrolment_ids])
    db.session.flush()
    out = time.perf_counter() - wall, time.process_time() - cpu
    db.session.rollback()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='roster-db-')}/bench.db"
    app = create_app({"ENV": "testing", "DATABASE_URL": url, "INSTANCE_PATH": tempfile.mkdtemp(prefix="roster-")})
    import_all_models()
    results: dict[int, list[dict[str, float]]] = {args.small: [], args.large: []}
    with app.test_request_context("/", headers={"Cookie": "lang=en"}), clock.frozen(NOW):
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        agent, staff = _setup()
        agent_id, staff_ids = agent.id, {name: a.id for name, a in staff.items()}
        item = app.extensions["portal_catalog"].get(ROSTER_ITEM)
        offset = 0
        for n in (args.small, args.large):
            for _run in range(args.runs):
                results[n].append(one_run(item, agent_id, staff_ids, n, offset))
                offset += n
        db.session.remove()
        Base.metadata.drop_all(db.engine)
        db.engine.dispose()
    print(f"database: {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}; {args.runs} runs per size")
    medians = {}
    for n, runs in results.items():
        medians[n] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        m = medians[n]
        print(f"{n:>6} rows: check {m['check_s']:.2f} s (CPU {m['check_cpu_s']:.2f} s, peak allocations "
              f"{m['check_mb']:.0f} MB, peak RSS growth {m['rss_growth_mb']:.0f} MB); "
              f"apply {m['apply_s']:.2f} s (CPU {m['apply_cpu_s']:.2f} s); "
              f"process peak RSS {max(r['rss_mb'] for r in runs):.0f} MB")
    small, large = medians[args.small], medians[args.large]
    ratio = args.large / args.small
    print(f"ratio {args.large}/{args.small} rows ({ratio:.0f}×): check {large['check_s'] / small['check_s']:.1f}×, "
          f"apply {large['apply_s'] / small['apply_s']:.1f}×")
    for n in (args.small, args.large):
        m = medians[n]
        print(f"{n:>6} rows: baseline (bulk write of the same rows) {m['base_s']:.2f} s (CPU {m['base_cpu_s']:.2f} s); "
              f"apply ÷ baseline {m['apply_s'] / m['base_s']:.1f}× wall, {m['apply_cpu_s'] / m['base_cpu_s']:.1f}× CPU")
    verdict = (large["check_s"] <= TARGET_CHECK_S, large["check_mb"] <= TARGET_CHECK_MB,
               large["apply_s"] <= TARGET_APPLY_S)
    print(f"targets at {args.large} rows: check ≤ {TARGET_CHECK_S:.0f} s {'met' if verdict[0] else 'MISSED'}, "
          f"≤ {TARGET_CHECK_MB:.0f} MB {'met' if verdict[1] else 'MISSED'}; apply ≤ {TARGET_APPLY_S:.0f} s "
          f"{'met' if verdict[2] else 'MISSED'}")


if __name__ == "__main__":
    main()
