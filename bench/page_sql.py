"""Every SQL statement one page sends, with its time and PostgreSQL's plan (EXPLAIN (ANALYZE, BUFFERS)).

    PORTAL_DATABASE_URL=postgresql+psycopg://…/portal_bench_big PORTAL_INSTANCE_PATH=/work/bench_instance \
        python bench/page_sql.py [--page records|queue|search] [--explain] [--requests 20]

Runs against a database filled by ``portal demo`` (read-only apart from a staff member, a login session and the
audit rows the pages write): ``records`` is ``/me/records`` of the applicant of a case in review (as
bench/http_load.py picks them), ``queue`` the staff review queue of a new staff member, ``search`` that queue
searched by the 身份证 of that applicant. Prints the statements of one request in order with their median time over
``--requests`` requests, the request's wall and CPU time, and with ``--explain`` the plan of each SELECT.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--page", choices=("records", "queue", "search"), default="records")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--requests", type=int, default=20)
    return parser.parse_args()


def visitor(app, page: str):
    """A test client as the visitor of ``page`` and the URL it reads."""
    from http_load import citizen_client
    from sqlalchemy import select

    from portal.applications.models import Application
    from portal.core.db import db

    with app.app_context():
        case = db.session.execute(select(Application).where(Application.queue == "review",
                                                            Application.person_id.is_not(None)).limit(1)).scalar_one()
        applicant, person = case.applicant_id, case.person
        number = person.id_number if person is not None else None
    if page == "records":
        return citizen_client(app, applicant), "/me/records"
    import queue_page

    from portal.accounts import operations as account_ops
    from portal.accounts.models import Role
    from portal.core.audit import Actor

    username = f"sql{secrets.token_hex(3)}"
    with app.app_context(), app.test_request_context("/"):
        _staff, secret = account_ops.create_staff(
            account_ops.NewStaff(username, "测试经办", "Bench-Queue-2026", frozenset({Role.ACCEPTOR, Role.REVIEWER})),
            actor=Actor.system())
        db.session.commit()
    client = queue_page.log_in(app, username, secret)
    if page == "search":
        queue_page.search(client, number)
    return client, "/staff/queues/review"


def main() -> None:
    args = parse()
    os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")
    from sqlalchemy import event, text

    from portal import create_app

    app = create_app()
    client, url = visitor(app, args.page)
    engine = app.extensions["portal_db_engine"]
    for _ in range(3):
        assert client.get(url).status_code == 200
    runs: list[list[tuple[str, object, float]]] = []
    current: list[tuple[str, object, float]] = []
    started = {"at": 0.0}

    def before(_conn, _cursor, statement, parameters, _context, _many):
        started["at"] = time.perf_counter()

    def after(_conn, _cursor, statement, parameters, _context, _many):
        current.append((statement, parameters, time.perf_counter() - started["at"]))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    walls, cpus = [], []
    try:
        for _ in range(args.requests):
            current = []
            wall, cpu = time.perf_counter(), time.process_time()
            assert client.get(url).status_code == 200
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            runs.append(current)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    print(f"{url}: {statistics.median(len(r) for r in runs)} statements, request wall "
          f"{statistics.median(walls) * 1000:.1f} ms, CPU of this process {statistics.median(cpus) * 1000:.1f} ms")
    last = runs[-1]
    for i, (statement, parameters, _t) in enumerate(last):
        times = [r[i][2] for r in runs if len(r) > i and r[i][0] == statement]
        print(f"\n[{i}] {statistics.median(times) * 1000:.2f} ms  {' '.join(statement.split())[:400]}")
        if args.explain and statement.lstrip().upper().startswith("SELECT"):
            with engine.connect() as connection:
                raw = connection.connection.dbapi_connection
                with raw.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = "\n".join("      " + row[0] for row in cursor.fetchall())
                connection.execute(text("ROLLBACK"))
            print(re.sub(r"\n\s*\n", "\n", plan))


if __name__ == "__main__":
    main()
