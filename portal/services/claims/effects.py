"""What a paid claim changes in the system of record, at completion, in the case's transaction.

A withdrawal (个人账户一次性支取) debits the person's account by the amount paid, with an ``AccountTransaction``
of kind 一次性支取 carrying the case number; the balance never goes below zero (database CHECK), so a balance
spent meanwhile stops the completion with a clear reason. A reimbursement's payment is itself the record of what
counts against the year's 封顶线 (``operations.cap_used``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ...core import clock
from ...core.db import db
from ...core.errors import InvalidTransition
from .kinds import ClaimKind
from .operations import claim_of


def apply_claim(case: Any) -> None:
    claim = claim_of(case)
    if claim is None or claim.kind != ClaimKind.WITHDRAWAL or claim.payment is None:
        return
    from ...insurance.constants import AccountTransactionKind
    from ...insurance.models import AccountTransaction

    account = getattr(case.person, "account", None)
    amount = claim.payment.amount
    if account is None or account.balance < amount:
        raise InvalidTransition(_("The personal account's balance is less than the amount paid: check the account "
                                  "before completing."))
    account.balance -= amount
    row = AccountTransaction(account_id=account.id, occurred_on=clock.today(), amount=-amount,
                             kind=AccountTransactionKind.LUMP_SUM_WITHDRAWAL, balance_after=account.balance,
                             note=f"一次性支取 {case.number}")
    db.session.add(row)
    db.session.flush()
