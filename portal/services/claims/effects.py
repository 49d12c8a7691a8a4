"""What a claim changes in the system of record: a withdrawal's debit when its payment starts, and at completion.

A withdrawal (个人账户一次性支取) debits the person's account by the amount to pay when its payment starts, before
the money leaves (``debit_withdrawal``, called by ``operations.create_payment``), with an ``AccountTransaction`` of
kind 一次性支取 linked to the case. The balance never goes below zero (database CHECK), so a balance spent meanwhile
stops the payment with a clear reason, and a second withdrawal cannot be paid out of money the first already took.
The debit goes through ``insurance.ledger``, which locks the account's row and reads its balance again, so a transfer
taking the balance at the same moment cannot pay the same money out twice. (A payment started before this was so is
debited at completion.) When the form's 支取原因 is one that ends the account for good — 死亡 or 出国定居, the
reasons the seeds' forms list for paying out the whole balance to the heir or the emigrant — the account is closed
(销户) at completion, with the reason and the case number; a closed account must be empty (database CHECK). When money
was credited after the payment started (a monthly 划入 of the month of death, say), the payment has been made all the
same: the case completes, the account stays open with that money, and the claimant reads that it can be withdrawn
on another application, which closes the account (``money_left_note``). The account keeps the case
(``closing_case_id``) until it closes: finance lists such accounts on the payments page (``left_open``), and an
applicant who has not applied again is reminded once, a month after (``accounts_left_open``, ``portal notify
remind``). Refusing the completion instead left the case
paying for ever and stopped the import of the bank's return file for the whole batch.
A reimbursement's payment is itself the record of what counts against the year's 封顶线
(``operations.cap_used``: the payments pending, sent or paid of the person, year and scheme).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from ...applications.constants import CLOSED_STATES, State
from ...applications.models import Application
from ...core import clock
from ...core.audit import Actor, record
from ...core.db import db
from ...core.masking import mask_name
from ...insurance import ledger
from ...insurance.constants import AccountTransactionKind
from ...insurance.models import Person, PersonalAccount
from .kinds import ClaimKind, closing_reason
from .operations import claim_of


def debit_withdrawal(case: Any, claim: Any) -> None:
    """The withdrawal's debit: when its payment starts, before the money leaves (``operations.create_payment``).
    Refused, and the payment not started, when the account holds less than the amount."""
    ledger.withdraw(case.person_id, claim.decided_amount, AccountTransactionKind.LUMP_SUM_WITHDRAWAL,
                    f"一次性支取 {case.number}", application_id=case.id)


def apply_claim(case: Any) -> None:
    claim = claim_of(case)
    if claim is None or claim.kind != ClaimKind.WITHDRAWAL or claim.payment is None:
        return
    if not ledger.moved_by(case.id):  # a payment started before withdrawals were debited at its start
        debit_withdrawal(case, claim)
    reason = closing_reason(case)
    account = ledger.locked_account(case.person_id) if reason is not None else None
    if account is not None and account.balance != 0:  # credited after the payment started: it stays open
        account.closing_case_id = case.id  # finance's list, and the applicant's reminder (``left_open``)
        record("account.close_deferred", actor=Actor.system(), object_type="application", object_id=case.id,
               detail={"number": case.number, "left": str(account.balance)})
    elif account is not None:
        account.status, account.closed_on = "closed", clock.today()
        account.closed_reason = f"{reason}：一次性支取 {case.number}"
        account.closing_case_id = None
    db.session.flush()


def money_left_note(case: Any, claim: Any) -> str | None:
    """What the claimant reads when a withdrawal that closes the account completes with money credited to the
    account after its payment started (Chinese, as the rest of the result the case prints); None otherwise."""
    if claim.kind != ClaimKind.WITHDRAWAL or closing_reason(case) is None or claim.payment is None:
        return None
    account = ledger.locked_account(case.person_id)
    if account is None:
        return None
    left = account.balance - (0 if ledger.moved_by(case.id) else claim.decided_amount)
    if left <= 0:
        return None
    return f"个人账户在开始拨付后又记入¥{left:,.2f}，账户暂未注销；这笔钱可再申请一次性支取，支取后注销账户。"


@dataclass(frozen=True)
class LeftOpen:
    """A personal account that a closing withdrawal completed without closing, as finance's list shows it."""

    case: Any  # the completed withdrawal for death or settling abroad
    balance: Decimal  # what the account holds now
    person: str  # the insured person's name, masked (S12)
    reason: str  # 死亡 or 出国定居, as the form gave it
    again: Any | None  # a later withdrawal of the same person's account, filed and not closed yet


def left_open() -> list[LeftOpen]:
    """The open accounts that a completed closing withdrawal left open, the oldest completion first."""
    rows = db.session.execute(
        select(PersonalAccount, Application, Person.name)
        .join(Application, Application.id == PersonalAccount.closing_case_id)
        .join(Person, Person.id == PersonalAccount.person_id)
        .where(PersonalAccount.status == "open").order_by(Application.completed_at, Application.id)).all()
    again = later_withdrawals([case for _account, case, _name in rows])
    return [LeftOpen(case, account.balance, mask_name(name), closing_reason(case) or "", again.get(case.id))
            for account, case, name in rows]


def left_open_by(case: Any) -> LeftOpen | None:
    """The account that ``case`` (a completed closing withdrawal) left open, while it is still open; else None."""
    account = db.session.execute(select(PersonalAccount).where(PersonalAccount.closing_case_id == case.id,
                                                               PersonalAccount.status == "open")).scalar_one_or_none()
    if account is None:
        return None
    return LeftOpen(case, account.balance, "", closing_reason(case) or "", later_withdrawals([case]).get(case.id))


def later_withdrawals(cases: list[Any]) -> dict[int, Any]:
    """For each of ``cases`` (completed withdrawals), the newest application of the same item about the same person,
    filed after it and not closed yet: the money left is being applied for."""
    if not cases:
        return {}
    pending = [s.value for s in State if s not in CLOSED_STATES and s is not State.DRAFT]
    newer = db.session.execute(
        select(Application).where(Application.person_id.in_({c.person_id for c in cases}),
                                  Application.item_code.in_({c.item_code for c in cases}),
                                  Application.state.in_(pending)).order_by(Application.id)).scalars().all()
    found = {}
    for case in cases:
        for other in newer:
            if (other.person_id, other.item_code) == (case.person_id, case.item_code) and other.id > case.id:
                found[case.id] = other
    return found


REMIND_DAYS = 30  # PORTAL_REMIND_ACCOUNT_LEFT_OPEN_DAYS


def remind_days() -> int:
    """Days after the completion when an applicant who has not applied again is reminded (``portal notify remind``)."""
    return int(current_app.config.get("PORTAL_REMIND_ACCOUNT_LEFT_OPEN_DAYS", REMIND_DAYS))
