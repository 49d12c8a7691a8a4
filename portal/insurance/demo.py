"""Deterministic demo data for the system of record: persons, units, enrolments, contributions, accounts.

Everything is drawn from ``random.Random(seed)``: the same seed and region give the same people, the same
身份证 numbers and 统一社会信用代码, and the same histories (ciphertexts differ, the plaintexts do not).
The data are built in two steps: ``build_demo_plan`` makes plain rows in memory (pure, testable without
a database), ``generate_demo_data`` inserts them in bulk. The documented demo logins (``DEMO_CITIZENS``,
``DEMO_UNIT``) are the same for every seed and region.

Histories cover ``DEMO_FIRST_MONTH`` … ``DEMO_LAST_MONTH``: monthly employee contributions (unit 6–8 %,
personal 2 %, credited to the personal account), annual resident contributions, retirees who stop paying
and get a fixed monthly account credit, flexible workers without a unit, newborns of the current year
enrolled within 90 days of birth, arrears, transfers, interruptions and deaths.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import current_app
from sqlalchemy import exists, insert, select

from ..core.clock import LOCAL_TZ
from ..core.db import db
from ..core.validators import USCC_ALPHABET, credit_code_check_char, id_check_digit
from .constants import (
    AccountTransactionKind as Tx,
)
from .constants import (
    BenefitKind,
    BenefitStatus,
    ContributionStatus,
    EnrolmentEventKind,
    EnrolmentStatus,
    HealthCareLevel,
    HukouType,
    InsuranceType,
    PersonCategory,
    UnitNature,
    UnitStatus,
)
from .demo_regions import (  # noqa: F401 (part of this module's interface)
    BRANDS,
    BUREAUS,
    CATEGORY_SHARES,
    CHRONIC,
    COMMON_BANKS,
    CREDIT_PREFIX,
    FEMALE_CHARS,
    INDUSTRIES,
    MALE_CHARS,
    PHONE_PREFIXES,
    REGIONS,
    REMOTE_DESTINATIONS,
    RESIDENT_FEE,
    SHOPS,
    SPECIAL_DRUGS,
    STREETS,
    SURNAMES,
    TOWNS,
    UNIT_NATURE_WEIGHTS,
    DemoRegion,
    demo_region,
)
from .models import (
    AccountTransaction,
    Benefit,
    Contribution,
    Enrolment,
    EnrolmentEvent,
    Person,
    PersonalAccount,
    Unit,
    id_number_index,
    phone_index,
)

DEMO_FIRST_MONTH = date(2022, 1, 1)
DEMO_LAST_MONTH = date(2026, 10, 1)
CENT = Decimal("0.01")


# --------------------------------------------------------------------------------------------------
# Fixed demo logins (documented in the README; identical for every seed and region)


@dataclass(frozen=True)
class DemoCitizen:
    key: str
    name: str
    id_number: str
    phone: str
    gender: str
    birth_date: date
    category: PersonCategory
    insured_no: str
    hukou_division_code: str
    hukou_place: str
    hukou_type: HukouType
    description: str  # English, for the README and the ``portal up`` banner


@dataclass(frozen=True)
class DemoUnit:
    code: str
    credit_code: str
    name: str
    nature: UnitNature
    address: str


DEMO_UNIT = DemoUnit(
    code="DEMO000001",
    credit_code="91220100MA17DEM55F",
    name="长春华宇信息技术有限公司",
    nature=UnitNature.ENTERPRISE,
    address="吉林省长春市朝阳区人民大街1288号",
)
DEMO_UNIT_AGENT_PHONE = "13800000009"
"""The phone of the DEMO_UNIT's agent (单位经办人); the accounts feature creates that login."""

DEMO_CITIZENS: tuple[DemoCitizen, ...] = (
    DemoCitizen(
        "employee", "张伟明", "220102198503151237", "13800000001", "M", date(1985, 3, 15),
        PersonCategory.EMPLOYEE, "DEMO00000001", "220102", "吉林省长春市南关区", HukouType.URBAN,
        "in-service employee of the demo unit, contributing monthly since 2008",
    ),
    DemoCitizen(
        "retiree", "李秀兰", "220104195806202467", "13800000002", "F", date(1958, 6, 20),
        PersonCategory.RETIREE, "DEMO00000002", "220104", "吉林省长春市朝阳区", HukouType.URBAN,
        "retiree (retired 2013 from the demo unit), monthly account credits, chronic-disease recognition",
    ),
    DemoCitizen(
        "resident", "王小红", "220122199211083623", "13800000003", "F", date(1992, 11, 8),
        PersonCategory.RESIDENT, "DEMO00000003", "220122", "吉林省长春市农安县", HukouType.RURAL,
        "urban-rural resident paying the annual resident contribution",
    ),
    DemoCitizen(
        "flexible", "刘建国", "220105197909101576", "13800000004", "M", date(1979, 9, 10),
        PersonCategory.FLEXIBLE, "DEMO00000004", "220105", "吉林省长春市二道区", HukouType.URBAN,
        "flexible worker paying employee insurance on his own, with one interruption",
    ),
)


