"""Payment batches (拨付批次): finance exports the waiting payments to the bank and imports its return file.

- ``create_batch`` takes every payment waiting (``pending``), in id order, into a new batch with its count, total
  and the SHA-256 of its lines (printed in the file's trailer too); the payments become ``exported``. The file
  holds the payees' accounts in full, so it is made on request (``batch_file``, from the same lines every time: the
  checksum proves it) and never stored.
- ``import_return`` reads the bank's return file through the bank port, checks it against the batch (every line
  one of the batch's, each once, with the batch's amount; count and total as the batch's), then, all or nothing:
  a paid line marks its payment paid and completes its case (the claimant is told the amount); a failed line marks
  its payment failed with the bank's reason and tells the claimant to correct the account; the case stays open.
  The bank has paid what it says it paid, whatever our side makes of it: a case whose completion is refused (its
  savepoint undone) keeps its payment paid and stays paying, listed to finance with the reason, to be completed from
  its page; the rest of the file is imported.

A batch mixes people's claims and institutions' settlements (``services.settlement``): a line pays a person's account
(对私) or an institution's settlement account (对公), as the payment's ``payee_kind`` says.

Like every operation these flush and never commit; each writes its audit row.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from flask_babel import format_currency
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ...applications.models import Application
from ...core import clock
from ...core.audit import Actor, record
from ...core.db import db
from ...core.errors import Conflict, DomainError, InvalidTransition, ValidationFailed
from ...core.translation import gettext as _
from ...integrations.bank import CORPORATE, PERSONAL, BankFileError, BatchFile, PaymentLine, get_bank_files
from .models import Payment, PaymentBatch


def line_id(payment: Payment) -> str:
    return f"P{payment.id:010d}"


def _lines(payments: list[Payment]) -> tuple[PaymentLine, ...]:
    # the purpose printed for the payee: the item and the case number (two plain columns, nothing sealed)
    purposes = {row.id: f"{row.item_name} {row.number}" for row in db.session.execute(
        select(Application.id, Application.item_name, Application.number)
        .where(Application.id.in_({p.application_id for p in payments})))}
    return tuple(PaymentLine(line_id(p), p.payee_name, p.payee_account, p.payee_bank, p.amount,
                             purposes[p.application_id], CORPORATE if p.payee_kind == "institution" else PERSONAL)
                 for p in payments)


def _batch_file(batch: PaymentBatch, payments: list[Payment]) -> BatchFile:
    return BatchFile(batch.number, clock.to_local(batch.created_at).date(), _lines(payments))


def waiting_payments() -> list[Payment]:
    return list(db.session.execute(select(Payment).where(Payment.state == "pending").order_by(Payment.id)).scalars())


def create_batch(*, by: Any, actor: Actor) -> PaymentBatch:
    """A batch of every payment waiting; ValidationFailed when none waits."""
    payments = waiting_payments()
    if not payments:
        raise ValidationFailed([(None, _("No payment is waiting to be sent to the bank."))])
    layout = get_bank_files()
    batch = PaymentBatch(number=f"PB{clock.to_local(clock.now()):%Y%m%d}{secrets.token_hex(3).upper()}",
                         created_at=clock.now(), created_by_id=by.id, line_count=len(payments),
                         total=sum((p.amount for p in payments), Decimal("0.00")), file_format=layout.name,
                         checksum="")
    db.session.add(batch)
    db.session.flush()
    ids, taken = [p.id for p in payments], 0
    for start in range(0, len(ids), 1000):  # one UPDATE per thousand lines, not one per line
        taken += db.session.execute(
            update(Payment).where(Payment.id.in_(ids[start:start + 1000]), Payment.state == "pending")
            .values(batch_id=batch.id, state="exported"), execution_options={"synchronize_session": False}).rowcount
    if taken != len(ids):  # another batch took some of them meanwhile: the caller rolls back, finance tries again
        raise Conflict(_("Another batch took some of these payments a moment ago. Reload the page and try again."))
    for payment in payments:  # the objects in this session say what the rows now say
        set_committed_value(payment, "batch_id", batch.id)
        set_committed_value(payment, "state", "exported")
    batch.checksum = _batch_file(batch, payments).checksum
    db.session.flush()
    record("claim.batch_created", actor=actor, object_type="payment_batch", object_id=batch.id,
           detail={"number": batch.number, "lines": batch.line_count, "total": str(batch.total),
                   "sha256": batch.checksum})
    return batch


def batch_file(batch: PaymentBatch, *, actor: Actor) -> bytes:
    """The batch's file, made again from its lines (refused if they no longer give its checksum); every download is
    audited (the file holds accounts in full)."""
    payments = list(db.session.execute(select(Payment).where(Payment.batch_id == batch.id)
                                       .order_by(Payment.id)).scalars())
    content = _batch_file(batch, payments)
    if content.checksum != batch.checksum:
        raise InvalidTransition(_("The batch no longer gives the file it was made with (a payment changed since)."))
    data = get_bank_files().write_batch(content)
    record("claim.batch_download", actor=actor, object_type="payment_batch", object_id=batch.id,
           detail={"number": batch.number})
    return data


def import_return(batch: PaymentBatch, data: bytes, *, by: Any, actor: Actor) -> dict[str, int]:
    """Settle the batch from the bank's return file; returns how many lines were paid and failed."""
    from ...applications import operations as case_ops
    from ...notifications.constants import Event
    from ...notifications.operations import notify
    from ...notifications.receivers import case_context
    from .operations import confirm_paid

    if batch.returned_at is not None:
        raise InvalidTransition(_("This batch's return file has already been imported."))
    try:
        lines = get_bank_files().read_return(data)
    except BankFileError as error:
        raise ValidationFailed([("file", error.message)]) from None
    payments = {line_id(p): p for p in db.session.execute(
        select(Payment).where(Payment.batch_id == batch.id).options(selectinload(Payment.claim))).scalars()}
    seen: set[str] = set()
    for line in lines:
        payment = payments.get(line.line_id)
        if payment is None or line.line_id in seen or payment.amount != line.amount:
            raise ValidationFailed([("file", _("Line %(line)s of the return file is not a line of batch %(batch)s "
                                               "as it was sent.", line=line.line_id, batch=batch.number))])
        seen.add(line.line_id)
    if len(lines) != batch.line_count or sum((x.amount for x in lines), Decimal("0")) != batch.total:
        returned = sum((x.amount for x in lines), Decimal("0"))
        raise ValidationFailed([("file", _("The return file has %(lines)d lines for %(total)s; batch %(batch)s has "
                                           "%(count)d lines for %(sent)s.", lines=len(lines),
                                           total=format_currency(returned, "CNY"), batch=batch.number,
                                           count=batch.line_count, sent=format_currency(batch.total, "CNY")))])
    counts: dict[str, Any] = {"paid": 0, "failed": 0, "unfinished": []}
    for line in lines:
        payment = payments[line.line_id]
        case = db.session.get(Application, payment.application_id)
        if line.paid:
            confirm_paid(case, by=by, actor=actor, reference=line.reference or line.line_id)
            try:
                with db.session.begin_nested():
                    case_ops.complete_application(case, by=by, actor=actor)
            except DomainError as refusal:  # paid all the same: the case stays paying, for finance to complete
                counts["unfinished"].append((case.number, refusal.message))
            counts["paid"] += 1
        else:
            payment.state, payment.failed_at = "failed", clock.now()
            payment.failure_reason = line.reason or _("The bank did not pay this line.")
            notify(case.applicant, Event.PAYMENT_FAILED,
                   case_context(case, {"reason": payment.failure_reason}), application_id=case.id)
            counts["failed"] += 1
    batch.returned_at = clock.now()
    db.session.flush()
    record("claim.batch_returned", actor=actor, object_type="payment_batch", object_id=batch.id,
           detail={"number": batch.number, "paid": counts["paid"], "failed": counts["failed"],
                   "unfinished": [number for number, _reason in counts["unfinished"]]})
    return counts
