"""Demo personal accounts (个人账户): movements in date order with the balance after each, never negative."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..constants import AccountTransactionKind as Tx
from .common import BuilderState, money


@dataclass
class AccountLedger:
    """Builds one personal account's movements in date order, keeping the balance non-negative."""

    index: int
    balance: Decimal = Decimal("0.00")
    rows: list[dict[str, Any]] = field(default_factory=list)

    def move(self, day: date, amount: Decimal, kind: Tx, note: str | None = None) -> None:
        if amount == 0:
            return
        self.balance += amount
        self.rows.append({"account_id": self.index, "occurred_on": day, "amount": amount, "kind": kind,
                          "balance_after": self.balance, "note": note})

    def spend(self, day: date, wanted: Decimal, kind: Tx, note: str | None = None) -> None:
        amount = min(wanted, self.balance)
        if amount >= Decimal("1.00"):
            self.move(day, -amount, kind, note)


class Accounts(BuilderState):
    """Opens and closes personal accounts and draws their spending."""

    def open_account(self, person: int) -> AccountLedger:
        account = AccountLedger(len(self.plan.accounts))
        self.plan.accounts.append({"person_id": person, "opened_on": None, "balance": None})
        return account

    def close_account(self, account: AccountLedger, opened_on: date) -> None:
        self.plan.accounts[account.index].update(opened_on=opened_on, balance=account.balance)
        self.plan.transactions.extend(account.rows)

    def spending(self, account: AccountLedger, month: date, *, rate: float) -> None:
        """Random outpatient/pharmacy spending after the month's credit (day 16–28), within the balance."""
        r = self.rng
        if r.random() < rate:
            kind = Tx.PHARMACY if r.random() < 0.6 else Tx.OUTPATIENT
            wanted = money(Decimal(r.lognormvariate(4.3, 0.8)))
            note = "定点零售药店购药" if kind is Tx.PHARMACY else "定点医疗机构门诊"
            account.spend(month.replace(day=r.randint(16, 26)), wanted, kind, note)
        if r.random() < 0.015:
            account.spend(month.replace(day=27), money(Decimal(r.uniform(50, 600))), Tx.FAMILY_MUTUAL_AID,
                          "家庭共济：为配偶/子女支付")