def months(first: date, last: date) -> list[date]:
    """First days of the months from ``first`` to ``last``, both included."""
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


WINDOW = months(DEMO_FIRST_MONTH, DEMO_LAST_MONTH)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _at(day: date, hour: int = 10) -> datetime:
    """A local (Asia/Shanghai) time on ``day``, as UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ).astimezone(UTC)


def organisation_code(body8: str) -> str:
    """An 组织机构代码 (GB 11714): 8 characters and a check character (weights 3 7 9 10 5 8 4 2, mod 11)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, weights, strict=True))
    check = 11 - total % 11
    return body8 + {10: "X", 11: "0"}.get(check, str(check))


# --------------------------------------------------------------------------------------------------
# The plan: plain rows, foreign keys given as list positions until insertion


@dataclass
class DemoPlan:
    """Rows to insert. In these rows ``unit_id``/``person_id``/``enrolment_id``/``account_id`` and the
    event's unit columns hold positions in the lists below; ``insert_plan`` replaces them with database ids."""

    region: str
    units: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    enrolments: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    contributions: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    benefits: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    region: str
    units: int
    persons: int
    enrolments: int
    events: int
    contributions: int
    accounts: int
    transactions: int
    benefits: int
    seconds: float

    def line(self) -> str:
        return (f"demo data for {self.region} (seed {self.seed}): {self.persons} persons, {self.units} units, "
                f"{self.enrolments} enrolments, {self.contributions} contributions, {self.accounts} accounts, "
                f"{self.transactions} account transactions, {self.benefits} benefits in {self.seconds:.1f} s")


@dataclass
class _Unit:
    index: int
    nature: UnitNature
    status: UnitStatus
    weight: float
    suspended_from: date | None = None
    arrears_months: frozenset[date] = frozenset()


@dataclass
class _Account:
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


