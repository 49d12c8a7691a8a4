"""What approval checks of a claim, beyond its amount: one invoice is paid once, the year's cap (封顶线) holds,
and a withdrawal takes no more than the personal account can pay (all of it, when it closes the account).

Each check takes a lock first, so two approvals at the same moment are checked one after the other: the invoice
numbers (PostgreSQL advisory locks, in order), the person's row, the account's row. Called by
``operations.on_case_moved`` as the case moves to approved; a refusal undoes the move.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text

from ...applications.constants import State
from ...applications.models import Application
from ...core.db import db
from ...core.errors import InvalidTransition
from ...core.formatting import money
from ...core.translation import gettext as _
from . import calculation
from .kinds import ClaimKind, closing_reason
from .models import Claim, ClaimInvoice, Payment

LIVE_PAYMENTS = ("pending", "exported", "paid")
# A case in one of these has had its amount approved: its invoices are being paid or have been.
APPROVED_STATES = (State.APPROVED.value, State.PAYING.value, State.COMPLETED.value, State.DELIVERED.value)
_INVOICE_LOCK = 7_301_456  # advisory-lock class of one invoice number (with hashtext(number) as the second key)


def cap_used(person_id: int | None, year: int | None, scheme: str | None, *, excluding: int | None = None) -> Decimal:
    """What counts against the year's 封顶线: payments of the person's claims of that year and scheme that are
    pending, exported or paid."""
    if person_id is None or year is None:
        return Decimal("0.00")
    query = (select(func.coalesce(func.sum(Payment.amount), 0)).join(Claim, Claim.id == Payment.claim_id)
             .where(Claim.person_id == person_id, Claim.benefit_year == year, Claim.scheme == scheme,
                    Payment.state.in_(LIVE_PAYMENTS)))
    if excluding is not None:
        query = query.where(Claim.id != excluding)
    return Decimal(str(db.session.execute(query).scalar_one())).quantize(calculation.FEN)


def approved_unpaid(person_id: int, *where: Any, excluding: int) -> Decimal:
    """The amounts approved of the person's other claims (matching ``where``) whose payment has not started."""
    total = db.session.execute(
        select(func.coalesce(func.sum(Claim.decided_amount), 0))
        .join(Application, Application.id == Claim.application_id)
        .outerjoin(Payment, Payment.claim_id == Claim.id)
        .where(Claim.person_id == person_id, Claim.id != excluding, Payment.id.is_(None),
               Application.state == State.APPROVED.value, *where)
    ).scalar_one()
    return Decimal(str(total)).quantize(calculation.FEN)


def cap_held(person_id: int, year: int, scheme: str, *, excluding: int) -> Decimal:
    """What the person's other claims of the year and scheme already hold of its 封顶线: their live payments
    (``cap_used``) and the amounts approved whose payment has not started yet."""
    return cap_used(person_id, year, scheme, excluding=excluding) + approved_unpaid(
        person_id, Claim.benefit_year == year, Claim.scheme == scheme, excluding=excluding)


def check_within_balance(case: Application, claim: Claim) -> None:
    """Refuse to approve a withdrawal of more than the personal account can pay: its balance (withdrawals whose
    payment started are already debited) less what the person's other approved withdrawals will take. A withdrawal
    that closes the account (death, settling abroad) pays all of that: a closed account must be empty, so a smaller
    amount would leave the completion unable to close it after the bank has paid. The account's row is locked first,
    so two approvals at the same moment are checked in turn."""
    if claim.kind != ClaimKind.WITHDRAWAL or claim.decided_amount is None or claim.person_id is None:
        return
    from ...insurance import ledger

    account = ledger.locked_account(claim.person_id)
    balance = account.balance if account is not None else calculation.ZERO
    held = approved_unpaid(claim.person_id, Claim.kind == ClaimKind.WITHDRAWAL.value, excluding=claim.id)
    left = max(calculation.ZERO, balance - held)
    if claim.decided_amount > left:
        raise InvalidTransition(_(
            "%(amount)s is more than the personal account can pay: it holds %(balance)s, and this person's other "
            "approved withdrawals will take %(held)s of it, so at most %(left)s can be approved. Enter that amount, "
            "with the reason.", amount=money(claim.decided_amount), balance=money(balance), held=money(held),
            left=money(left)), code="over_balance")
    if closing_reason(case) is not None and claim.decided_amount != left:
        raise InvalidTransition(_(
            "This withdrawal closes the account (its reason is death or settling abroad), so it pays out all the "
            "account can pay: %(left)s. Enter that amount, with the reason.", left=money(left)),
            code="closing_not_whole")


