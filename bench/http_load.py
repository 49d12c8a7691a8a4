"""Requests per second of the portal's main endpoints under load, as ratios measured in one run (wrk, gunicorn).

    python bench/http_load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench \
        [--persons 200000] [--cases 100000] [--workers 4] [--connections 32] [--seconds 5] [--rounds 3]

Needs ``wrk`` (``apt-get install -y wrk``); nothing else in the repository depends on it.

What it does:

1. a new database on the PostgreSQL server of the URL given (dropped at the end), at the head revision, filled by
   ``portal demo --persons P --cases C`` (insured people with their histories, and cases in every state filed by
   citizens bound to them); a staff member (受理 + 审核) logged in through the staff login page, one applicant's
   browser session, a progress token (``/q/<token>``) of one of their cases, an employee's 参保凭证 with its
   verification code (``/v/<code>``), and API tokens of ``--writers`` employees for the filing write path;
2. gunicorn with ``--workers`` sync workers serving the portal, and the same gunicorn serving a bare Flask app
   (bench/bare_app.py, one route) as the baseline;
3. ``--rounds`` interleaved rounds: in each, every endpoint is loaded by wrk for ``--seconds`` at
   ``--connections`` connections, while ``pg_stat_activity`` is sampled every 20 ms for backends waiting on a lock;
   then the filing write path (API: create, save, submit) by ``--writers`` client threads, each an employee of
   their own, against ``/healthz`` by the same threads;
4. per endpoint the median requests per second and p50 latency over the rounds, and a figure the load of other
   processes on the machine does not distort: the CPU time per request of the gunicorn workers and of their
   PostgreSQL backends (from /proc, before and after each run), as a ratio to bare Flask's CPU per request; the
   lock waits seen; the ratios the issue sets goals for (``/healthz`` ÷ bare Flask, each page ÷ ``/healthz``,
   the write path's time ÷ ``/healthz``'s), each printed with its goal, by wall clock and by CPU; and each goal
   against ``/healthz`` again as it was set, against bare Flask (``HEALTHZ_WHEN_SET``: ``/healthz`` has since got
   three times faster, which moved those goals three times further away).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

GUIDE_ITEM = "/guide/items/G002036004001"
WRITE_ITEM = "G002036003002_01"  # 医疗保险关系转移: filed by an employee, no published fields (as bench/progress_…)
BARE, HEALTHZ = "bare Flask /ping", "/healthz"
# (name, path, who, goal: (what the ratio is taken against, minimum) or None); who: None, "citizen" or "staff";
# {token} and {code} are filled in once the data exist
ENDPOINTS = (
    (BARE, "/ping", None, None),
    (HEALTHZ, "/healthz", None, ("bare", 0.5)),
    ("/guide/", "/guide/", None, ("healthz", 0.8)),
    ("guide item", GUIDE_ITEM, None, ("healthz", 0.8)),
    ("/api/v1/catalog/items", "/api/v1/catalog/items", None, None),
    ("/q/<token>", "/q/{token}", None, None),
    ("/v/<code>", "/v/{code}", None, None),
    ("/me/records", "/me/records", "citizen", ("healthz", 0.35)),
    ("  records' floor", "/floor/records", None, ("healthz", 0.35)),
    ("staff queue", "/staff/queues/review", "staff", ("healthz", 0.3)),
    ("  queue's floor", "/floor/queue", None, ("healthz", 0.3)),
)
# The floors (bench/bare_app.py): each page's own SQL statements, captured as the portal served it, run again by
# psycopg in the bare Flask app with HTML of the page's size; served by the bare gunicorn. A page can get no closer
# to /healthz than its floor on this stack, so a floor under its goal says the goal needs less work, not faster code.
FLOORS = {"records": ("/me/records", "citizen"), "queue": ("/staff/queues/review", "staff")}
WRITE_GOAL = 8.0  # the write path (create + save + submit) takes at most this many /healthz requests' time
# ``/healthz`` ÷ bare Flask when the goals were set (issue 18, 2026-12-06). A goal against ``/healthz`` moves when
# ``/healthz`` itself gets faster (it did: 0.24 → ~0.7 of bare Flask); the report also prints each one as the issue
# set it, against the bare Flask baseline that does not move: goal × 0.24.
HEALTHZ_WHEN_SET = 0.24
RAISED_LIMITS = {"PORTAL_LIMIT_PROGRESS_IP": "10000000/minute", "PORTAL_LIMIT_PROGRESS_GLOBAL": "10000000/minute",
                 "PORTAL_LIMIT_VERIFY_IP": "10000000/minute", "PORTAL_LIMIT_VERIFY_GLOBAL": "10000000/minute"}
TICK = os.sysconf("SC_CLK_TCK")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="PostgreSQL URL (a database of its own is made beside it)")
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writers", type=int, default=8, help="client threads of the filing write path")
    parser.add_argument("--existing-database", default=None, metavar="NAME",
                        help="use this database on the same server, already filled by portal demo (migrated to the "
                             "head, kept at the end; the write path adds cases to it) instead of making one")
    parser.add_argument("--instance", default=None,
                        help="with --existing-database: the instance folder of the portal that filled it (its keys)")
    return parser.parse_args()


@dataclass
class Result:
    rps: float
    p50_ms: float
    errors: int
    requests: int = 0
    app_cpu: float = 0.0  # seconds of CPU of the gunicorn workers during the run
    db_cpu: float = 0.0  # seconds of CPU of their PostgreSQL backends
    lock_waits: int = 0  # backends seen waiting on a lock, summed over the samples
    sampled: int = 0  # backends seen, summed over the samples
    most_waiting: int = 0

    @property
    def cpu_ms(self) -> float:
        return (self.app_cpu + self.db_cpu) * 1000 / max(self.requests, 1)


# --- load-independent figures: CPU time from /proc, lock waits from pg_stat_activity --------------------------


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICK


def workers_of(server: subprocess.Popen) -> list[int]:
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in children]


class Probe:
    """Samples the bench database's backends while a run goes: their pids (for CPU) and who waits on a lock."""

    def __init__(self, url: str, database: str):
        import psycopg

        self.database = database
        self.connection = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
        self.stop = threading.Event()
        self.samples: list[tuple[int, int]] = []

    def backends(self) -> list[int]:
        rows = self.connection.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                                       "pg_backend_pid()", (self.database,)).fetchall()
        return [r[0] for r in rows]

    def _sample(self) -> None:
        while not self.stop.wait(0.02):
            row = self.connection.execute(
                "SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock') FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() AND state <> 'idle'", (self.database,)).fetchone()
            self.samples.append((row[0], row[1]))

    def during(self, run, server: subprocess.Popen) -> Result:
        """``run()`` (returns a Result) with the CPU of the workers and backends, and the lock waits, added."""
        self.samples, self.stop = [], threading.Event()
        sampler = threading.Thread(target=self._sample, daemon=True)
        workers, backends = workers_of(server), self.backends()
        app_before, db_before = cpu_seconds(workers), cpu_seconds(backends)
        sampler.start()
        try:
            result = run()
        finally:
            self.stop.set()
            sampler.join()
        backends = sorted(set(backends) | set(self.backends()))
        result.app_cpu = cpu_seconds(workers) - app_before
        result.db_cpu = cpu_seconds(backends) - db_before
        result.sampled = sum(n for n, _w in self.samples)
        result.lock_waits = sum(w for _n, w in self.samples)
        result.most_waiting = max((w for _n, w in self.samples), default=0)
        return result


