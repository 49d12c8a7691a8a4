"""The supervisor's dashboard figures at 100,000 cases against the same figures at 1,000, in one run.

    python bench/dashboard.py [--small 1000] [--large 100000] [--runs 5] [--database-url URL]

For each size, in a fresh database (a temporary SQLite file, or the PostgreSQL database URL given, whose
tables are dropped and re-created), it inserts that many cases spread over 60 items, 14 weeks, every state
and 8 staff members, then computes every figure of the dashboard (cases per state, per-item on-time rate and
average working days, overdue list, load per staff member, weekly trend) RUNS times. It prints the number of
SQL statements (the same at every size: the figures are GROUP BY queries), the median time, and the ratio of
the large median to the small one. The work of a GROUP BY grows with the rows it reads, so the ratio is
expected to follow the number of cases, far below what loading the cases into Python would cost.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from argon2 import PasswordHasher
from sqlalchemy import event, insert, text

from portal import create_app
from portal.accounts import operations as account_ops
from portal.accounts import passwords
from portal.accounts.models import Role
from portal.applications.models import Application
from portal.core import clock
from portal.core.audit import Actor
from portal.core.db import Base, db
from portal.core.models_registry import import_all_models
from portal.dashboard import queries

NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in China
STATES = (["completed"] * 55 + ["delivered"] * 15 + ["under_review"] * 8 + ["accepted"] * 6 + ["submitted"] * 6
          + ["correction_requested"] * 4 + ["approved"] * 2 + ["denied"] * 2 + ["not_accepted"] * 1
          + ["withdrawn"] * 1)


def rows(n: int, applicant: int, staff: list[int], rng: random.Random) -> list[dict]:
    out = []
    for i in range(n):
        state = rng.choice(STATES)
        submitted = NOW - timedelta(days=rng.uniform(0, 98))
        accepted = submitted + timedelta(hours=rng.uniform(1, 30))
        done = state in ("completed", "delivered")
        completed = accepted + timedelta(days=rng.uniform(0, 12)) if done else None
        if completed and completed > NOW:
            completed = NOW
        due = clock.to_local(accepted).date() + timedelta(days=rng.choice((0, 7, 14, 28)))
        out.append({
            "number": f"B{i:09d}", "region": "jilin", "item_code": f"ITEM{i % 60:02d}", "item_name": f"事项{i % 60}",
            "handler": "generic", "audience": "individual", "limit_kind": "working_days", "limit_value": 5,
            "limit_wording": "", "applicant_id": applicant, "applicant_name": "测试", "form_json": "{}",
            "materials_json": "{}", "state": state, "version": 1, "created_at": submitted, "updated_at": submitted,
            "submitted_at": submitted, "accepted_at": accepted if state != "submitted" else None,
            "completed_at": completed, "due_date": due, "paused_working_days": rng.choice((0, 0, 0, 2)),
            "assignee_id": rng.choice(staff) if not done and state not in ("denied", "not_accepted", "withdrawn")
            else None, "on_behalf": False, "is_money": False, "is_instant": False,
            "decision_reason": "材料不符合规定" if state in ("denied", "not_accepted") else None,
        })
    return out


def figures() -> None:
    period = queries.Period(date(2026, 8, 1), date(2026, 11, 16))
    queries.state_counts("jilin")
    queries.item_figures("jilin", period)
    queries.overdue("jilin")
    queries.staff_load("jilin")
    queries.weekly_trend("jilin")


def measure(url: str, n: int, runs: int) -> tuple[int, float]:
    app = create_app({"ENV": "testing", "DATABASE_URL": url, "INSTANCE_PATH": tempfile.mkdtemp(prefix="dash-")})
    import_all_models()
    with app.app_context(), clock.frozen(NOW):
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        passwords.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # accounts, not timed
        staff = [account_ops.create_staff(account_ops.NewStaff(f"s{k}", f"Staff {k}", "Correct-Horse-42",
                                                               frozenset({Role.REVIEWER})), actor=Actor.system())[0].id
                 for k in range(8)]
        data = rows(n, staff[0], staff, random.Random(n))
        for start in range(0, n, 5000):
            db.session.execute(insert(Application), data[start:start + 5000])
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE" if db.is_postgres else "ANALYZE"))  # a table in steady state
        figures()  # warm: the calendar's overrides, the statement cache
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        figures()
        event.remove(db.engine, "before_cursor_execute", listener)
        times = []
        for _ in range(runs):
            begin = time.perf_counter()
            figures()
            times.append(time.perf_counter() - begin)
        db.session.remove()
        Base.metadata.drop_all(db.engine)
        db.engine.dispose()
    return len(statements), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    results = {}
    for n in (args.small, args.large):
        url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='dash-db-')}/bench.db"
        results[n] = measure(url, n, args.runs)
        print(f"{n:>7} cases: {results[n][0]} SQL statements, median {results[n][1] * 1000:.1f} ms "
              f"over {args.runs} runs")
    (q_small, t_small), (q_large, t_large) = results[args.small], results[args.large]
    print(f"statements: {q_small} vs {q_large} ({'constant' if q_small == q_large else 'NOT constant'}); "
          f"time ratio large/small: {t_large / t_small:.1f}× for {args.large / args.small:.0f}× the cases")


if __name__ == "__main__":
    main()
