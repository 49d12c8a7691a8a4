"""The workbench's queue page at 100,000 cases against the same page at 1,000, measured in the same run.

    python bench/queue_page.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench] \
                          [--small 1000] [--large 100000] [--requests 40]

What it does:

1. a fresh database: a temporary SQLite file, or a new schema in the PostgreSQL database given (dropped at the
   end); the tables as the models define them (``create_all``), the app built on it;
2. 200 insured people with citizen accounts, and a staff member (受理 + 审核) logged in through the real staff
   login page (password + TOTP) of a Flask test client;
3. ``--small`` cases written with one multi-row INSERT per 5,000 (Core, values sealed once and reused): states
   spread over every queue, submission dates over the last 200 days, deadlines from 40 days ago to 40 days on;
4. the pages measured: ``/staff/queues/review`` (first page, and the page three "next" links on, read by
   cursor), ``/staff/queues/overdue``, and the review queue searched by one person's 身份证 (a person with four
   cases: three about them, one filed on their behalf; the search is the blind-index lookup), each
   ``--requests`` times after a warm-up; every SQL statement of a request counted;
5. more cases inserted up to ``--large``, ``ANALYZE``, and the same pages measured again;
6. per page: queries per request at both sizes (the same: keyset pagination reads one index range; besides the
   page's own query, a request reads the login session and appends its audit row; the calendar is kept for the
   day), the median time of the whole request at both sizes and the ratio (target ≤ 2×; the ID search ≤ 1.2×),
   the median time spent in SQL, and the median CPU time of the request in this process with its ratio (the
   wall clock of a loaded machine varies between the two rounds; the CPU a request costs much less).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as ``python bench/queue_page.py`` from a clone
TARGET_RATIO = 2.0
SEARCH_TARGET = 1.2  # the ID search: two indexed lookups, whatever the size of the queue
SEARCHED = "220102196002141236"[:17]  # the person searched for (first 17 digits; the check digit is computed)
BATCH = 5_000
PEOPLE = 200
ITEMS = ("G002036005000_01_001", "G002036003002_01", "G002036006001", "G002036001005_02_02", "G002036004001")
# (state, share of all cases); accepted and money flags follow from the state below
STATES = (("draft", 4), ("submitted", 12), ("correction_requested", 8), ("resubmitted", 3), ("accepted", 8),
          ("under_review", 14), ("approved", 4), ("paying", 4), ("completed", 30), ("delivered", 5),
          ("not_accepted", 3), ("denied", 3), ("withdrawn", 2))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    return parser.parse_args()


# --- the database and the app ------------------------------------------------------------------------------


def build_app(url: str | None, folder: Path):
    from portal import create_app

    schema = None
    if url and url.startswith("postgresql"):
        schema = f"bench_queue_{secrets.token_hex(4)}"
        from sqlalchemy import create_engine, text

        admin = create_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    app = create_app({"ENV": "testing", "DATABASE_URL": url or f"sqlite:///{folder / 'bench.db'}",
                      "INSTANCE_PATH": str(folder / "instance"), "REGION": "jilin"})
    from portal.core.db import Base, db
    from portal.core.models_registry import import_all_models

    import_all_models()
    with app.app_context():
        Base.metadata.create_all(db.engine)
    return app, schema


def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def people_and_staff(app) -> tuple[list[int], str, str]:
    """200 citizens bound to insured people, and a staff member; returns (citizen ids, username, TOTP secret)."""
    from portal.accounts import operations as account_ops
    from portal.accounts.models import Account, Role
    from portal.core.audit import Actor
    from portal.core.db import db
    from portal.core.validators import id_check_digit
    from portal.insurance.models import Person

    with app.app_context(), app.test_request_context("/"):
        accounts = []
        for i in range(PEOPLE):
            first17 = f"220102{1950 + i % 50}0{1 + i % 9}1{i % 10}{i:03d}"[:17]
            person = Person(insured_no=f"B{i:09d}", name=f"测试{i}", gender="M", birth_date=date(1960, 1, 1))
            person.set_id_number(first17 + id_check_digit(first17))
            db.session.add(person)
            db.session.flush()
            accounts.append(Account(kind="citizen", login_key=f"citizen:bench{i}", person_id=person.id,
                                    display_name=f"测试{i}"))
        db.session.add_all(accounts)
        searched = Person(insured_no="BSEARCH001", name="测试查找", gender="F", birth_date=date(1960, 2, 14))
        searched.set_id_number(SEARCHED + id_check_digit(SEARCHED))
        db.session.add(searched)
        _staff, secret = account_ops.create_staff(
            account_ops.NewStaff("benchclerk", "测试经办", "Bench-Queue-2026",
                                 frozenset({Role.ACCEPTOR, Role.REVIEWER})), actor=Actor.system())
        db.session.commit()
        return [a.id for a in accounts], "benchclerk", secret


def insert_cases(app, count: int, citizens: list[int], start: int, rng: random.Random) -> None:
    """``count`` more cases, one multi-row INSERT per batch; the sealed columns are sealed once and reused."""
    from sqlalchemy import Boolean, Date, DateTime, Integer, String, column, insert, table, text

    from portal.core.crypto import keyring
    from portal.core.db import db
    from portal.workbench.queues import queue_of, work_due_of

    columns = {"number": String, "region": String, "item_code": String, "item_name": String, "handler": String,
               "audience": String, "is_money": Boolean, "is_instant": Boolean, "limit_kind": String,
               "limit_value": Integer, "limit_wording": String, "applicant_id": Integer, "person_id": Integer,
               "applicant_name": String, "on_behalf": Boolean, "form_json": String, "materials_json": String,
               "state": String, "version": Integer, "queue": String, "work_due": Date, "created_at": DateTime,
               "updated_at": DateTime, "submitted_at": DateTime, "accepted_at": DateTime, "accept_by": Date,
               "due_date": Date, "paused_working_days": Integer, "decision_reason": String}
    target = table("application", *[column(name, kind) for name, kind in columns.items()])
    states = [s for s, share in STATES for _ in range(share)]
    now = datetime.now(UTC)
    today = now.date()
    with app.app_context():
        ring = keyring()
        name = ring.seal("测试申请人", "application.applicant_name")
        form = ring.seal("{}", "application.form")
        rows = []
        for n in range(start, start + count):
            state = rng.choice(states)
            money = rng.random() < 0.3 or state == "paying"
            accepted = state not in ("draft", "submitted", "not_accepted", "withdrawn") and not (
                state in ("correction_requested", "resubmitted") and rng.random() < 0.5)
            submitted = now - timedelta(days=rng.randint(0, 200), minutes=rng.randint(0, 1440))
            accept_by = today + timedelta(days=rng.randint(-40, 40))
            due = today + timedelta(days=rng.randint(-40, 40)) if accepted else None
            queue = queue_of(state, accepted=accepted, is_money=money)
            rows.append({
                "number": None if state == "draft" else f"JB{n:010d}", "region": "jilin",
                "item_code": ITEMS[n % len(ITEMS)], "item_name": "测试事项", "handler": "generic",
                "audience": "individual", "is_money": money, "is_instant": False, "limit_kind": "working_days",
                "limit_value": 20, "limit_wording": "20个工作日", "applicant_id": citizens[n % len(citizens)],
                "person_id": None, "applicant_name": name, "on_behalf": False, "form_json": form,
                "materials_json": "{}", "state": state, "version": 1, "queue": queue,
                "work_due": work_due_of(queue, accept_by=accept_by, due_date=due), "created_at": submitted,
                "updated_at": submitted, "submitted_at": None if state == "draft" else submitted,
                "accepted_at": submitted + timedelta(days=1) if accepted else None, "accept_by": accept_by,
                "due_date": due, "paused_working_days": 0,
                "decision_reason": "理由" if state in ("not_accepted", "denied") else None})
            if len(rows) == BATCH:
                db.session.execute(insert(target), rows)
                rows = []
        if rows:
            db.session.execute(insert(target), rows)
        db.session.commit()
        if db.is_postgres:
            db.session.execute(text("ANALYZE application"))
            db.session.commit()


# --- measuring ---------------------------------------------------------------------------------------------


def give_cases_to_the_searched_person(app) -> None:
    """Four review cases of the small set become the searched person's: three about them, one on their behalf."""
    from sqlalchemy import bindparam, select, text

    from portal.core.db import db
    from portal.insurance.models import Person

    with app.app_context():
        person = db.session.execute(select(Person).where(Person.insured_no == "BSEARCH001")).scalar_one()
        ids = list(db.session.execute(text("SELECT id FROM application WHERE queue = 'review' ORDER BY id LIMIT 4"))
                   .scalars())
        db.session.execute(text("UPDATE application SET person_id = :p WHERE id IN :ids")
                           .bindparams(bindparam("ids", expanding=True)),
                           {"p": person.id, "ids": ids[:3]})
        db.session.execute(text("UPDATE application SET principal_id_index = :x WHERE id = :i"),
                           {"x": person.id_number_index, "i": ids[3]})
        db.session.commit()


