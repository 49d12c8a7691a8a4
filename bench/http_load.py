"""Requests per second of the portal's main endpoints under load, as ratios measured in one run (wrk, gunicorn).

    python bench/http_load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench \
        [--cases 100000] [--workers 4] [--connections 32] [--seconds 5] [--rounds 3]

Needs ``wrk`` (``apt-get install -y wrk``); nothing else in the repository depends on it.

What it does:

1. a new database on the PostgreSQL server of the URL given (dropped at the end), at the head revision, with 200 insured
   people, a staff member (受理 + 审核) and ``--cases`` cases spread over every queue (bench/queue_page.py's
   generator); one citizen and the staff member logged in (their session cookies are handed to wrk);
2. gunicorn with ``--workers`` sync workers serving the portal, and the same gunicorn serving a bare Flask app
   (bench/bare_app.py, one route) as the baseline;
3. ``--rounds`` interleaved rounds: in each, every endpoint is loaded by wrk for ``--seconds`` at
   ``--connections`` connections;
4. per endpoint the median requests per second and median p50 latency over the rounds; the ratios the issue
   sets goals for: ``/healthz`` ÷ bare Flask, and each page ÷ ``/healthz``, each printed with its goal.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

GUIDE_ITEM = "/guide/items/G002036004001"
# (name, path, who, goal: (what the ratio is taken against, minimum)); who: None, "citizen" or "staff"
ENDPOINTS = (
    ("bare Flask /ping", "/ping", None, None),
    ("/healthz", "/healthz", None, ("bare", 0.5)),
    ("/guide/", "/guide/", None, ("healthz", 0.8)),
    ("guide item", GUIDE_ITEM, None, ("healthz", 0.8)),
    ("/api/v1/catalog/items", "/api/v1/catalog/items", None, None),
    ("/me/records", "/me/records", "citizen", ("healthz", 0.35)),
    ("staff queue", "/staff/queues/review", "staff", ("healthz", 0.3)),
)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="PostgreSQL URL (a database of its own is made beside it)")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


@dataclass
class Result:
    rps: float
    p50_ms: float
    errors: int


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
    return Result(rps, float(p50.group(1)) * scale,
                  (int(errors.group(1)) if errors else 0) + (int(timeouts.group(1)) if timeouts else 0))


def prepare(url: str, folder: Path, cases: int) -> tuple[dict[str, str], str, dict[str, str]]:
    """The schema, its data and the two logged-in cookies; returns (gunicorn env, schema, cookies by who)."""
    import random

    import queue_page
    from sqlalchemy import create_engine, make_url, text

    schema = f"bench_http_{secrets.token_hex(4)}"  # a database of its own, dropped at the end
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {schema}"))
    admin.dispose()
    scoped = str(make_url(url).set(database=schema).render_as_string(hide_password=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({"PORTAL_ENV": "development", "PORTAL_INSTANCE_PATH": str(folder / "instance"),
                "PORTAL_DATABASE_URL": scoped, "PORTAL_LOG_LEVEL": "WARNING", "PORTAL_REGION": "jilin",
                "PYTHONPATH": str(ROOT)})
    os.environ.update({k: v for k, v in env.items() if k.startswith("PORTAL_")})
    from tests import servers

    servers.migrate(env)
    from portal import create_app

    app = create_app()
    citizens, username, secret = queue_page.people_and_staff(app)
    queue_page.insert_cases(app, cases, citizens, 0, random.Random(20261206))
    staff = queue_page.log_in(app, username, secret)
    citizen = citizen_client(app, citizens[0])
    name = app.config["SESSION_COOKIE_NAME"]
    cookies = {"staff": f"{name}={staff.get_cookie(name).value}", "citizen": f"{name}={citizen.get_cookie(name).value}"}
    with app.app_context():
        from portal.core.db import db

        db.session.remove()
        db.engine.dispose()
    return env, schema, cookies


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


def main() -> None:
    args = parse()
    from tests import servers

    with tempfile.TemporaryDirectory(prefix="bench-http-") as name:
        folder = Path(name)
        env, schema, cookies = prepare(args.database_url, folder, args.cases)
        portal_port, bare_port = servers.free_port(), servers.free_port()
        processes = []
        try:
            processes.append(servers.start_gunicorn(env, portal_port, folder / "portal.log", workers=args.workers,
                                                    timeout=600))
            processes.append(servers.start(servers.gunicorn_command(bare_port, workers=args.workers,
                                                                    app="bench.bare_app:app"),
                                           env=env, log=folder / "bare.log", port=bare_port, ready="/ping",
                                           timeout=600))
            for label, path, who, _goal in ENDPOINTS:  # each answers 200 as the visitor it stands for; warm-up
                port = bare_port if path == "/ping" else portal_port
                status = answer(port, path, cookies.get(who))
                assert status == 200, f"{label}: {path} answered {status}"
                wrk(f"http://127.0.0.1:{port}{path}", cookie=cookies.get(who), connections=args.workers, seconds=2)
            results: dict[str, list[Result]] = {n: [] for n, *_ in ENDPOINTS}
            for _round in range(args.rounds):
                for label, path, who, _goal in ENDPOINTS:
                    port = bare_port if path == "/ping" else portal_port
                    results[label].append(wrk(f"http://127.0.0.1:{port}{path}", cookie=cookies.get(who),
                                              connections=args.connections, seconds=args.seconds))
        finally:
            for process in processes:
                servers.stop(process)
            from sqlalchemy import create_engine, text

            admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE {schema} WITH (FORCE)"))
            admin.dispose()
    rps = {n: statistics.median(r.rps for r in rs) for n, rs in results.items()}
    print(f"HTTP load on PostgreSQL, {args.cases:,} cases; gunicorn {args.workers} sync workers, wrk "
          f"{args.connections} connections, {args.seconds} s per endpoint, medians of {args.rounds} interleaved rounds")
    for label, _path, _who, goal in ENDPOINTS:
        p50 = statistics.median(r.p50_ms for r in results[label])
        line = (f"  {label:24s} {rps[label]:8.0f} req/s  p50 {p50:7.1f} ms"
                f"  failed {sum(r.errors for r in results[label])}")
        if goal:
            base, minimum = goal
            ratio = rps[label] / rps["bare Flask /ping" if base == "bare" else "/healthz"]
            line += (f"   ÷ {'bare Flask' if base == 'bare' else '/healthz'} {ratio:4.2f} (goal ≥ {minimum}): "
                     f"{'OK' if ratio >= minimum else 'MISSED'}")
        print(line)


if __name__ == "__main__":
    main()
