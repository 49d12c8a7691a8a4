"""Throughput of the public progress page ``/q/<token>`` against ``/healthz``, on a real gunicorn.

    python bench/progress_throughput.py [--duration 5] [--rounds 3] [--threads 4] [--workers 2] [--persons 2000]

What it does, all in a temporary folder that is removed at the end:

1. a fresh instance folder and SQLite database, migrated with ``portal db upgrade``;
2. the demo data (as ``portal up`` loads it), and one case of the demo employee 张伟明, submitted, accepted
   by the demo acceptor ``shouli``, with a progress token (the receipt's QR link), committed;
3. ``gunicorn -w 2 wsgi:app`` from the repository root with the same environment and no access log (the
   access log would write the token of every request, S14); the progress rate limits are raised so that
   the bench measures the page, not the 429 answer;
4. after a warm-up, ``/healthz`` and ``/q/<token>`` alternately for a fixed time each, several rounds, with
   a few threads that each keep one ``http.client`` connection;
5. the median requests per second of both, and their ratio (target: ``/q/<token>`` ≥ 0.3 × ``/healthz``).

Gunicorn's default sync workers close the connection after each response, so the client threads reconnect
for every request (``http.client`` does so by itself); both targets pay that alike.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests import servers  # noqa: E402 (the repository root is on the path only from here)

HOST = servers.HOST
TARGET_RATIO = 0.3
ITEM = "G002036003002_01"  # 医疗保险关系转移: a case an employee files, 10 working days, no published fields
RAISED_LIMITS = {"PORTAL_LIMIT_PROGRESS_IP": "10000000/minute", "PORTAL_LIMIT_PROGRESS_GLOBAL": "10000000/minute"}


# --- the instance ------------------------------------------------------------------------------------------


def portal_env(instance: Path) -> dict[str, str]:
    """The environment of every step: the temporary instance and database, development mode, raised limits."""
    return servers.portal_env(instance, **RAISED_LIMITS)


def migrate(env: dict[str, str]) -> None:
    try:
        servers.migrate(env)
    except servers.ServerFailed as exc:
        raise SystemExit(str(exc)) from None


def use_settings(env: dict[str, str]) -> None:
    """This process builds its app from the same ``PORTAL_*`` settings as the server."""
    for name in [k for k in os.environ if k.startswith("PORTAL_")]:
        del os.environ[name]
    os.environ.update({k: v for k, v in env.items() if k.startswith("PORTAL_")})
    sys.path.insert(0, str(ROOT))


def demo_employee(persons: int):
    """Inside a request context: demo data as `portal up` makes it, the demo accounts, and the demo employee
    logged in by SMS code and bound to their real name (the citizen account)."""
    from portal.accounts import binding as binding_ops
    from portal.accounts import operations as account_ops
    from portal.accounts.demo import ensure_demo_accounts
    from portal.core.audit import Actor
    from portal.core.db import db
    from portal.insurance.demo import DEMO_CITIZENS, generate_demo_data

    system = Actor.system()
    employee = next(c for c in DEMO_CITIZENS if c.key == "employee")
    generate_demo_data(persons=persons, units=max(5, persons // 20))
    ensure_demo_accounts()
    db.session.commit()
    issued = account_ops.request_login_code(account_ops.CodeRequest(employee.phone), actor=system,
                                            client_ip="127.0.0.1")
    citizen = account_ops.login_with_code(account_ops.CodeLogin(issued.code, handle=issued.handle),
                                          actor=system, client_ip="127.0.0.1")
    binding_ops.bind_real_name(citizen, binding_ops.RealNameBinding(employee.name, employee.id_number),
                               actor=system)
    return citizen


def make_case(env: dict[str, str], persons: int) -> tuple[str, str]:
    """Demo data, and one accepted case of the demo employee with a progress token; returns (token, number)."""
    use_settings(env)
    from sqlalchemy import select

    from portal import create_app
    from portal.accounts.models import Account, staff_login_key
    from portal.applications import operations as ops
    from portal.core.audit import Actor
    from portal.core.db import db

    app = create_app()
    system = Actor.system()
    with app.test_request_context("/"):  # operations translate their messages: they need a request
        citizen = demo_employee(persons)
        acceptor = db.session.execute(select(Account).where(Account.login_key == staff_login_key("shouli"))
                                      ).scalar_one()
        item = app.extensions["portal_catalog"].get(ITEM)
        case = ops.start_application(item, by=citizen, actor=system)
        form = dict(case.form_data)
        for spec in ops.specs_for(case, item):
            if spec.required and not form.get(spec.key):
                form[spec.key] = "基准测试"
        materials = {m.id: "data_sharing" if m.data_sharing else "at_window" for m in item.materials}
        ops.save_draft(case, ops.DraftInput(form=form, materials=materials), by=citizen, actor=system)
        ops.submit_application(case, by=citizen, actor=system)
        ops.accept_application(case, by=acceptor, actor=system)
        token = ops.issue_progress_token(case)
        number = case.number
        db.session.commit()
        db.engine.dispose()  # the server opens its own connections
    return token, number


def app_spec() -> str:
    """``wsgi:app`` when the configuration reads the raised limits from the environment, else the factory
    called with them as overrides (the same app; gunicorn evaluates the literal arguments)."""
    from portal.config import build_config

    config = build_config()
    if all(config.get(name) == value for name, value in RAISED_LIMITS.items()):
        return "wsgi:app"
    print("note: portal/config.py does not read PORTAL_LIMIT_* from the environment; "
          "serving portal:create_app(<limits>) instead of wsgi:app")
    return f"portal:create_app({RAISED_LIMITS!r})"


# --- the server --------------------------------------------------------------------------------------------


free_port, get, stop = servers.free_port, servers.get, servers.stop


def start_gunicorn(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen:
    """gunicorn with no access log (none is the default; GUNICORN_CMD_ARGS was dropped from ``env``)."""
    try:
        return servers.start_gunicorn(env, port, log, workers=workers, app=app_spec())
    except servers.ServerFailed as exc:
        raise SystemExit(str(exc)) from None


# --- the load ----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: int = 0  # connection errors


def hammer(port: int, path: str, stop_at: float, tally: Tally, lock: threading.Lock) -> None:
    """One client: requests on one connection (re-opened whenever the server closes it) until ``stop_at``."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    requests, statuses, failures = 0, Counter(), 0
    while time.perf_counter() < stop_at:
        try:
            connection.request("GET", path, headers={"Connection": "keep-alive"})
            response = connection.getresponse()
            response.read()
            statuses[response.status] += 1
            requests += 1
        except (OSError, http.client.HTTPException):
            failures += 1
            connection.close()
    connection.close()
    with lock:
        tally.requests += requests
        tally.statuses.update(statuses)
        tally.failures += failures


