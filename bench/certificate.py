"""Cost of one signed certificate PDF, and verification lookups per second against ``/healthz``.

    python bench/certificate.py [--pdfs 40] [--duration 5] [--rounds 3] [--threads 4] [--workers 2] [--persons 2000]

What it does, all in a temporary folder that is removed at the end:

1. a fresh instance folder and SQLite database, migrated, with the demo data (as ``portal up`` loads it);
2. the demo employee 张伟明 requests a 《基本医疗保险参保凭证》 through the real operation (a case of the catalog's
   item G002036003001_01 that completes at once and issues the certificate), committed;
3. in this process, after a warm-up: the median time to draw the certificate as a PDF (the baseline), to sign
   it (PAdES, the development ECDSA key), and to produce one signed PDF end to end (target ≤ 50 ms), for a
   new certificate (its QR computed) and for a reprint (its QR matrix cached in the process);
4. ``gunicorn -w 2 wsgi:app`` (as ``bench/progress_throughput.py`` runs it, rate limits raised so the bench
   measures the page, not the 429 answer), then ``/healthz`` and ``/v/<code>`` alternately for a fixed time,
   several rounds: the median requests per second of both, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import progress_throughput as pt  # the same server, client and environment helpers

TARGET_MS = 50.0
RAISED = {"PORTAL_LIMIT_VERIFY_IP": "10000000/minute", "PORTAL_LIMIT_VERIFY_GLOBAL": "10000000/minute"}


def issue_voucher(env: dict[str, str], persons: int):
    """Demo data, and the demo employee's voucher; returns (app, certificate id, verification code)."""
    pt.use_settings(env)
    from portal import create_app
    from portal.certificates.constants import CertificateKind
    from portal.certificates.operations import issued_by, request_certificate
    from portal.core.audit import Actor
    from portal.core.db import db

    app = create_app()
    system = Actor.system()
    with app.test_request_context("/"):
        citizen = pt.demo_employee(persons)
        case = request_certificate(CertificateKind.PERSON_VOUCHER, by=citizen, actor=system)
        certificate = issued_by(case)
        if certificate is None:
            raise SystemExit(f"the voucher case did not complete (state {case.state})")
        result = certificate.id, certificate.code, certificate.facts["months_paid"], certificate.facts["balance"]
        db.session.commit()
    return app, *result


