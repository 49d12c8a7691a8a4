"""Records of a known shape for the query and certificate tests: an employee of a unit with paid months,
arrears, an annual 大额 row, a resident past, a personal account with movements, a benefit, and colleagues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from portal.core.audit import Actor
from portal.insurance.constants import (
    AccountTransactionKind,
    BenefitKind,
    ContributionStatus,
    EnrolmentEventKind,
    EnrolmentStatus,
    HukouType,
    InsuranceType,
    PersonCategory,
)
from portal.insurance.models import (
    AccountTransaction,
    Benefit,
    Contribution,
    Enrolment,
    EnrolmentEvent,
    PersonalAccount,
)
from tests.factories import mobile, valid_id_number

PAID_AT = datetime(2025, 1, 20, 2, tzinfo=UTC)
SYSTEM = Actor.system()
BALANCE = Decimal("1234.56")
EMPLOYEE_MONTHS = 14  # 2025-01 … 2026-02 paid; 2026-03 in arrears


@dataclass
class Insured:
    person: object
    unit: object
    phone: str
    colleagues: list


def contribution(person, month, kind=InsuranceType.EMPLOYEE_MEDICAL, *, paid=True, unit=None, personal="100.00"):
    return Contribution(person_id=person.id, unit_id=unit.id if unit else None, insurance_type=kind, period_month=month,
                        base=Decimal("5000.00") if kind is InsuranceType.EMPLOYEE_MEDICAL else None,
                        unit_amount=Decimal("350.00") if unit else Decimal("0.00"), personal_amount=Decimal(personal),
                        status=ContributionStatus.PAID if paid else ContributionStatus.ARREARS,
                        paid_at=PAID_AT if paid else None)


def months(first: date, count: int) -> list[date]:
    out, year, month = [], first.year, first.month
    for _ in range(count):
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def build_insured(session, make_person, make_unit, *, colleagues: int = 3) -> Insured:
    unit = make_unit(name="长春示范信息技术有限公司")
    unit.division_code, unit.agency_name, unit.postcode = "220102", "长春市医疗保障经办中心", "130000"
    phone = mobile()
    person = make_person(name="欧阳明华", id_number=valid_id_number("19850315", "220102"), phone=phone)
    person.unit_id, person.category = unit.id, PersonCategory.EMPLOYEE
    person.hukou_place, person.hukou_type, person.hukou_division_code = "吉林省长春市南关区", HukouType.URBAN, "220102"
    session.flush()
    employee = Enrolment(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL, unit_id=unit.id,
                         start_date=date(2025, 1, 1))
    resident = Enrolment(person_id=person.id, insurance_type=InsuranceType.RESIDENT_MEDICAL,
                         status=EnrolmentStatus.TERMINATED, start_date=date(2020, 1, 1), end_date=date(2024, 12, 31))
    session.add_all([employee, resident])
    session.flush()
    account = PersonalAccount(person_id=person.id, balance=BALANCE, opened_on=date(2025, 1, 1))
    session.add_all([
        EnrolmentEvent(enrolment_id=employee.id, kind=EnrolmentEventKind.ADDED, effective_date=date(2025, 1, 1)),
        EnrolmentEvent(enrolment_id=resident.id, kind=EnrolmentEventKind.TERMINATED, effective_date=date(2024, 12, 31),
                       note="转为职工参保"),
        *(contribution(person, m, unit=unit) for m in months(date(2025, 1, 1), EMPLOYEE_MONTHS)),
        contribution(person, date(2026, 3, 1), unit=unit, paid=False),
        contribution(person, date(2025, 1, 1), InsuranceType.LARGE_EXPENSE, unit=unit, personal="120.00"),
        contribution(person, date(2023, 1, 1), InsuranceType.RESIDENT_MEDICAL, personal="380.00"),
        account,
        Benefit(person_id=person.id, kind=BenefitKind.CHRONIC_DISEASE, item_code="M03900",
                valid_from=date(2025, 6, 1), valid_until=date(2027, 5, 31)),
    ])
    session.flush()
    balance = Decimal("0.00")
    for i, m in enumerate(months(date(2025, 1, 1), 30)):
        amount = Decimal("-20.00") if i % 3 == 2 else Decimal("80.00")
        kind = AccountTransactionKind.CREDIT if amount > 0 else AccountTransactionKind.PHARMACY
        balance += amount
        session.add(AccountTransaction(account_id=account.id, occurred_on=m, amount=amount, kind=kind,
                                       balance_after=balance, note=None))
    others = []
    for i in range(colleagues):
        other = make_person(name=f"司马{'一二三四五六七八九'[i % 9]}光", phone=mobile())
        other.unit_id = unit.id
        session.flush()
        session.add(Enrolment(person_id=other.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL, unit_id=unit.id,
                              start_date=date(2024, 7, 1)))
        session.add(contribution(other, date(2026, 3, 1), unit=unit, paid=i % 2 == 0))
        others.append(other)
    session.flush()
    return Insured(person, unit, phone, others)