def search(client, id_number: str) -> None:
    """Search the queues by a 身份证 (kept in the staff session), or clear the search with ""."""
    import re

    page = client.get("/staff/queues/review").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/staff/search", data={"csrf_token": token, "queue": "review", "id_number": id_number})
    assert response.status_code == 302


def searched_page(app, client, requests: int) -> tuple[float, int, float, float]:
    import re

    from portal.core.validators import id_check_digit

    search(client, SEARCHED + id_check_digit(SEARCHED))
    listed = set(re.findall(r"JB\d{10}", client.get("/staff/queues/review").get_data(as_text=True)))
    assert len(listed) == 4, listed  # the person's four cases, and only those
    try:
        return measure(app, client, "/staff/queues/review", requests)
    finally:
        search(client, "")


def log_in(app, username: str, secret: str):
    import re

    from portal.accounts.passwords import current_totp

    client = app.test_client()
    page = client.get("/login/staff").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login/staff", data={"csrf_token": token, "username": username,
                                                 "password": "Bench-Queue-2026",
                                                 "totp": current_totp(secret, datetime.now(UTC))})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def deep_url(client, url: str, hops: int) -> str:
    """The address ``hops`` "next page" links on from ``url`` (keyset cursors)."""
    import re

    for _ in range(hops):
        found = re.search(r'href="([^"]+)" rel="next"', client.get(url).get_data(as_text=True))
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    return url


