"""Money moving on a personal account (个人账户), in the caller's transaction.

Every movement starts by locking the account's row and reading its balance again (``SELECT … FOR UPDATE``, the
loaded object refreshed): a balance read earlier in the request, or by another request at the same moment, is never
the one a movement starts from. Two movements of one account at once (a 一次性支取 completing while a 转移接续 sheet
takes the balance, say) take the row in turn, so one cannot pay out what the other already paid, nor write back a
balance that forgets the other. The row stays locked until the caller's transaction ends. SQLite has no row locks
and lets one writer in at a time.

Each movement writes its ``AccountTransaction`` with the balance after it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..core import clock
from ..core.db import db
from ..core.errors import InvalidTransition
from ..core.translation import gettext as _
from .constants import AccountTransactionKind
from .models import AccountTransaction, PersonalAccount

ZERO = Decimal("0.00")


def locked_account(person_id: int | None) -> PersonalAccount | None:
    """The person's account, its row locked until the transaction ends and its balance as the database has it."""
    if person_id is None:
        return None
    return db.session.execute(
        select(PersonalAccount).where(PersonalAccount.person_id == person_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _move(account: PersonalAccount, amount: Decimal, kind: AccountTransactionKind, note: str,
          application_id: int | None = None) -> AccountTransaction:
    account.balance = account.balance + amount
    row = AccountTransaction(account_id=account.id, occurred_on=clock.today(), amount=amount, kind=kind,
                             balance_after=account.balance, note=note[:200], application_id=application_id)
    db.session.add(row)
    db.session.flush()
    return row


def withdraw(person_id: int | None, amount: Decimal, kind: AccountTransactionKind, note: str, *,
             application_id: int | None = None) -> PersonalAccount:
    """Debit ``amount`` (positive) for the case ``application_id``, if a case moves it; refused when the account is
    missing or holds less."""
    account = locked_account(person_id)
    if account is None or account.balance < amount:
        raise InvalidTransition(_("The personal account's balance is less than the amount to pay: check the "
                                  "account first."))
    _move(account, -amount, kind, note, application_id)
    return account


def moved_by(application_id: int) -> bool:
    """Whether the case ``application_id`` has moved money on an account."""
    return db.session.execute(select(AccountTransaction.id).where(AccountTransaction.application_id == application_id)
                              .limit(1)).first() is not None


def withdraw_all(person_id: int | None, kind: AccountTransactionKind, note: str) -> Decimal:
    """Debit the whole balance, as it is now; returns it (0, with nothing written, for an empty or missing
    account)."""
    account = locked_account(person_id)
    balance = account.balance if account is not None else ZERO
    if balance > 0:
        _move(account, -balance, kind, note)
    return balance


def deposit(person_id: int, amount: Decimal, kind: AccountTransactionKind, note: str, *,
            opened_on: date | None = None) -> PersonalAccount:
    """Credit ``amount`` (positive), opening the account on ``opened_on`` (today) when the person has none."""
    account = locked_account(person_id)
    if account is None:
        account = PersonalAccount(person_id=person_id, balance=ZERO, opened_on=opened_on or clock.today())
        db.session.add(account)
        db.session.flush()
    _move(account, amount, kind, note)
    return account