def time_pdfs(app, certificate_id: int, count: int) -> dict[str, tuple[float, float]]:
    """Median milliseconds (wall clock, and this process's CPU time) of drawing, signing, and both.

    The figures are taken interleaved, one run of each per round, so a busy machine slows them alike and
    their ratios stay meaningful; the CPU time is what the work itself costs, whatever else runs.
    """
    from portal.certificates import documents, signing
    from portal.certificates.models import Certificate
    from portal.core.db import db

    with app.test_request_context("/"):
        certificate = db.session.get(Certificate, certificate_id)
        unsigned = documents.unsigned_pdf(documents.certificate_context(certificate))
        settings = app.config["PORTAL_SIGNING"]

        def first_print() -> bytes:  # the certificate's QR matrix not cached yet: the cost of a new certificate
            documents.verification_qr.cache_clear()
            return documents.render_certificate_pdf(certificate)

        work = {
            "draw": lambda: documents.unsigned_pdf(documents.certificate_context(certificate)),
            "sign": lambda: signing.sign_pdf(unsigned, settings),
            "signed": first_print,
            "reprint": lambda: documents.render_certificate_pdf(certificate),
        }
        for function in work.values():
            function()  # warm-up: font parsing, key loading
        wall: dict[str, list[float]] = {name: [] for name in work}
        cpu: dict[str, list[float]] = {name: [] for name in work}
        for _ in range(count):
            for name, function in work.items():
                started, started_cpu = time.perf_counter(), time.process_time()
                function()
                wall[name].append((time.perf_counter() - started) * 1000)
                cpu[name].append((time.process_time() - started_cpu) * 1000)
        db.session.remove()
        db.engine.dispose()
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in work}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdfs", type=int, default=40, help="PDFs timed per figure (default 40)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per HTTP measurement (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of HTTP warm-up per target (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="HTTP measurements per target (default 3)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--persons", type=int, default=2000, help="demo persons (default 2000, as `portal up`)")
    args = parser.parse_args(argv)
    pt.RAISED_LIMITS = {**pt.RAISED_LIMITS, **RAISED}

    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    server = None
    try:
        instance = folder / "instance"
        env = pt.portal_env(instance)
        print(f"instance {instance}")
        started = time.perf_counter()
        pt.migrate(env)
        app, certificate_id, code, months, balance = issue_voucher(env, args.persons)
        print(f"migrated, loaded {args.persons} demo persons and issued the voucher in "
              f"{time.perf_counter() - started:.0f} s (张伟明: {months} months paid, balance ¥{balance})")

        figures = time_pdfs(app, certificate_id, args.pdfs)
        draw, sign, signed, reprint = (figures[k] for k in ("draw", "sign", "signed", "reprint"))
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; medians of {args.pdfs} runs, "
              "wall clock (CPU time of this process)")
        print(f"median PDF drawn (baseline)   {draw[0]:7.1f} ms ({draw[1]:5.1f})")
        print(f"median PAdES signature        {sign[0]:7.1f} ms ({sign[1]:5.1f})")
        verdict = "met" if signed[0] <= TARGET_MS else "NOT met"
        print(f"median signed certificate PDF {signed[0]:7.1f} ms ({signed[1]:5.1f})   ratio to the baseline "
              f"{signed[0] / draw[0]:.2f}; target ≤ {TARGET_MS:g} ms: {verdict}")
        print(f"median signed reprint         {reprint[0]:7.1f} ms ({reprint[1]:5.1f})   its QR matrix cached")

        port = pt.free_port()
        log = folder / "gunicorn.log"
        server = pt.start_gunicorn(env, port, args.workers, log)
        status, body = pt.get(port, f"/v/{code}")
        if status != 200 or "张*" not in body.decode("utf-8", "replace"):
            raise SystemExit(f"/v/<code> answered {status} without the masked holder")
        if pt.get(port, "/v/" + "A" * 16)[0] != 404:
            raise SystemExit("/v/<unknown code> did not answer 404")
        targets = {"healthz": "/healthz", "verify": f"/v/{code}"}
        print(f"gunicorn -w {args.workers} on {pt.HOST}:{port}; {args.threads} client threads, "
              f"{args.duration:g} s × {args.rounds} rounds per target after {args.warmup:g} s warm-up")
        for path in targets.values():
            pt.measure(port, path, args.warmup, args.threads)
        rates: dict[str, list[float]] = {name: [] for name in targets}
        bad: Counter = Counter()
        for round_no in range(1, args.rounds + 1):
            for name, path in targets.items():
                rate, tally = pt.measure(port, path, args.duration, args.threads)
                rates[name].append(rate)
                others = {s: n for s, n in tally.statuses.items() if s != 200}
                bad.update({f"{name} {s}": n for s, n in others.items()})
                print(f"  round {round_no}  {name:<8} {rate:8.1f} req/s  ({tally.requests} requests"
                      + (f", not 200: {others}" if others else "") + ")")
        pt.stop(server)
        server = None
        healthz, verify = (statistics.median(rates[name]) for name in targets)
        print(f"median /healthz     {healthz:8.1f} req/s")
        print(f"median /v/<code>    {verify:8.1f} req/s")
        print(f"ratio v/healthz     {verify / healthz if healthz else 0.0:8.2f}")
        if bad:
            print(f"invalid measurement: answers other than 200: {dict(bad)}")
            return 1
        return 0
    finally:
        if server is not None:
            pt.stop(server)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
