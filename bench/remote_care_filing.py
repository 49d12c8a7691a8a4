"""What a self-service 异地就医备案 with a signed commitment costs, next to a plain self-service 即办件.

    python bench/remote_care_filing.py [--n 40]

Builds an app on a temporary SQLite database and N bound citizens. Times, per filing (median over N):
1. the baseline, in the same run: 职工开具参保凭证 (G002036003001_01) filed through the generic operations
   (start, save, submit; it completes at submission);
2. 异地安置退休人员备案 through ``file_remote_care``: start, save, rule checks, the commitment signed (text row,
   canonical JSON, SHA-256, sealed data), submit, completion and the filing record with its hash check;
3. the commitment hash alone, and ``verify_signature`` of a stored signature;
4. the printable 异地就医登记备案表 (PDF, font registered before timing).
Prints medians in ms and the ratio of 2 to 1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import current_app
from sqlalchemy import select

from portal import create_app
from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.applications import operations as ops
from portal.applications.constants import MaterialMode
from portal.commitments import operations as commitments
from portal.commitments.models import CommitmentSignature
from portal.core.audit import Actor
from portal.core.db import Base, db
from portal.core.models_registry import import_all_models
from portal.core.validators import id_check_digit
from portal.documents.pdf import pdf_font
from portal.insurance.filings import RemoteCareFiling
from portal.insurance.models import Person
from portal.services.remote_care import document
from portal.services.remote_care import operations as rc

SYSTEM = Actor.system()
BASELINE_ITEM = "G002036003001_01"


def citizen(n: int):
    first17 = f"22010219500312{n:03d}"
    phone = f"139{n:08d}"
    person = Person(insured_no=f"P{n:09d}", name="李秀兰", gender="F", birth_date=date(1950, 3, 12))
    person.set_id_number(first17 + id_check_digit(first17))
    person.set_phone(phone)
    db.session.add(person)
    db.session.flush()
    code = account_ops.request_login_code(account_ops.CodeRequest(phone), actor=SYSTEM, client_ip=f"10.0.{n}.1")
    account = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                          client_ip=f"10.0.{n}.1")
    binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number), actor=SYSTEM)
    return account


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def baseline(account) -> None:
    item = current_app.extensions["portal_catalog"].get(BASELINE_ITEM)
    case = ops.start_application(item, by=account, actor=SYSTEM)
    materials = {m.id: (MaterialMode.DATA_SHARING if m.data_sharing else MaterialMode.AT_WINDOW).value
                 for m in item.materials}
    ops.save_draft(case, ops.DraftInput(form=dict(case.form_data), materials=materials), by=account, actor=SYSTEM)
    ops.submit_application(case, by=account, actor=SYSTEM)
    db.session.commit()


def remote_care(account) -> None:
    rc.file_remote_care(rc.FilingInput(
        category="resettled_retiree", destination_code="460100", start_date=date.today().isoformat(),
        care_address="海口市美兰区海甸岛1号", care_phone="13912345678", commitment_consent=True, signed_name="李秀兰"),
        by=account, actor=SYSTEM)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("PORTAL_LIMIT_OTP_SEND_PHONE", "1000/minute")
        os.environ.setdefault("PORTAL_LIMIT_OTP_SEND_IP", "1000/minute")
        app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{folder}/bench.db", "INSTANCE_PATH": folder,
                          "REGION": "jilin", "RATELIMIT_ENABLED": False})
        import_all_models()
        with app.app_context(), app.test_request_context("/", headers={"Cookie": "lang=zh_Hans_CN"}):
            Base.metadata.create_all(db.engine)
            people = [citizen(n) for n in range(1, 2 * args.n + 1)]
            db.session.commit()
            pdf_font()
            base = [timed(lambda a=a: baseline(a)) for a in people[:args.n]]
            filed = [timed(lambda a=a: remote_care(a)) for a in people[args.n:]]
            moment = datetime(2026, 12, 1, 2, tzinfo=UTC)
            data = {"region": "jilin", "form": {"destination_code": "460000", "care_phone": "13912345678"}}
            hashes = [timed(lambda: commitments.commitment_hash(version="v1", body="承诺" * 300, data=data,
                                                                signed_name="李秀兰", signed_at=moment))
                      for _ in range(args.n * 10)]
            signature = db.session.execute(select(CommitmentSignature)).scalars().first()
            verify = [timed(lambda: commitments.verify_signature(signature)) for _ in range(args.n * 10)]
            filing = db.session.execute(select(RemoteCareFiling)).scalars().first()
            item = current_app.extensions["portal_catalog"].get(filing.item_code)
            pdfs = [timed(lambda: document.render_filing_pdf(filing, item)) for _ in range(args.n)]
    b, r = statistics.median(base), statistics.median(filed)
    print(f"filings per kind: {args.n}")
    print(f"baseline 职工开具参保凭证 (generic self-service): median {b:.1f} ms")
    print(f"异地安置 with commitment (sign + complete + record): median {r:.1f} ms  ratio {r / b:.2f}x baseline")
    print(f"commitment hash alone: median {statistics.median(hashes) * 1000:.1f} µs")
    print(f"verify_signature: median {statistics.median(verify) * 1000:.1f} µs")
    print(f"异地就医登记备案表 PDF: median {statistics.median(pdfs):.1f} ms")


if __name__ == "__main__":
    main()
