"""Demo histories: an employee's, a flexible worker's and a resident's life over the demo window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from ..constants import AccountTransactionKind as Tx
from ..constants import EnrolmentEventKind, EnrolmentStatus, InsuranceType, PersonCategory, UnitNature
from .accounts import Accounts
from .common import DEMO_FIRST_MONTH, DEMO_LAST_MONTH, WINDOW, money
from .contributions import Contributions
from .enrolments import Enrolments
from .regions import RESIDENT_FEE
from .units import Units, UnitTraits


class Lives(Units, Enrolments, Contributions, Accounts):
    """Whole histories: enrolments, contributions and account movements, month by month."""

    def employee_life(self, person: int, unit: UnitTraits, *, enrolled_on: date, retire_on: date | None = None,
                      leave_on: date | None = None, die_on: date | None = None, transfer: bool = False,
                      base: int | None = None, carried: Decimal | None = None) -> None:
        """An employee-scheme life over the window: monthly contributions through a unit until retirement,
        leaving the region or death; the account gets the personal 2 % and, once retired, a fixed credit."""
        r, region = self.rng, self.region
        base = base or int(min(max(r.lognormvariate(8.6, 0.45), region.base_floor), region.base_ceiling))
        enrolment = self.enrol(person, InsuranceType.EMPLOYEE_MEDICAL, enrolled_on, unit)
        with_unit = [enrolment]
        account = self.open_account(person)
        if enrolled_on < DEMO_FIRST_MONTH:
            account.move(DEMO_FIRST_MONTH, carried or money(Decimal(r.uniform(300, 9000))), Tx.CARRIED_FORWARD,
                         "2021年末余额结转")
        elif r.random() < 0.4:
            account.move(enrolled_on, money(Decimal(r.uniform(200, 5000))), Tx.TRANSFER_IN, "跨统筹区转移接续转入")
        if region.has_long_term_care:
            with_unit.append(self.enrol(person, InsuranceType.LONG_TERM_CARE, max(enrolled_on, date(2015, 5, 1)), unit))
        if unit.nature is UnitNature.GOVERNMENT:
            self.enrol(person, InsuranceType.CIVIL_SERVANT, enrolled_on, unit)
            transfer = False
        with_unit.append(self.enrol(person, InsuranceType.LARGE_EXPENSE, enrolled_on, unit))
        transfer_month = r.choice(WINDOW[6:-6]) if transfer else None
        first_month = enrolled_on.replace(day=1)
        stop = min((d for d in (leave_on, die_on) if d), default=None)
        current = unit
        for month in WINDOW:
            if stop and month >= stop.replace(day=1):
                break
            if month < first_month:
                continue
            if retire_on and month >= retire_on.replace(day=1):
                credit = region.retiree_credit + 5 * (month.year - 2022)
                account.move(month.replace(day=15), credit, Tx.CREDIT, f"{month:%Y-%m} 退休人员定额划入")
                self.spending(account, month, rate=0.55)
                continue
            if month == transfer_month and month > first_month:
                new = self.pick_unit(exclude=current.index, active_only=True)
                self.event(enrolment, EnrolmentEventKind.TRANSFERRED, month, from_unit=current, to_unit=new,
                           note="统筹区内单位变更")
                current = new
                self.plan.persons[person]["unit_id"] = new.index
                for index in with_unit:
                    self.plan.enrolments[index]["unit_id"] = new.index
            if current.suspended_from and month >= current.suspended_from:
                continue
            if month.month == 1 or month == first_month:
                self.contribute(person, current, InsuranceType.LARGE_EXPENSE, month.replace(month=1), None,
                                Decimal("0.00"), region.large_expense_fee, month.replace(day=20))
            month_base = money(Decimal(base) * Decimal(1 + 0.04 * (month.year - 2022)))
            personal = money(month_base * Decimal("0.02"))
            paid = month not in current.arrears_months
            self.contribute(person, current, InsuranceType.EMPLOYEE_MEDICAL, month, month_base,
                            money(month_base * region.unit_rate), personal, month.replace(day=15) if paid else None)
            if paid:
                account.move(month.replace(day=15), personal, Tx.CREDIT, f"{month:%Y-%m} 个人缴费划入")
            self.spending(account, month, rate=0.35)
        suspended_from = current.suspended_from
        if suspended_from and not (retire_on and retire_on <= suspended_from):
            for index in with_unit:
                self.plan.enrolments[index]["status"] = EnrolmentStatus.SUSPENDED
            self.event(enrolment, EnrolmentEventKind.INTERRUPTED, max(suspended_from, enrolled_on), note="单位暂停缴费")
        if retire_on:
            self.event(enrolment, EnrolmentEventKind.RETIRED, retire_on, note="达到法定退休年龄，办理在职转退休")
            self.plan.persons[person]["category"] = PersonCategory.RETIREE
        if leave_on:
            account.spend(leave_on, account.balance, Tx.TRANSFER_OUT, "跨统筹区转移接续转出")
            self.terminate(person, leave_on, "转出本统筹区")
        if die_on:
            account.spend(die_on + timedelta(days=45), account.balance, Tx.LUMP_SUM_WITHDRAWAL,
                          "参保人死亡，个人账户余额由继承人一次性支取")
            self.plan.persons[person]["death_date"] = die_on
            self.terminate(person, die_on, "参保人死亡")
        self.close_account(account, enrolled_on)

    def flexible_life(self, person: int, *, enrolled_on: date, gap: tuple[date, date] | None = None,
                      arrears: frozenset[date] = frozenset()) -> None:
        """灵活就业: no unit; the person pays the whole rate on a base of 60 % or 100 % of the average wage."""
        r, region = self.rng, self.region
        base = Decimal(region.base_floor) * Decimal(r.choice(("1.0", "1.0", "1.6")))
        rate = region.unit_rate + Decimal("0.02")
        enrolment = self.enrol(person, InsuranceType.EMPLOYEE_MEDICAL, enrolled_on, None)
        account = self.open_account(person)
        if enrolled_on < DEMO_FIRST_MONTH:
            account.move(DEMO_FIRST_MONTH, money(Decimal(r.uniform(100, 3000))), Tx.CARRIED_FORWARD,
                         "2021年末余额结转")
        for month in WINDOW:
            if month < enrolled_on.replace(day=1) or (gap and gap[0] <= month < gap[1]):
                continue
            month_base = money(base * Decimal(1 + 0.04 * (month.year - 2022)))
            paid = month not in arrears
            self.contribute(person, None, InsuranceType.EMPLOYEE_MEDICAL, month, month_base, Decimal("0.00"),
                            money(month_base * rate), month.replace(day=12) if paid else None)
            if paid:
                account.move(month.replace(day=12), money(month_base * Decimal("0.02")), Tx.CREDIT,
                             f"{month:%Y-%m} 个人缴费划入")
            self.spending(account, month, rate=0.3)
        if gap:
            self.event(enrolment, EnrolmentEventKind.INTERRUPTED, gap[0], note="个人申请暂停缴费")
            if gap[1] <= DEMO_LAST_MONTH:
                self.event(enrolment, EnrolmentEventKind.RESUMED, gap[1], note="恢复缴费")
            else:
                self.plan.enrolments[enrolment]["status"] = EnrolmentStatus.SUSPENDED
        self.close_account(account, enrolled_on)

    def resident_life(self, person: int, *, enrolled_on: date, birth: date, skip_years: Iterable[int] = ()) -> None:
        """城乡居民: one contribution a year; 特困/重残 pay nothing themselves, 低保 half (the state pays the rest)."""
        r = self.rng
        row = self.plan.persons[person]
        share = (Decimal("0") if row["is_extreme_poverty"] or row["is_severely_disabled"]
                 else Decimal("0.5") if row["is_subsistence_allowance"] else Decimal("1"))
        enrolment = self.enrol(person, InsuranceType.RESIDENT_MEDICAL, enrolled_on, None)
        skipped = set(skip_years)
        for year in range(max(2022, enrolled_on.year), DEMO_LAST_MONTH.year + 1):
            if year in skipped:
                continue
            paid_on = (enrolled_on if enrolled_on.year == year and enrolled_on >= date(year, 1, 1)
                       and birth.year == year else date(year - 1, r.randint(9, 12), r.randint(1, 28)))
            self.contribute(person, None, InsuranceType.RESIDENT_MEDICAL, date(year, 1, 1), None, Decimal("0.00"),
                            money(RESIDENT_FEE[year] * share), paid_on)
        if skipped:
            first = min(skipped)
            self.event(enrolment, EnrolmentEventKind.INTERRUPTED, date(first, 1, 1), note="当年未缴费")
            if first + 1 <= DEMO_LAST_MONTH.year:
                self.event(enrolment, EnrolmentEventKind.RESUMED, date(first + 1, 1, 1), note="次年恢复缴费")