def measure(app, client, url: str, requests: int) -> tuple[float, int, float, float]:
    """Median seconds per request, SQL statements per request (the most frequent count: once a minute the login
    session's ``last_seen_at`` is refreshed, one more UPDATE whatever the page), the median seconds the
    database took within a request (all its statements), and the median CPU seconds of this process per request
    (the app's own work: unlike the wall clock, not stretched by other processes on a loaded machine)."""
    from sqlalchemy import event

    engine = app.extensions["portal_db_engine"]
    counts: list[int] = []
    current = {"count": 0, "sql": 0.0, "started": 0.0}

    def before(*_args, **_kwargs):
        current["count"] += 1
        current["started"] = time.perf_counter()

    def after(*_args, **_kwargs):
        current["sql"] += time.perf_counter() - current["started"]

    for _ in range(5):
        assert client.get(url).status_code == 200, url
    times, sql, cpu = [], [], []
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for _ in range(requests):
            current.update(count=0, sql=0.0)
            started, used = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
            assert response.status_code == 200, url
            counts.append(current["count"])
            sql.append(current["sql"])
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return statistics.median(times), statistics.mode(counts), statistics.median(sql), statistics.median(cpu)


def round_of(app, client, requests: int) -> dict[str, tuple[float, int, float, float]]:
    pages = {"review, first page": "/staff/queues/review",
             "review, 4th page": deep_url(client, "/staff/queues/review", 3),
             "overdue, first page": "/staff/queues/overdue"}
    measured = {name: measure(app, client, url, requests) for name, url in pages.items()}
    measured["review, ID search"] = searched_page(app, client, requests)
    return measured


def main() -> None:
    args = parse()
    os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")
    rng = random.Random(20261201)
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as folder:
        app, schema = build_app(args.database_url, Path(folder))
        try:
            citizens, username, secret = people_and_staff(app)
            started = time.perf_counter()
            insert_cases(app, args.small, citizens, 0, rng)
            give_cases_to_the_searched_person(app)
            client = log_in(app, username, secret)
            small = round_of(app, client, args.requests)
            insert_cases(app, args.large - args.small, citizens, args.small, rng)
            inserted = time.perf_counter() - started
            large = round_of(app, client, args.requests)
        finally:
            if schema:
                with app.app_context():
                    from portal.core.db import db

                    db.session.remove()
                    db.engine.dispose()
                drop_schema(args.database_url, schema)
    engine = "PostgreSQL" if schema else "SQLite"
    print(f"queue page on {engine}: {args.small:,} vs {args.large:,} cases "
          f"({args.large:,} inserted in {inserted:.1f} s), {args.requests} requests each, medians")
    worst = search = worst_cpu = search_cpu = 0.0
    for name in small:
        (t_small, q_small, s_small, c_small), (t_large, q_large, s_large, c_large) = small[name], large[name]
        ratio, cpu_ratio = t_large / t_small, c_large / c_small
        if name.endswith("ID search"):
            search, search_cpu = ratio, cpu_ratio
        else:
            worst, worst_cpu = max(worst, ratio), max(worst_cpu, cpu_ratio)
        print(f"  {name:20s} queries {q_small:>2} → {q_large:>2}   "
              f"page {t_small * 1000:6.1f} → {t_large * 1000:6.1f} ms  ratio {ratio:4.2f}×   "
              f"of which SQL {s_small * 1000:5.1f} → {s_large * 1000:5.1f} ms   "
              f"CPU {c_small * 1000:5.1f} → {c_large * 1000:5.1f} ms  ratio {cpu_ratio:4.2f}×")
    print(f"worst ratio {worst:.2f}× by wall clock, {worst_cpu:.2f}× by CPU (target ≤ {TARGET_RATIO:.0f}×): "
          f"wall {'OK' if worst <= TARGET_RATIO else 'MISSED'}, CPU {'OK' if worst_cpu <= TARGET_RATIO else 'MISSED'}")
    print(f"ID search ratio {search:.2f}× by wall clock, {search_cpu:.2f}× by CPU (target ≤ {SEARCH_TARGET}×): "
          f"wall {'OK' if search <= SEARCH_TARGET else 'MISSED'}, "
          f"CPU {'OK' if search_cpu <= SEARCH_TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