# --- wrk -----------------------------------------------------------------------------------------------------


def wrk(url: str, *, cookie: str | None, connections: int, seconds: int) -> Result:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return Result(rps, float(p50.group(1)) * scale,
                  (int(errors.group(1)) if errors else 0) + (int(timeouts.group(1)) if timeouts else 0), requests)


# --- the data ------------------------------------------------------------------------------------------------


@dataclass
class Prepared:
    env: dict[str, str]
    database: str
    url: str
    cookies: dict[str, str]
    token: str
    code: str
    writers: list[str] = field(default_factory=list)  # API bearer tokens
    form: dict = field(default_factory=dict)
    materials: dict = field(default_factory=dict)
    demo_line: str = ""
    floors: dict = field(default_factory=dict)  # page name → its statements and HTML (bench/bare_app.py)
    clients: dict = field(default_factory=dict)  # the visitors' test clients, while the floors are captured


def prepare(url: str, folder: Path, persons: int, cases: int, writers: int, existing: str | None = None,
            instance: str | None = None) -> Prepared:
    """The database, its data and the logged-in visitors."""
    from sqlalchemy import create_engine, make_url, text

    database = existing or f"bench_http_{secrets.token_hex(4)}"  # a database of its own, dropped at the end
    if not existing:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {database}"))
        admin.dispose()
    scoped = str(make_url(url).set(database=database).render_as_string(hide_password=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({"PORTAL_ENV": "development", "PORTAL_INSTANCE_PATH": str(folder / "instance"),
                "PORTAL_DATABASE_URL": scoped, "PORTAL_LOG_LEVEL": "WARNING", "PORTAL_REGION": "jilin",
                "PYTHONPATH": str(ROOT), **RAISED_LIMITS})
    if instance:
        env["PORTAL_INSTANCE_PATH"] = instance
    os.environ.update({k: v for k, v in env.items() if k.startswith("PORTAL_")})
    from tests import servers

    servers.migrate(env)
    started = time.perf_counter()
    if existing:
        engine = create_engine(scoped)
        with engine.connect() as connection:
            counts = [connection.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("person", "application")]
        engine.dispose()
        demo = f"existing database {existing}: {counts[0]:,} persons, {counts[1]:,} applications"
    else:
        demo = subprocess.run([sys.executable, "-m", "portal", "demo", "--persons", str(persons), "--cases",
                               str(cases)], env=env, capture_output=True, text=True, check=True
                              ).stdout.strip().splitlines()[-1]
        demo += f" (wall {time.perf_counter() - started:.0f} s)"
    from portal import create_app

    app = create_app()
    prepared = Prepared(env, database, scoped, {}, "", "", demo_line=demo)
    with app.app_context(), app.test_request_context("/"):
        _visitors(app, prepared, writers)
        from portal.core.db import db

        db.session.remove()
        engine = db.engine
    # outside the context above: each request pushes its own (a shared one would keep the last visitor's user)
    prepared.floors = {page: capture(engine, prepared.clients[who], path) for page, (path, who) in FLOORS.items()}
    prepared.clients.clear()
    engine.dispose()
    floors = folder / "floors.pickle"
    floors.write_bytes(pickle.dumps(prepared.floors))
    prepared.env.update({"BENCH_FLOORS": str(floors),
                         "BENCH_FLOOR_DSN": scoped.replace("postgresql+psycopg://", "postgresql://", 1)})
    return prepared


def _visitors(app, prepared: Prepared, writers: int) -> None:
    import queue_page
    from sqlalchemy import select, text

    from portal.accounts import operations as account_ops
    from portal.accounts.models import Account, Role
    from portal.accounts.tokens import issue_token
    from portal.applications import operations as ops
    from portal.applications.models import Application
    from portal.certificates.constants import CertificateKind
    from portal.certificates.operations import issued_by, request_certificate
    from portal.core.audit import Actor
    from portal.core.db import db

    system = Actor.system()
    username = f"bench{secrets.token_hex(3)}"  # a new one each run (an existing database keeps earlier ones)
    _staff, secret = account_ops.create_staff(
        account_ops.NewStaff(username, "测试经办", "Bench-Queue-2026", frozenset({Role.ACCEPTOR, Role.REVIEWER})),
        actor=system)
    db.session.commit()
    staff = queue_page.log_in(app, username, secret)
    name = app.config["SESSION_COOKIE_NAME"]
    prepared.cookies["staff"] = f"{name}={staff.get_cookie(name).value}"
    # the applicant of a case in review: their browser, and the progress link of that case
    case = db.session.execute(select(Application).where(Application.queue == "review",
                                                        Application.person_id.is_not(None)).limit(1)).scalar_one()
    citizen = citizen_client(app, case.applicant_id)
    prepared.cookies["citizen"] = f"{name}={citizen.get_cookie(name).value}"
    prepared.clients = {"citizen": citizen, "staff": staff}
    prepared.token = ops.issue_progress_token(case)
    db.session.commit()
    # employees with an account (bound by the demo): a 参保凭证 for /v/<code>, and the writers' API tokens
    employees = list(db.session.execute(text(
        "SELECT a.id FROM account a JOIN person p ON p.id = a.person_id WHERE p.category = 'employee' "
        "AND p.death_date IS NULL AND p.unit_id IS NOT NULL ORDER BY a.id LIMIT :n"), {"n": writers + 20}).scalars())
    for account_id in employees[writers:]:
        voucher = request_certificate(CertificateKind.PERSON_VOUCHER, by=db.session.get(Account, account_id),
                                      actor=system)
        certificate = issued_by(voucher)
        if certificate is not None:
            prepared.code = certificate.code
            db.session.commit()
            break
        db.session.rollback()
    if not prepared.code:
        raise SystemExit("no employee of the demo data could get a 参保凭证 (for /v/<code>)")
    item = app.extensions["portal_catalog"].get(WRITE_ITEM)
    first = db.session.get(Account, employees[0])
    draft = ops.start_application(item, by=first, actor=system)
    form = dict(draft.form_data)
    for spec in ops.specs_for(draft, item):
        if spec.required and not form.get(spec.key):
            form[spec.key] = "基准测试"
    prepared.form = form
    prepared.materials = {m.id: "data_sharing" if m.data_sharing else "at_window" for m in item.materials}
    db.session.rollback()
    for account_id in employees[:writers]:
        raw, _token = issue_token(db.session.get(Account, account_id), label="bench")
        prepared.writers.append(raw)
    db.session.commit()


def capture(engine, client, path: str) -> dict:
    """The SQL statements (with their parameters) the portal runs on ``engine`` to serve ``path`` to ``client``'s
    visitor, and the page it answers: the floor of that page (bench/bare_app.py)."""
    from sqlalchemy import event

    client.get(path)  # once before: anything done on a first visit only is not the page's
    statements: list[tuple[str, object]] = []

    def keep(_connection, _cursor, statement, parameters, _context, _many) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    return {"statements": statements, "html": response.get_data(as_text=True)}


def citizen_client(app, account_id: int):
    """A browser session of a citizen, opened as the login does (the server-side session row and its cookie)."""
    from portal.accounts.auth import SESSION_KEY, start_session
    from portal.accounts.models import Account
    from portal.core.db import db

    client = app.test_client()
    with app.app_context():
        raw = start_session(db.session.get(Account, account_id), ip="127.0.0.1", user_agent="wrk")
        db.session.commit()
    with client.session_transaction() as browser:
        browser[SESSION_KEY] = raw
    return client


def answer(port: int, path: str, cookie: str | None) -> int:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        return connection.getresponse().status
    finally:
        connection.close()


# --- the filing write path -----------------------------------------------------------------------------------


def _call(connection, method: str, path: str, token: str, body: dict | None = None,
          headers: dict | None = None) -> tuple[int, dict]:
    connection.request(method, path, body=None if body is None else json.dumps(body),
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    return response.status, (json.loads(data) if data else {})


def write_path(port: int, prepared: Prepared, seconds: float) -> Result:
    """Each writer files one case after another through the API (create, save, submit) for ``seconds``."""
    import http.client

    stop_at = time.monotonic() + seconds
    done, failed, times, lock = [0], [0], [], threading.Lock()

    def writer(token: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            status, case = _call(connection, "POST", "/api/v1/applications", token, {"item_code": WRITE_ITEM})
            ok = status in (200, 201)
            if ok:
                path = f"/api/v1/applications/{case['id']}"
                status, _ = _call(connection, "PUT", path, token, {"form": prepared.form,
                                                                   "materials": prepared.materials})
                ok = status == 200 and _call(connection, "POST", f"{path}/submit", token, None,
                                             {"Idempotency-Key": uuid.uuid4().hex})[0] == 200
            with lock:
                if ok:
                    done[0] += 1
                    times.append(time.perf_counter() - started)
                else:
                    failed[0] += 1
        connection.close()

    return _threads(writer, prepared.writers, seconds, done, failed, times, per_item=3)


def healthz_by_threads(port: int, prepared: Prepared, seconds: float) -> Result:
    """``/healthz`` by the same client threads as the write path (the wall-clock baseline of its ratio)."""
    import http.client

    stop_at = time.monotonic() + seconds
    done, failed, times, lock = [0], [0], [], threading.Lock()

    def reader(_token: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            with lock:
                if response.status == 200:
                    done[0] += 1
                    times.append(time.perf_counter() - started)
                else:
                    failed[0] += 1
        connection.close()

    return _threads(reader, prepared.writers, seconds, done, failed, times, per_item=1)


def _threads(target, tokens: list[str], seconds: float, done: list[int], failed: list[int], times: list[float],
             *, per_item: int) -> Result:
    threads = [threading.Thread(target=target, args=(t,)) for t in tokens]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return Result(done[0] / elapsed, statistics.median(times) * 1000 if times else 0.0, failed[0],
                  requests=done[0])


# --- the run -------------------------------------------------------------------------------------------------


def on_bare(path: str) -> bool:
    return path == "/ping" or path.startswith("/floor/")


def main() -> None:
    args = parse()
    from tests import servers

    endpoints = ENDPOINTS
    results: dict[str, list[Result]] = {n: [] for n, *_ in ENDPOINTS}
    writes: list[Result] = []
    healthz_threads: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-http-") as name:
        folder = Path(name)
        prepared = prepare(args.database_url, folder, args.persons, args.cases, args.writers, args.existing_database,
                           args.instance)
        endpoints = tuple((n, p.format(token=prepared.token, code=prepared.code), w, g) for n, p, w, g in ENDPOINTS)
        portal_port, bare_port = servers.free_port(), servers.free_port()
        processes = []
        probe = Probe(args.database_url, prepared.database)
        try:
            processes.append(servers.start_gunicorn(prepared.env, portal_port, folder / "portal.log",
                                                    workers=args.workers, timeout=600))
            processes.append(servers.start(servers.gunicorn_command(bare_port, workers=args.workers,
                                                                    app="bench.bare_app:app"),
                                           env=prepared.env, log=folder / "bare.log", port=bare_port, ready="/ping",
                                           timeout=600))
            portal, bare = processes
            for label, path, who, _goal in endpoints:  # each answers 200 as the visitor it stands for; warm-up
                port = bare_port if on_bare(path) else portal_port
                status = answer(port, path, prepared.cookies.get(who))
                assert status == 200, f"{label}: {path} answered {status}"
                wrk(f"http://127.0.0.1:{port}{path}", cookie=prepared.cookies.get(who), connections=args.workers,
                    seconds=2)
            write_path(portal_port, prepared, 2)
            for _round in range(args.rounds):
                for label, path, who, _goal in endpoints:
                    port, server = (bare_port, bare) if on_bare(path) else (portal_port, portal)
                    results[label].append(probe.during(
                        lambda p=port, pa=path, w=who: wrk(f"http://127.0.0.1:{p}{pa}", cookie=prepared.cookies.get(w),
                                                           connections=args.connections, seconds=args.seconds),
                        server))
                writes.append(probe.during(lambda: write_path(portal_port, prepared, args.seconds), portal))
                healthz_threads.append(probe.during(lambda: healthz_by_threads(portal_port, prepared, args.seconds),
                                                    portal))
        finally:
            probe.connection.close()
            for process in processes:
                servers.stop(process)
            from sqlalchemy import create_engine, text

            if not args.existing_database:
                admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as connection:
                    connection.execute(text(f"DROP DATABASE {prepared.database} WITH (FORCE)"))
                admin.dispose()
    report(args, prepared, endpoints, results, writes, healthz_threads)


def report(args, prepared: Prepared, endpoints, results, writes, healthz_threads) -> None:
    rps = {n: statistics.median(r.rps for r in rs) for n, rs in results.items()}
    cpu = {n: statistics.median(r.cpu_ms for r in rs) for n, rs in results.items()}
    print(f"HTTP load on PostgreSQL: {prepared.demo_line}")
    print(f"gunicorn {args.workers} sync workers, wrk {args.connections} connections, {args.seconds} s per endpoint, "
          f"medians of {args.rounds} interleaved rounds; CPU = gunicorn workers + their PostgreSQL backends, "
          f"per request (from /proc: the machine's other load does not change it)")
    print(f"  {'endpoint':22s} {'req/s':>7s} {'p50 ms':>7s} {'failed':>6s} {'CPU ms/req':>10s} {'(app+db)':>11s}  "
          f"{'lock waits':>10s}   ratios (wall clock | CPU) with goals")
    for label, _path, _who, goal in endpoints:
        rs = results[label]
        p50 = statistics.median(r.p50_ms for r in rs)
        waits = sum(r.lock_waits for r in rs)
        split = (f"{statistics.median(r.app_cpu * 1000 / max(r.requests, 1) for r in rs):.2f}+"
                 f"{statistics.median(r.db_cpu * 1000 / max(r.requests, 1) for r in rs):.2f}")
        line = (f"  {label:22s} {rps[label]:7.0f} {p50:7.1f} {sum(r.errors for r in rs):6d} {cpu[label]:10.2f} "
                f"{split:>11s}  {waits:4d}/{sum(r.sampled for r in rs):<5d}")
        base = goal[0] if goal else ("bare" if label == HEALTHZ else "healthz")
        if label != BARE:
            against = BARE if base == "bare" else HEALTHZ
            wall, by_cpu = rps[label] / rps[against], cpu[against] / cpu[label]
            line += f"   ÷ {'bare Flask' if base == 'bare' else '/healthz'} {wall:4.2f} | {by_cpu:4.2f}"
            if goal:
                line += (f" (goal ≥ {goal[1]}): wall {'OK' if wall >= goal[1] else 'MISSED'}, "
                         f"CPU {'OK' if by_cpu >= goal[1] else 'MISSED'}")
            line += f";  ÷ bare Flask by CPU {cpu[BARE] / cpu[label]:4.2f}"
            if goal and base == "healthz":
                fixed = goal[1] * HEALTHZ_WHEN_SET
                line += (f" (the goal as set, × {HEALTHZ_WHEN_SET}: ≥ {fixed:.3f}: "
                         f"{'OK' if cpu[BARE] / cpu[label] >= fixed else 'MISSED'})")
        print(line)
    seq = statistics.median(r.rps for r in writes)
    ref = statistics.median(r.rps for r in healthz_threads)
    seq_cpu = statistics.median(r.cpu_ms for r in writes)
    ref_cpu = statistics.median(r.cpu_ms for r in healthz_threads)
    wall, by_cpu = ref / seq if seq else float("inf"), seq_cpu / ref_cpu
    print(f"  filing write path (API create + save + submit), {args.writers} client threads: {seq:.1f} cases/s "
          f"(p50 {statistics.median(r.p50_ms for r in writes):.0f} ms, failed {sum(r.errors for r in writes)}), "
          f"{seq_cpu:.1f} CPU ms per case; /healthz by the same threads {ref:.0f} req/s, {ref_cpu:.2f} CPU ms")
    print(f"    write path ÷ /healthz: {wall:.1f}× by wall clock, {by_cpu:.1f}× by CPU (goal ≤ {WRITE_GOAL:.0f}×): "
          f"wall {'OK' if wall <= WRITE_GOAL else 'MISSED'}, CPU {'OK' if by_cpu <= WRITE_GOAL else 'MISSED'}; "
          f"lock waits {sum(r.lock_waits for r in writes)} of {sum(r.sampled for r in writes)} sampled backends")
    fixed, by_bare = WRITE_GOAL / HEALTHZ_WHEN_SET, seq_cpu / cpu[BARE]
    print(f"    write path ÷ bare Flask by CPU: {by_bare:.0f}× (the goal as set, ÷ {HEALTHZ_WHEN_SET}: ≤ {fixed:.0f}×: "
          f"{'OK' if by_bare <= fixed else 'MISSED'})")
    queue = results["staff queue"]
    print(f"staff queue at {args.connections} connections: {sum(r.lock_waits for r in queue)} lock waits in "
          f"{sum(r.sampled for r in queue)} sampled active backends (most at once {max(r.most_waiting for r in queue)})"
          f" (goal: none): {'OK' if not sum(r.lock_waits for r in queue) else 'MISSED'}")


if __name__ == "__main__":
    main()