class _Builder:
    def __init__(self, seed: int, region_id: str):
        self.rng = random.Random(seed)
        self.region = demo_region(region_id)
        self.plan = DemoPlan(region=region_id)
        self.id_numbers: set[str] = {c.id_number for c in DEMO_CITIZENS}
        self.phones: set[str] = {c.phone for c in DEMO_CITIZENS} | {DEMO_UNIT_AGENT_PHONE}
        self.credit_codes: set[str] = {DEMO_UNIT.credit_code}
        self.unit_names: set[str] = {DEMO_UNIT.name}
        self.units: list[_Unit] = []
        self._surnames = [s for s, _w in SURNAMES]
        self._surname_cum = _cumulative(w for _s, w in SURNAMES)
        self._ethnicities = [e for e, _w in self.region.ethnicities]
        self._ethnicity_cum = _cumulative(w for _e, w in self.region.ethnicities)

    # ---- identities

    def surname(self) -> str:
        return self.rng.choices(self._surnames, cum_weights=self._surname_cum)[0]

    def name(self, gender: str, surname: str | None = None) -> str:
        chars = MALE_CHARS if gender == "M" else FEMALE_CHARS
        given = self.rng.choice(chars) + (self.rng.choice(chars) if self.rng.random() < 0.72 else "")
        return (surname or self.surname()) + given

    def district(self) -> tuple[str, str]:
        return self.rng.choice(self.region.districts)

    def id_number(self, area: str, birth: date, gender: str) -> str:
        while True:
            seq = self.rng.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
            first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
            number = first17 + id_check_digit(first17)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def phone(self) -> str:
        while True:
            number = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def birth_date(self, first_year: int, last_year: int) -> date:
        start = date(first_year, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(last_year, 12, 31) - start).days + 1))

    def place(self, district: str) -> str:
        """Province, city and district as written on a 户籍 record (a county-level region names itself once)."""
        region = self.region
        return region.province + region.city + ("" if region.city.endswith(district) else district)

    def address(self, place: str, rural: bool) -> str:
        r = self.rng
        if rural:
            return f"{place}{r.choice(TOWNS)}镇{r.choice(TOWNS)}村{r.randint(1, 9)}组"
        return (f"{place}{r.choice(STREETS)}{r.randint(1, 999)}号"
                f"{r.randint(1, 30)}栋{r.randint(1, 6)}单元{r.randint(1, 28)}{r.randint(1, 4):02d}室")

    def credit_code(self, nature: UnitNature, area: str) -> str:
        while True:
            if nature in (UnitNature.ENTERPRISE, UnitNature.INDIVIDUAL_BUSINESS, UnitNature.PRIVATE_NON_ENTERPRISE):
                body = "MA" + "".join(self.rng.choice(USCC_ALPHABET) for _ in range(6))
            else:
                body = f"{self.rng.randrange(10**8):08d}"
            first17 = CREDIT_PREFIX[nature] + area + organisation_code(body)
            code = first17 + credit_code_check_char(first17)
            if code not in self.credit_codes:
                self.credit_codes.add(code)
                return code

    def unit_name(self, nature: UnitNature, district: str) -> str:
        r, city, short = self.rng, self.region.city, self.region.short
        for attempt in range(50):
            if nature is UnitNature.GOVERNMENT:
                name = r.choice((f"{city}{r.choice(BUREAUS)}", f"{district}{r.choice(BUREAUS)}",
                                 f"{district}人民政府办公室"))
            elif nature is UnitNature.PUBLIC_INSTITUTION:
                name = r.choice((f"{city}第{r.randint(1, 40)}中学", f"{district}实验小学", f"{district}人民医院",
                                 f"{city}中医院", f"{city}疾病预防控制中心", f"{district}{r.choice(TOWNS)}镇卫生院",
                                 f"{city}图书馆", f"{short}职业技术学院"))
            elif nature is UnitNature.ENTERPRISE:
                name = (f"{short}{r.choice(BRANDS)}{r.choice(INDUSTRIES)}"
                        f"{r.choice(('有限公司', '有限责任公司', '股份有限公司'))}")
            elif nature is UnitNature.SOCIAL_ORGANISATION:
                trade = r.choice(("个体劳动者", "餐饮行业", "书法家", "摄影家", "老年体育", "软件行业"))
                name = r.choice((f"{city}{trade}协会",
                                 f"{city}{r.choice(INDUSTRIES)}商会"))
            elif nature is UnitNature.PRIVATE_NON_ENTERPRISE:
                kind = r.choice(("职业培训学校", "养老院", "幼儿园", "社会工作服务中心", "康复中心"))
                name = f"{short}{r.choice(BRANDS)}{kind}"
            else:
                name = f"{district}{self.surname()}记{r.choice(SHOPS)}"
            if attempt > 40:
                name += f"（{attempt}）"
            if name not in self.unit_names:
                self.unit_names.add(name)
                return name
        raise RuntimeError("could not make a unique unit name")

    # ---- units

    def add_units(self, count: int) -> None:
        r, region = self.rng, self.region
        natures = [n for n, _w in UNIT_NATURE_WEIGHTS]
        nature_cum = _cumulative(w for _n, w in UNIT_NATURE_WEIGHTS)
        for index in range(count):
            area, district = ("220104", "朝阳区") if index == 0 else self.district()
            if index == 0:
                nature, status, name, credit, code = (DEMO_UNIT.nature, UnitStatus.ACTIVE, DEMO_UNIT.name,
                                                      DEMO_UNIT.credit_code, DEMO_UNIT.code)
            else:
                nature = r.choices(natures, cum_weights=nature_cum)[0]
                roll = r.random()
                status = (UnitStatus.CANCELLED if roll < 0.04
                          else UnitStatus.SUSPENDED if roll < 0.09 else UnitStatus.ACTIVE)
                name, credit = self.unit_name(nature, district), self.credit_code(nature, area)
                code = f"{region.code}{index:06d}"
            weight = {
                UnitNature.GOVERNMENT: 25.0, UnitNature.PUBLIC_INSTITUTION: 30.0, UnitNature.SOCIAL_ORGANISATION: 4.0,
                UnitNature.PRIVATE_NON_ENTERPRISE: 6.0, UnitNature.INDIVIDUAL_BUSINESS: 1.5,
            }.get(nature, r.uniform(4, 60))
            unit = _Unit(index, nature, status, 0.0 if status is UnitStatus.CANCELLED else weight)
            if index == 0:
                unit.weight = 40.0
            if status is UnitStatus.SUSPENDED:
                unit.suspended_from = r.choice(WINDOW[-18:-2])
            elif status is UnitStatus.ACTIVE and index and r.random() < 0.08:
                unit.arrears_months = frozenset(WINDOW[-r.randint(1, 4):])
            self.units.append(unit)
            rep_gender = r.choice("MF")
            established = (date(r.randint(1950, 2000), r.randint(1, 12), 1)
                           if nature in (UnitNature.GOVERNMENT, UnitNature.PUBLIC_INSTITUTION)
                           else date(r.randint(1995, 2021), r.randint(1, 12), r.randint(1, 28)))
            self.plan.units.append({
                "code": code, "credit_code": credit, "name": name, "nature": nature, "status": status,
                "legal_rep_name": self.name(rep_gender),
                "legal_rep_id_number": self.id_number(self.district()[0], self.birth_date(1960, 1990), rep_gender),
                "legal_rep_phone": self.phone(),
                "bank_name": f"{r.choice(region.banks)}{region.short}{district}支行",
                "bank_account": "".join(str(r.randrange(10)) for _ in range(19)),
                "address": (DEMO_UNIT.address if index == 0
                            else f"{self.place(district)}{r.choice(STREETS)}{r.randint(1, 2999)}号"),
                "postcode": region.postcode,
                "contact_phone": f"{region.phone_area}-8{r.randrange(10**6, 10**7)}",
                "agency_name": region.agency, "division_code": area, "established_on": established,
            })

    def pick_unit(self, *, exclude: int | None = None, active_only: bool = False) -> _Unit:
        weights = [0.0 if u.index == exclude or (active_only and u.status is not UnitStatus.ACTIVE) else u.weight
                   for u in self.units]
        return self.rng.choices(self.units, weights=weights)[0]

    # ---- persons

    def add_person(self, category: PersonCategory, *, citizen: DemoCitizen | None = None,
                   gender: str | None = None, birth: date | None = None, unit: _Unit | None = None,
                   **extra: Any) -> int:
        r = self.rng
        gender = citizen.gender if citizen else (gender or r.choice("MF"))
        if citizen:
            area, place = citizen.hukou_division_code, citizen.hukou_place
            hukou_type, name, id_number, phone = citizen.hukou_type, citizen.name, citizen.id_number, citizen.phone
            birth, insured_no = citizen.birth_date, citizen.insured_no
        else:
            area, district = self.district()
            place = self.place(district)
            rural = category in (PersonCategory.RESIDENT, PersonCategory.STUDENT, PersonCategory.NEWBORN)
            hukou_type = r.choices((HukouType.RURAL, HukouType.URBAN, HukouType.UNIFIED),
                                   weights=(70, 20, 10) if rural else (10, 80, 10))[0]
            assert birth is not None
            name = self.name(gender)
            id_number = self.id_number(area, birth, gender)
            phone = None if category is PersonCategory.NEWBORN else self.phone()
            insured_no = f"{self.region.code}{len(self.plan.persons) + 1:08d}"
        index = len(self.plan.persons)
        ethnicity = r.choices(self._ethnicities, cum_weights=self._ethnicity_cum)[0] if r.random() < 0.7 else None
        self.plan.persons.append({
            "insured_no": insured_no, "name": name, "id_number": id_number, "gender": gender, "birth_date": birth,
            "phone": phone, "unit_id": unit.index if unit else None, "category": category,
            "is_retired_cadre": category is PersonCategory.RETIRED_CADRE, "is_model_worker": False,
            "health_care_level": None, "is_extreme_poverty": False, "is_subsistence_allowance": False,
            "is_severely_disabled": False, "is_disabled_veteran": False,
            "hukou_division_code": area, "hukou_place": place, "hukou_type": hukou_type,
            "address": self.address(place, hukou_type is HukouType.RURAL),
            "ethnicity": ethnicity, "death_date": None, "notes": None,
        } | extra)
        return index

    def enrol(self, person: int, kind: InsuranceType, start: date, unit: _Unit | None,
              status: EnrolmentStatus = EnrolmentStatus.ACTIVE, end: date | None = None) -> int:
        index = len(self.plan.enrolments)
        self.plan.enrolments.append({"person_id": person, "insurance_type": kind,
                                     "unit_id": unit.index if unit else None,
                                     "status": status, "start_date": start, "end_date": end})
        self.event(index, EnrolmentEventKind.ADDED, start, note=None)
        return index

    def event(self, enrolment: int, kind: EnrolmentEventKind, day: date, *, note: str | None = None,
              from_unit: _Unit | None = None, to_unit: _Unit | None = None) -> None:
        self.plan.events.append({"enrolment_id": enrolment, "kind": kind, "effective_date": day,
                                 "recorded_at": _at(day, 9), "from_unit_id": from_unit.index if from_unit else None,
                                 "to_unit_id": to_unit.index if to_unit else None, "note": note})

    def open_account(self, person: int) -> _Account:
        account = _Account(len(self.plan.accounts))
        self.plan.accounts.append({"person_id": person, "opened_on": None, "balance": None})
        return account

    def close_account(self, account: _Account, opened_on: date) -> None:
        self.plan.accounts[account.index].update(opened_on=opened_on, balance=account.balance)
        self.plan.transactions.extend(account.rows)

    def contribute(self, person: int, unit: _Unit | None, kind: InsuranceType, month: date, base: Decimal | None,
                   unit_amount: Decimal, personal_amount: Decimal, paid_on: date | None) -> None:
        self.plan.contributions.append({
            "person_id": person, "unit_id": unit.index if unit else None, "insurance_type": kind,
            "period_month": month, "base": base, "unit_amount": unit_amount, "personal_amount": personal_amount,
            "status": ContributionStatus.PAID if paid_on else ContributionStatus.ARREARS,
            "paid_at": _at(paid_on) if paid_on else None,
        })

    def spending(self, account: _Account, month: date, *, rate: float) -> None:
        """Random outpatient/pharmacy spending after the month's credit (day 16–28), within the balance."""
        r = self.rng
        if r.random() < rate:
            kind = Tx.PHARMACY if r.random() < 0.6 else Tx.OUTPATIENT
            wanted = _money(Decimal(r.lognormvariate(4.3, 0.8)))
            note = "定点零售药店购药" if kind is Tx.PHARMACY else "定点医疗机构门诊"
            account.spend(month.replace(day=r.randint(16, 26)), wanted, kind, note)
        if r.random() < 0.015:
            account.spend(month.replace(day=27), _money(Decimal(r.uniform(50, 600))), Tx.FAMILY_MUTUAL_AID,
                          "家庭共济：为配偶/子女支付")

    # ---- lives

    def employee_life(self, person: int, unit: _Unit, *, enrolled_on: date, retire_on: date | None = None,
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
            account.move(DEMO_FIRST_MONTH, carried or _money(Decimal(r.uniform(300, 9000))), Tx.CARRIED_FORWARD,
                         "2021年末余额结转")
        elif r.random() < 0.4:
            account.move(enrolled_on, _money(Decimal(r.uniform(200, 5000))), Tx.TRANSFER_IN, "跨统筹区转移接续转入")
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
            month_base = _money(Decimal(base) * Decimal(1 + 0.04 * (month.year - 2022)))
            personal = _money(month_base * Decimal("0.02"))
            paid = month not in current.arrears_months
            self.contribute(person, current, InsuranceType.EMPLOYEE_MEDICAL, month, month_base,
                            _money(month_base * region.unit_rate), personal, month.replace(day=15) if paid else None)
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
            self._terminate(person, leave_on, "转出本统筹区")
        if die_on:
            account.spend(die_on + timedelta(days=45), account.balance, Tx.LUMP_SUM_WITHDRAWAL,
                          "参保人死亡，个人账户余额由继承人一次性支取")
            self.plan.persons[person]["death_date"] = die_on
            self._terminate(person, die_on, "参保人死亡")
        self.close_account(account, enrolled_on)

    def _terminate(self, person: int, day: date, note: str) -> None:
        for index, row in enumerate(self.plan.enrolments):
            if row["person_id"] == person and row["status"] is not EnrolmentStatus.TERMINATED:
                row.update(status=EnrolmentStatus.TERMINATED, end_date=max(day, row["start_date"]))
                self.event(index, EnrolmentEventKind.TERMINATED, day, note=note)

    def flexible_life(self, person: int, *, enrolled_on: date, gap: tuple[date, date] | None = None,
                      arrears: frozenset[date] = frozenset()) -> None:
        """灵活就业: no unit; the person pays the whole rate on a base of 60 % or 100 % of the average wage."""
        r, region = self.rng, self.region
        base = Decimal(region.base_floor) * Decimal(r.choice(("1.0", "1.0", "1.6")))
        rate = region.unit_rate + Decimal("0.02")
        enrolment = self.enrol(person, InsuranceType.EMPLOYEE_MEDICAL, enrolled_on, None)
        account = self.open_account(person)
        if enrolled_on < DEMO_FIRST_MONTH:
            account.move(DEMO_FIRST_MONTH, _money(Decimal(r.uniform(100, 3000))), Tx.CARRIED_FORWARD,
                         "2021年末余额结转")
        for month in WINDOW:
            if month < enrolled_on.replace(day=1) or (gap and gap[0] <= month < gap[1]):
                continue
            month_base = _money(base * Decimal(1 + 0.04 * (month.year - 2022)))
            paid = month not in arrears
            self.contribute(person, None, InsuranceType.EMPLOYEE_MEDICAL, month, month_base, Decimal("0.00"),
                            _money(month_base * rate), month.replace(day=12) if paid else None)
            if paid:
                account.move(month.replace(day=12), _money(month_base * Decimal("0.02")), Tx.CREDIT,
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
                            _money(RESIDENT_FEE[year] * share), paid_on)
        if skipped:
            first = min(skipped)
            self.event(enrolment, EnrolmentEventKind.INTERRUPTED, date(first, 1, 1), note="当年未缴费")
            if first + 1 <= DEMO_LAST_MONTH.year:
                self.event(enrolment, EnrolmentEventKind.RESUMED, date(first + 1, 1, 1), note="次年恢复缴费")

    def benefit(self, person: int, kind: BenefitKind, item: tuple[str, str] | None, start: date,
                until: date | None, status: BenefitStatus = BenefitStatus.ACTIVE, **detail: Any) -> None:
        if item:
            detail["name"] = item[1]
        self.plan.benefits.append({
            "person_id": person, "kind": kind, "item_code": item[0] if item else None, "status": status,
            "valid_from": start, "valid_until": until,
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None,
            "created_at": _at(start, 11),
        })


def _cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _category_counts(total: int) -> list[tuple[PersonCategory, int]]:
    counts = [(c, max(3, round(total * share))) for c, share in CATEGORY_SHARES]
    counts[0] = (counts[0][0], counts[0][1] + total - sum(n for _c, n in counts))  # the rest are employees
    return counts


# --------------------------------------------------------------------------------------------------
# Building


def build_demo_plan(seed: int = 20261122, persons: int = 2000, units: int = 100, region: str = "jilin") -> DemoPlan:
    """The demo rows for ``seed``, in memory. ``persons`` and ``units`` include the fixed demo ones."""
    if persons < len(DEMO_CITIZENS) + 10 or units < 2:
        raise ValueError(f"need at least {len(DEMO_CITIZENS) + 10} persons and 2 units")
    b = _Builder(seed, region)
    b.add_units(units)
    _add_demo_citizens(b)
    r = b.rng
    for category, count in _category_counts(persons - len(DEMO_CITIZENS)):
        for _ in range(count):
            _add_random_person(b, category, r)
    return b.plan


def _add_demo_citizens(b: _Builder) -> None:
    """The documented logins, with histories drawn from their own fixed seed so they never change."""
    main_rng, demo_unit = b.rng, b.units[0]
    b.rng = random.Random("portal-demo-citizens")
    by_key = {c.key: c for c in DEMO_CITIZENS}
    p = b.add_person(PersonCategory.EMPLOYEE, citizen=by_key["employee"], unit=demo_unit)
    b.employee_life(p, demo_unit, enrolled_on=date(2008, 7, 1), base=8600, carried=Decimal("6234.50"))
    p = b.add_person(PersonCategory.RETIREE, citizen=by_key["retiree"], unit=demo_unit, is_model_worker=True)
    b.employee_life(p, demo_unit, enrolled_on=date(1999, 1, 1), retire_on=date(2013, 6, 20), base=4200,
                    carried=Decimal("3120.00"))
    b.benefit(p, BenefitKind.CHRONIC_DISEASE, CHRONIC[1], date(2023, 3, 1), date(2028, 2, 29))
    p = b.add_person(PersonCategory.RESIDENT, citizen=by_key["resident"])
    b.resident_life(p, enrolled_on=date(2016, 1, 1), birth=by_key["resident"].birth_date)
    p = b.add_person(PersonCategory.FLEXIBLE, citizen=by_key["flexible"])
    b.flexible_life(p, enrolled_on=date(2017, 4, 1), gap=(date(2023, 5, 1), date(2023, 9, 1)))
    b.rng = main_rng


def _add_random_person(b: _Builder, category: PersonCategory, r: random.Random) -> None:
    C = PersonCategory
    window_start = DEMO_FIRST_MONTH
    if category is C.EMPLOYEE:
        unit = b.pick_unit()
        birth = b.birth_date(1967, 2003)
        p = b.add_person(category, birth=birth, unit=unit, is_model_worker=r.random() < 0.01)
        joined_late = r.random() < 0.25 or birth.year + 19 > 2021
        enrolled_on = (r.choice(months(max(window_start, date(birth.year + 19, 1, 1)), date(2026, 6, 1))) if joined_late
                       else date(r.randint(max(birth.year + 19, 1995), 2021), r.randint(1, 12), 1))
        leave_on = (r.choice(WINDOW[12:-1]) + timedelta(days=r.randint(0, 27))
                    if not joined_late and r.random() < 0.04 else None)
        b.employee_life(p, unit, enrolled_on=enrolled_on, leave_on=leave_on, transfer=r.random() < 0.06)
        if b.plan.persons[p]["gender"] == "F" and 1986 <= birth.year <= 2000 and r.random() < 0.06:
            born = date(r.randint(2022, 2026), r.randint(1, 9), r.randint(1, 28))
            b.benefit(p, BenefitKind.MATERNITY, ("L10118", "生育津贴"), born, born + timedelta(days=157),
                      BenefitStatus.EXPIRED if born < date(2026, 5, 1) else BenefitStatus.ACTIVE,
                      delivery_date=born.isoformat(), leave_days=158)
    elif category is C.RETIREE:
        gender = r.choice("MF")
        within = r.random() < 0.25
        retire_on = (r.choice(WINDOW[1:-1]) + timedelta(days=r.randint(0, 27)) if within
                     else date(r.randint(1995, 2021), r.randint(1, 12), r.randint(1, 28)))
        age = 60 if gender == "M" else r.choice((50, 55))
        birth = _years_before(retire_on, age)
        unit = b.pick_unit() if within or r.random() < 0.7 else None  # long retired: managed by the community
        p = b.add_person(category, gender=gender, birth=birth, unit=unit,
                         is_model_worker=r.random() < 0.04, is_disabled_veteran=r.random() < 0.01,
                         health_care_level=r.choice(list(HealthCareLevel)[1:]) if r.random() < 0.03 else None)
        die_on = (r.choice(WINDOW[6:-3]) + timedelta(days=r.randint(0, 27))
                  if not within and r.random() < 0.03 else None)
        b.employee_life(p, unit or b.pick_unit(), enrolled_on=date(max(birth.year + 20, 1995), 1, 1),
                        retire_on=retire_on, die_on=die_on)
        if unit is None:
            b.plan.persons[p]["unit_id"] = None
            for row in b.plan.enrolments:
                if row["person_id"] == p:
                    row["unit_id"] = None
        if r.random() < 0.15:
            start = date(r.randint(2022, 2026), r.randint(1, 9), 1)
            b.benefit(p, BenefitKind.CHRONIC_DISEASE, r.choice(CHRONIC), start, _years_before(start, -5))
        if r.random() < 0.05:
            code, place = r.choice(REMOTE_DESTINATIONS)
            b.benefit(p, BenefitKind.REMOTE_CARE_FILING, ("002036004001", "异地安置退休人员备案"),
                      date(r.randint(2022, 2026), r.randint(1, 9), 1), None, destination_code=code,
                      destination=place, category="resettled_retiree")
        if r.random() < 0.01:
            start = date(r.randint(2024, 2026), r.randint(1, 9), 1)
            b.benefit(p, BenefitKind.SPECIAL_DRUG, r.choice(SPECIAL_DRUGS), start, start + timedelta(days=364))
    elif category is C.RETIRED_CADRE:
        gender = r.choice("MF")
        unit = b.pick_unit()
        p = b.add_person(category, gender=gender, birth=b.birth_date(1926, 1932), unit=unit,
                         health_care_level=r.choice(list(HealthCareLevel)[:2]))
        b.enrol(p, InsuranceType.EMPLOYEE_MEDICAL, date(1995, 1, 1), unit)
    elif category is C.FLEXIBLE:
        birth = b.birth_date(1968, 2000)
        p = b.add_person(category, birth=birth)
        enrolled_on = (date(r.randint(max(birth.year + 20, 2005), 2021), r.randint(1, 12), 1)
                       if r.random() < 0.8 else r.choice(WINDOW[:-6]))
        gap = None
        if r.random() < 0.2:
            start = r.choice(WINDOW[12:-6])
            gap = (start, months(start, date(2030, 1, 1))[r.randint(2, 10)])
        arrears = frozenset(r.sample(WINDOW[-6:], r.randint(1, 3))) if r.random() < 0.12 else frozenset()
        b.flexible_life(p, enrolled_on=max(enrolled_on, date(2005, 1, 1)), gap=gap, arrears=arrears)
    elif category in (C.RESIDENT, C.STUDENT):
        birth = b.birth_date(1946, 2004) if category is C.RESIDENT else b.birth_date(2005, 2020)
        roll = r.random()
        p = b.add_person(category, birth=birth, is_extreme_poverty=roll < 0.02,
                         is_subsistence_allowance=0.02 <= roll < 0.08,
                         is_severely_disabled=0.08 <= roll < 0.10)
        enrolled_on = date(max(birth.year + 1, 2010), 1, 1) if r.random() < 0.9 else date(r.randint(2022, 2026), 1, 1)
        skip = [r.randint(2023, 2025)] if r.random() < 0.08 else []
        b.resident_life(p, enrolled_on=enrolled_on, birth=birth, skip_years=skip)
    elif category is C.NEWBORN:
        birth = date(2026, 1, 1) + timedelta(days=r.randrange(0, 272))
        p = b.add_person(category, birth=birth)
        enrolled_on = birth + timedelta(days=r.randint(1, min(89, (date(2026, 10, 31) - birth).days)))
        b.resident_life(p, enrolled_on=enrolled_on, birth=birth)
        b.plan.enrolments[-1]["start_date"] = birth  # coverage from birth when enrolled within 90 days
        b.plan.events[-1].update(effective_date=birth, recorded_at=_at(enrolled_on, 9),
                                 note="新生儿出生90日内参保，自出生之日起享受待遇")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --------------------------------------------------------------------------------------------------
# Inserting


def insert_plan(plan: DemoPlan) -> None:
    """Bulk-insert the plan's rows (mapping list positions to database ids). Flushes, does not commit."""
    session = db.session
    session.flush()

    def returning_ids(model: Any, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(session.execute(stmt, rows).scalars())

    for row in plan.units:
        row["legal_rep_id_index"] = id_number_index(row["legal_rep_id_number"])
    unit_ids = returning_ids(Unit, plan.units)
    for row in plan.persons:
        row["id_number_index"] = id_number_index(row["id_number"])
        row["phone_index"] = phone_index(row["phone"]) if row["phone"] else None
        if row["unit_id"] is not None:
            row["unit_id"] = unit_ids[row["unit_id"]]
    person_ids = returning_ids(Person, plan.persons)
    for row in plan.enrolments:
        row["person_id"] = person_ids[row["person_id"]]
        if row["unit_id"] is not None:
            row["unit_id"] = unit_ids[row["unit_id"]]
    enrolment_ids = returning_ids(Enrolment, plan.enrolments)
    for row in plan.events:
        row["enrolment_id"] = enrolment_ids[row["enrolment_id"]]
        for key in ("from_unit_id", "to_unit_id"):
            if row[key] is not None:
                row[key] = unit_ids[row[key]]
    for row in plan.accounts:
        row["person_id"] = person_ids[row["person_id"]]
    account_ids = returning_ids(PersonalAccount, plan.accounts)
    for row in plan.transactions:
        row["account_id"] = account_ids[row["account_id"]]
    for row in plan.contributions:
        row["person_id"] = person_ids[row["person_id"]]
        if row["unit_id"] is not None:
            row["unit_id"] = unit_ids[row["unit_id"]]
    for row in plan.benefits:
        row["person_id"] = person_ids[row["person_id"]]
    for model, rows in ((EnrolmentEvent, plan.events), (Contribution, plan.contributions),
                        (AccountTransaction, plan.transactions), (Benefit, plan.benefits)):
        for start in range(0, len(rows), 20_000):
            session.execute(insert(model), rows[start:start + 20_000])
    session.flush()


def generate_demo_data(seed: int = 20261122, persons: int = 2000, units: int = 100) -> DemoSummary:
    """Build and insert the demo data for the deployment region (``PORTAL_REGION``). Flushes, does not commit."""
    started = time.perf_counter()
    region = current_app.config["PORTAL_REGION"]
    plan = build_demo_plan(seed, persons, units, region)
    insert_plan(plan)
    return DemoSummary(
        seed=seed, region=region, units=len(plan.units), persons=len(plan.persons), enrolments=len(plan.enrolments),
        events=len(plan.events), contributions=len(plan.contributions), accounts=len(plan.accounts),
        transactions=len(plan.transactions), benefits=len(plan.benefits), seconds=time.perf_counter() - started,
    )


def has_persons() -> bool:
    return bool(db.session.execute(select(exists().where(Person.id.isnot(None)))).scalar())


def ensure_demo_data() -> str | None:
    """Load the demo data into an empty system of record and commit; return a one-line summary, or None
    when persons already exist."""
    if has_persons():
        return None
    summary = generate_demo_data()
    db.session.commit()
    return summary.line()
