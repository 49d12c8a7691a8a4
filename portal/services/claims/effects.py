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
on another application, which closes the account (``money_left_note``). Refusing the completion instead left the case
paying for ever and stopped the import of the bank's return file for the whole batch.
A reimbursement's payment is itself the record of what counts against the year's 封顶线
(``operations.cap_used``: the payments pending, sent or paid of the person, year and scheme).
"""

from __future__ import annotations

from typing import Any

from ...core import clock
from ...core.audit import Actor, record
from ...core.db import db
from ...insurance import ledger
from ...insurance.constants import AccountTransactionKind
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
        record("account.close_deferred", actor=Actor.system(), object_type="application", object_id=case.id,
               detail={"number": case.number, "left": str(account.balance)})
    elif account is not None:
        account.status, account.closed_on = "closed", clock.today()
        account.closed_reason = f"{reason}：一次性支取 {case.number}"
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

