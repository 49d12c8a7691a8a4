"""How long one receipt (业务单) PDF takes, next to the same receipt as an HTML page.

    python bench/receipt_pdf.py [--n 200] [--kind acceptance|completion] [--locale zh_Hans_CN|en]

Builds an app on a temporary SQLite database, files a demo citizen's case of 门诊慢性病病种待遇认定 through
the real operations (accepted by a demo acceptor; with --kind completion also reviewed and completed), then
renders the receipt N times as a PDF and N times as HTML. Each PDF render includes everything a request
does after loading the case: building the context, the QR matrix (a fresh computation every time: nothing is
cached between calls), drawing and subsetting the font. The font is registered once, before timing, as a
running server does on its first receipt. Target: median PDF ≤ 30 ms.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import current_app

from portal import create_app
from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.accounts.models import Role
from portal.applications import operations as ops
from portal.applications.constants import MaterialMode
from portal.catalog.schema import FieldType
from portal.core.audit import Actor
from portal.core.db import Base, db
from portal.core.models_registry import import_all_models
from portal.core.validators import id_check_digit
from portal.documents import receipts
from portal.documents.pdf import pdf_font
from portal.documents.qr import qr_matrix
from portal.insurance.models import Person

ITEM = "G002036005000_01_001"  # 门诊慢性病病种待遇认定: 20 working days, 6 materials, 4 hints
SYSTEM = Actor.system()
PHONE = "13900000001"


def _demo_case(kind: str):
    """A citizen bound to a person, staff of each role, and the citizen's case moved to ``kind``'s state."""
    first17 = "22010219850312001"
    person = Person(insured_no="P000000001", name="王晓明", gender="M", birth_date=date(1985, 3, 12))
    person.set_id_number(first17 + id_check_digit(first17))
    person.set_phone(PHONE)
    db.session.add(person)
    db.session.flush()
    code = account_ops.request_login_code(account_ops.CodeRequest(PHONE), actor=SYSTEM, client_ip="127.0.0.1")
    citizen = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                          client_ip="127.0.0.1")
    binding_ops.bind_real_name(citizen, binding_ops.RealNameBinding(person.name, person.id_number), actor=SYSTEM)
    staff = {}
    for username, name, role in (("shouli", "受理员甲", Role.ACCEPTOR), ("shenhe", "审核员乙", Role.REVIEWER),
                                 ("caiwu", "财务丙", Role.FINANCE)):
        staff[role], _secret = account_ops.create_staff(
            account_ops.NewStaff(username, name, "Bench-Receipt-2026", frozenset({role})), actor=SYSTEM)

    item = current_app.extensions["portal_catalog"].get(ITEM)
    case = ops.start_application(item, by=citizen, actor=SYSTEM)
    form = dict(case.form_data)
    for spec in ops.specs_for(case, item):
        if spec.required and spec.key not in form:  # this item's other required fields are text and choices
            first = spec.options[0].zh if spec.options else "长春市"
            form[spec.key] = [first] if spec.type is FieldType.multichoice else first
    materials = {m.id: (MaterialMode.DATA_SHARING if m.data_sharing else MaterialMode.AT_WINDOW).value
                 for m in item.materials}
    ops.save_draft(case, ops.DraftInput(form=form, materials=materials), by=citizen, actor=SYSTEM)
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    ops.accept_application(case, by=staff[Role.ACCEPTOR], actor=SYSTEM)
    if kind == "completion":
        ops.start_review(case, by=staff[Role.REVIEWER], actor=SYSTEM)
        ops.approve_application(case, by=staff[Role.REVIEWER], actor=SYSTEM, result="认定通过：高血压病（Ⅱ级）")
        ops.complete_application(case, by=staff[Role.FINANCE], actor=SYSTEM)
    db.session.flush()
    return case


def _times(n: int, work: Callable[[], object]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of ``n`` calls (CPU time tells a busy machine from slow code)."""
    wall, cpu = [], []
    for _ in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _line(name: str, times: tuple[list[float], list[float]]) -> str:
    wall, cpu = times
    return (f"  {name:<5} median {statistics.median(wall):6.2f} ms   p90 {_p(wall, 90):6.2f} ms   "
            f"min {min(wall):6.2f} ms   (CPU median {statistics.median(cpu):6.2f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--kind", choices=("acceptance", "completion"), default="acceptance")
    parser.add_argument("--locale", choices=("zh_Hans_CN", "en"), default="zh_Hans_CN")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "INSTANCE_PATH": tmp,
                          "REGION": "jilin"})
        import_all_models()
        with app.app_context():
            Base.metadata.create_all(db.engine)
        with app.test_request_context("/", headers={"Cookie": f"lang={args.locale}"}):
            case = _demo_case(args.kind)
            url = f"https://hall.example.gov.cn/q/{secrets.token_urlsafe(16)}"

            start = time.perf_counter()
            pdf_font()
            font_ms = (time.perf_counter() - start) * 1000
            pdf = receipts.render_receipt_pdf(case, progress_url=url)  # warm-up: templates, lazy loads, babel
            receipts.render_receipt_html(case, progress_url=url)

            pdf_ms = _times(args.n, lambda: receipts.render_receipt_pdf(case, progress_url=url))
            html_ms = _times(args.n, lambda: receipts.render_receipt_html(case, progress_url=url))
            qr_ms = _times(args.n, lambda: qr_matrix(url))
            context = receipts.receipt_context(case, progress_url=url)
            draw_ms = _times(args.n, lambda: receipts.pdf_from_context(context))
            kind = receipts.receipt_kind(case)
        db.session.remove()
        with app.app_context():
            db.engine.dispose()

    pdf_median, html_median = statistics.median(pdf_ms[0]), statistics.median(html_ms[0])
    print(f"receipt ({kind} slip, {args.locale}), N = {args.n}, PDF {len(pdf):,} bytes, QR {url}")
    print(f"  load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (wall times grow on a busy machine)")
    print(f"  font registration (once per process) {font_ms:8.1f} ms")
    print(_line("PDF", pdf_ms) + f"   {'OK' if pdf_median <= 30 else 'OVER'}: target median <= 30 ms")
    print(_line("HTML", html_ms) + "   baseline, same run")
    print(f"  ratio PDF / HTML (medians) {pdf_median / html_median:5.2f}")
    print(f"  within them: QR matrix median {statistics.median(qr_ms[0]):5.2f} ms (both outputs); "
          f"PDF drawing + font subset alone median {statistics.median(draw_ms[0]):5.2f} ms")

if __name__ == "__main__":
    main()
