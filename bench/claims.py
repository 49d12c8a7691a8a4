"""Claims: computing amounts, and exporting a payment batch for the bank.

    python bench/claims.py [--claims 10000] [--lines 5000] [--rounds 5]

1. **Calculation** — ``--claims`` reimbursements (1 to 5 invoice rows each, every hospital level, scheme and
   area of the policy data) and maternity allowances computed with ``portal.services.claims.calculation``, in
   this process. Baseline: the same loop that only adds the invoice totals up (Decimal), so the ratio says what
   the rules and their working cost. Target: 10,000 claims ≤ 1 s.
2. **Batch export** — in a fresh SQLite database (temporary folder, migrated), ``--lines`` approved payments
   waiting; ``create_batch`` (query, unseal each payee's name, bank and account, write the file, the lines'
   SHA-256) then ``batch_file`` (the download), for the CSV and the XLSX layouts. Baseline: ``csv.writer`` writing
   the same rows from plain Python strings. Target: 5,000 lines ≤ 2 s.
3. **XLSX writers** — the same rows written to an XLSX sheet alone (no database): XlsxWriter in memory, as the
   layout writes them, and openpyxl in write-only mode (with lxml), the writer the layout used before.

Prints medians of ``--rounds`` and the ratios to the baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


CPU: dict[str, float] = {}  # median CPU seconds of this process per measurement (the machine may be shared)


def _median(fn, rounds: int, name: str = "") -> float:
    times, cpus = [], []
    for _round in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    CPU[name] = statistics.median(cpus)
    return statistics.median(times)


def bench_calculation(count: int, rounds: int) -> tuple[float, float]:
    from portal.services.claims import calculation
    from portal.services.claims.policy import LEVELS, policy_on

    policy = policy_on("jilin", date(2026, 6, 1))
    rules = list(policy.reimbursement.values())
    rng = random.Random(7)
    claims = []
    for index in range(count):
        invoices = [calculation.Invoice(f"N{index}-{n}", date(2026, 5, 1), Decimal(rng.randrange(1, 5_000_000)) / 100,
                                        Decimal(rng.randrange(0, 20_000)) / 100, Decimal(rng.randrange(0, 5_000)) / 100)
                    for n in range(rng.randint(1, 5))]
        claims.append((invoices, rng.choice(rules), rng.choice(LEVELS), Decimal(rng.randrange(0, 10_000_000)) / 100,
                       Decimal(rng.randrange(300_000, 2_000_000)) / 100, rng.random() < 0.1, rng.randint(1, 3)))

    def compute():
        for index, (invoices, rule, level, used, wage, difficult, babies) in enumerate(claims):
            if index % 10 == 9:
                calculation.maternity_allowance(wage, policy.allowance, difficult_birth=difficult, babies=babies)
            else:
                calculation.reimbursement(invoices, rule, level, used_this_year=used)

    def baseline():
        for invoices, *_rest in claims:
            sum((i.total for i in invoices), Decimal("0"))

    return _median(compute, rounds, "calculation"), _median(baseline, rounds, "calculation_baseline")


def bench_export(lines: int, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as instance:
        os.environ.update({"PORTAL_INSTANCE_PATH": instance, "PORTAL_ENV": "development"})
        os.environ.pop("PORTAL_DATABASE_URL", None)
        from portal import create_app
        from portal.accounts.models import Account
        from portal.applications.models import Application
        from portal.core.audit import Actor
        from portal.core.db import db
        from portal.core.migrate import upgrade_database
        from portal.services.claims import batches
        from portal.services.claims.models import Claim, Payment

        app = create_app()
        with app.app_context():
            upgrade_database()
        figures: dict[str, float] = {}
        with app.test_request_context("/"):
            finance = Account(kind="staff", login_key="bench-finance", display_name="财务", username="bench-finance",
                              role_codes="finance", password_hash="x", totp_secret="x")
            db.session.add(finance)
            db.session.flush()
            rows, cases = [], []
            for index in range(lines):
                case = Application(number=f"JL20261206B{index:05d}", region="jilin", item_code="G002036006001",
                                   item_name="门诊费用报销", handler="reimbursement.manual", audience="individual",
                                   is_money=True, limit_kind="working_days", limit_value=22, applicant_id=finance.id,
                                   applicant_name="张伟明", state="paying")
                db.session.add(case)
                cases.append(case)
            db.session.flush()
            for index, case in enumerate(cases):
                claim = Claim(application_id=case.id, kind="reimbursement", computed_amount=Decimal("540.00"),
                              decided_amount=Decimal("540.00"))
                account = f"62220202001{index:07d}"
                rows.append([f"P{index:010d}", "张伟明", account, "中国工商银行长春分行", "540.00", "门诊费用报销"])
                db.session.add(Payment(application_id=case.id, claim=claim, amount=Decimal("540.00"), state="pending",
                                       payee_name="张伟明", payee_bank="中国工商银行长春分行", payee_account=account))
            db.session.flush()
            system = Actor.system()
            for layout in ("csv", "xlsx"):
                app.config["PORTAL_BANK_FILE_FORMAT"] = layout
                times, cpus = [], []
                for _round in range(rounds):
                    savepoint = db.session.begin_nested()
                    started, cpu = time.perf_counter(), time.process_time()
                    batch = batches.create_batch(by=finance, actor=system)
                    data = batches.batch_file(batch, actor=system)
                    times.append(time.perf_counter() - started)
                    cpus.append(time.process_time() - cpu)
                    savepoint.rollback()
                figures[layout] = statistics.median(times)
                CPU[layout] = statistics.median(cpus)
                figures[f"{layout}_bytes"] = len(data)

            def plain_csv():
                out = io.StringIO()
                csv.writer(out).writerows(rows)
                out.getvalue().encode("utf-8")

            figures["baseline"] = _median(plain_csv, rounds, "baseline")

            from portal.integrations.bank import HEADER
            from portal.integrations.bank.xlsx_layout import _book

            def openpyxl_book():
                from openpyxl import Workbook

                book = Workbook(write_only=True)
                sheet = book.create_sheet("拨付")
                for row in [list(HEADER), *rows]:
                    sheet.append(row)
                book.save(io.BytesIO())

            figures["xlsxwriter"] = _median(lambda: _book([list(HEADER), *rows]), rounds, "xlsxwriter")
            figures["openpyxl"] = _median(openpyxl_book, rounds, "openpyxl")
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    compute, base = bench_calculation(args.claims, args.rounds)
    print(f"load average {os.getloadavg()[0]:.1f}; medians of {args.rounds} rounds, wall clock (CPU of this process)")
    print(f"calculation: {args.claims} claims {compute * 1000:.0f} ms ({CPU['calculation'] * 1000:.0f} ms CPU; "
          f"target ≤ 1000 ms); baseline (totals only) {base * 1000:.0f} ms ({CPU['calculation_baseline'] * 1000:.0f} "
          f"ms CPU); ratio {compute / base:.1f}×")
    export = bench_export(args.lines, args.rounds)
    for layout in ("csv", "xlsx"):
        print(f"batch export ({layout}): {args.lines} lines {export[layout] * 1000:.0f} ms "
              f"({CPU[layout] * 1000:.0f} ms CPU; target ≤ 2000 ms), {export[f'{layout}_bytes'] / 1024:.0f} KiB; "
              f"baseline (plain csv.writer) "
              f"{export['baseline'] * 1000:.0f} ms; ratio {export[layout] / export['baseline']:.1f}×")
    import openpyxl

    print(f"XLSX sheet alone ({args.lines} lines): XlsxWriter {export['xlsxwriter'] * 1000:.0f} ms "
          f"({CPU['xlsxwriter'] * 1000:.0f} ms CPU); openpyxl write-only (lxml {openpyxl.LXML}) "
          f"{export['openpyxl'] * 1000:.0f} ms ({CPU['openpyxl'] * 1000:.0f} ms CPU); ratio "
          f"{export['xlsxwriter'] / export['openpyxl']:.2f}× wall, {CPU['xlsxwriter'] / CPU['openpyxl']:.2f}× CPU")

if __name__ == "__main__":
    main()