def measure(port: int, path: str, seconds: float, threads: int) -> tuple[float, Tally]:
    """Requests per second of ``threads`` clients on ``path`` for ``seconds``."""
    tally, lock = Tally(), threading.Lock()
    started = time.perf_counter()
    stop_at = started + seconds
    clients = [threading.Thread(target=hammer, args=(port, path, stop_at, tally, lock)) for _ in range(threads)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    return tally.requests / (time.perf_counter() - started), tally


# --- main --------------------------------------------------------------------------------------------------


def check_pages(port: int, token: str, number: str) -> None:
    """Before timing: the progress page answers 200 for the token and 404 for another; the bench measures
    the real page, not an error."""
    status, body = get(port, f"/q/{token}")
    if status != 200:
        raise SystemExit(f"/q/<token> answered {status}, not 200 (is progress.show written yet?)")
    if number in body.decode("utf-8", "replace"):
        print("warning: the progress page shows the full receipt number (expected masked)")
    status, _body = get(port, "/q/" + "A" * 22)
    if status != 404:
        raise SystemExit(f"/q/<unknown token> answered {status}, not 404")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per target (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per target (default 3)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--persons", type=int, default=2000,
                        help="demo persons in the database (default 2000, as `portal up`; fewer starts faster)")
    args = parser.parse_args(argv)
    if shutil.which("gunicorn") is None and subprocess.run(
            [sys.executable, "-c", "import gunicorn"], check=False).returncode != 0:
        raise SystemExit("gunicorn is not installed (pip install gunicorn)")

    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    server = None
    try:
        instance = folder / "instance"
        env = portal_env(instance)
        print(f"instance {instance}")
        started = time.perf_counter()
        migrate(env)
        token, number = make_case(env, args.persons)
        print(f"migrated and loaded {args.persons} demo persons in {time.perf_counter() - started:.0f} s")
        port = free_port()
        log = folder / "gunicorn.log"
        server = start_gunicorn(env, port, args.workers, log)
        check_pages(port, token, number)
        targets = {"healthz": "/healthz", "q": f"/q/{token}"}
        print(f"gunicorn -w {args.workers} on {HOST}:{port}; {args.threads} client threads, "
              f"{args.duration:g} s × {args.rounds} rounds per target after {args.warmup:g} s warm-up")
        for path in targets.values():
            measure(port, path, args.warmup, args.threads)
        rates: dict[str, list[float]] = {name: [] for name in targets}
        bad: Counter = Counter()
        for round_no in range(1, args.rounds + 1):
            for name, path in targets.items():
                rate, tally = measure(port, path, args.duration, args.threads)
                rates[name].append(rate)
                others = {s: n for s, n in tally.statuses.items() if s != 200}
                bad.update({f"{name} {s}": n for s, n in others.items()})
                if tally.failures:
                    bad[f"{name} connection errors"] += tally.failures
                print(f"  round {round_no}  {name:<8} {rate:8.1f} req/s  ({tally.requests} requests"
                      + (f", not 200: {others}" if others else "") + ")")
        stop(server)
        server = None
        healthz, progress = (statistics.median(rates[name]) for name in targets)
        ratio = progress / healthz if healthz else 0.0
        print(f"median /healthz     {healthz:8.1f} req/s")
        print(f"median /q/<token>   {progress:8.1f} req/s")
        verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
        print(f"ratio q/healthz     {ratio:8.2f}   (target ≥ {TARGET_RATIO}: {verdict})")
        server_log = log.read_text(errors="replace")
        print(f"token in server log: {'YES (S14!)' if token in server_log else 'no'}")
        if re.search(r"Traceback|\[ERROR\]", server_log):
            print("server log has errors:\n" + server_log[-4000:])
        if bad:
            print(f"invalid measurement: answers other than 200: {dict(bad)}")
            return 1
        return 0
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