def check_within_cap(claim: Claim) -> None:
    """Refuse to approve an amount that, with what the person's other claims of the year already hold, would go
    over the cap. Each claim is computed when filed, against what was paid then: two claims filed before either was
    approved were each computed against the whole cap. The person's row is locked first, so two approvals of one
    person's claims at the same moment are checked in turn, each seeing the other's."""
    cap = cap_of(claim)
    if cap is None or claim.person_id is None or claim.decided_amount is None:
        return
    from ...insurance.models import Person

    db.session.execute(select(Person.id).where(Person.id == claim.person_id).with_for_update())
    held = cap_held(claim.person_id, claim.benefit_year, claim.scheme, excluding=claim.id)
    left = max(calculation.ZERO, cap - held)
    if claim.decided_amount > left:
        raise InvalidTransition(_(
            "%(amount)s would go over the %(year)s yearly cap of %(cap)s: this person's other claims of that year "
            "already hold %(held)s of it (approved or paid), so at most %(left)s can be approved. Enter that amount, "
            "with the reason.",
            amount=money(claim.decided_amount), year=claim.benefit_year, cap=money(cap), held=money(held),
            left=money(left)),
            code="over_cap")


def check_invoices_paid_once(claim: Claim) -> None:
    """Refuse to approve a claim whose invoice another case already has approved (paying or paid): one invoice is
    paid once. Filing refuses an invoice another standing case claims, but two filed at the same moment both pass
    that check; the reviewer sees such duplicates on the case page, and approval stops the second. On PostgreSQL each
    invoice number is locked for the transaction first, in order, so two approvals sharing one are checked in turn."""
    numbers = sorted({invoice.number for invoice in claim.invoices})
    if not numbers:
        return
    if db.is_postgres:
        for number in numbers:
            db.session.execute(text("SELECT pg_advisory_xact_lock(:kind, hashtext(:number))"),
                               {"kind": _INVOICE_LOCK, "number": number})
    held = sorted(invoices_elsewhere(claim, numbers, Application.state.in_(APPROVED_STATES)))
    if held:
        raise InvalidTransition(_(
            "Invoice %(invoice)s has already been approved for payment in case %(case)s: an invoice is paid once. "
            "Ask the applicant to remove it with a one-time notice, or deny the claim.",
            invoice=held[0][0], case=held[0][1]), code="invoice_paid_elsewhere")


def invoices_elsewhere(claim: Claim, numbers: list[str], *where: Any) -> list[tuple[str, str]]:
    """(invoice number, case number) for each of ``numbers`` that another claim carries, its case matching
    ``where``."""
    return [(invoice, case) for invoice, case in db.session.execute(
        select(ClaimInvoice.number, Application.number).select_from(ClaimInvoice)
        .join(Claim, Claim.id == ClaimInvoice.claim_id).join(Application, Application.id == Claim.application_id)
        .where(ClaimInvoice.number.in_(numbers), Claim.id != claim.id, *where))]


def cap_of(claim: Claim) -> Decimal | None:
    """The year's cap the claim was computed against (its working's ``within_cap`` line), or None."""
    for line in claim.working:
        if line.get("key") == "within_cap":
            return Decimal(line["cap"])
    return None
