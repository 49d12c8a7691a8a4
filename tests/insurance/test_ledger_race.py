"""Two movements of one personal account at the same moment (PostgreSQL: each request its own session and
connection, the account committed before; each request has read the account's balance before either moves money,
as a request that shows or checks the case has). The ledger takes the row in turn: nothing is paid out twice, no
balance written back forgets the other movement, and every transaction's balance after it follows from the one
before."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.core.db import db
from portal.core.errors import InvalidTransition
from portal.insurance import ledger
from portal.insurance.constants import AccountTransactionKind as Kind
from portal.insurance.models import AccountTransaction, Person, PersonalAccount
from tests.factories import valid_id_number
from tests.race_support import empty_every_table, outcomes_at_once, race_setup

pytestmark = pytest.mark.no_db

OPENING = Decimal("1000.00")


@pytest.fixture
def person_id(app, monkeypatch):
    """A person whose account holds 1,000.00 yuan, committed."""
    with race_setup(app, monkeypatch):
        person = Person(insured_no="P-race-ledger", name="孙账户", gender="F", birth_date=date(1966, 4, 1))
        person.set_id_number(valid_id_number(seq="812"))
        db.session.add(person)
        db.session.flush()
        db.session.add(PersonalAccount(person_id=person.id, balance=OPENING, opened_on=date(2020, 1, 1)))
        db.session.commit()
        ids = person.id
    yield ids
    empty_every_table(app)


def _at_once(app, person_id: int, movements) -> list[str]:
    """Each movement in a request of its own, after every request has read the balance; each outcome."""
    read = threading.Barrier(len(movements), timeout=20)

    def request(move) -> None:
        assert db.session.get(Person, person_id).account.balance == OPENING
        read.wait()
        move(person_id)

    return outcomes_at_once(app, request, [(move,) for move in movements], (InvalidTransition,))


def _ledger(app, person_id: int) -> tuple[Decimal, list[tuple[Decimal, Decimal]]]:
    """The account's balance, and its transactions as (amount, balance after), in order."""
    with app.app_context():
        try:
            account = db.session.execute(select(PersonalAccount).where(PersonalAccount.person_id == person_id)
                                         ).scalar_one()
            rows = db.session.execute(select(AccountTransaction).where(AccountTransaction.account_id == account.id)
                                      .order_by(AccountTransaction.id)).scalars()
            return account.balance, [(row.amount, row.balance_after) for row in rows]
        finally:
            db.session.remove()


def _consistent(balance: Decimal, rows) -> bool:
    running = OPENING
    for amount, after in rows:
        running += amount
        if after != running:
            return False
    return running == balance


def withdraw_600(person_id: int) -> None:
    ledger.withdraw(person_id, Decimal("600.00"), Kind.LUMP_SUM_WITHDRAWAL, "一次性支取 race")


def test_two_withdrawals_at_once_never_pay_out_more_than_the_balance(app, person_id):
    assert _at_once(app, person_id, [withdraw_600, withdraw_600]) == ["InvalidTransition", "ok"]
    balance, rows = _ledger(app, person_id)
    assert (balance, rows) == (Decimal("400.00"), [(Decimal("-600.00"), Decimal("400.00"))])


def test_a_transfer_out_and_a_transfer_in_at_once_keep_every_yuan(app, person_id):
    def take_all(pid: int) -> None:
        ledger.withdraw_all(pid, Kind.TRANSFER_OUT, "转出 race")

    def bring_in(pid: int) -> None:
        ledger.deposit(pid, Decimal("300.00"), Kind.TRANSFER_IN, "转入 race")

    assert _at_once(app, person_id, [take_all, bring_in]) == ["ok", "ok"]
    balance, rows = _ledger(app, person_id)
    assert len(rows) == 2 and _consistent(balance, rows)
    taken = next(amount for amount, _after in rows if amount < 0)
    # whichever went first, the transfer out took the whole balance it found, the 300.00 included or not
    assert (taken, balance) in ((Decimal("-1000.00"), Decimal("300.00")), (Decimal("-1300.00"), Decimal("0.00")))
