"""The system of record's tables: sealed columns, blind-index lookup and the CHECK/UNIQUE rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from portal.insurance import constants
from portal.insurance.constants import (
    AccountTransactionKind,
    ContributionStatus,
    EnrolmentEventKind,
    EnrolmentStatus,
    InsuranceType,
    PersonCategory,
)
from portal.insurance.models import (
    AccountTransaction,
    Contribution,
    Enrolment,
    EnrolmentEvent,
    Person,
    PersonalAccount,
    Unit,
    id_number_index,
)

ID_NUMBER = "11010519491231002X"
PHONE = "13912345678"


def make_unit(session, code="U1", credit_code="91310110666007217T", **values) -> Unit:
    unit = Unit(code=code, credit_code=credit_code, name=values.pop("name", "测试单位有限公司"), **values)
    session.add(unit)
    session.flush()
    return unit


def make_person(session, id_number=ID_NUMBER, phone=PHONE, insured_no="P1", **values) -> Person:
    person = Person(insured_no=insured_no, name=values.pop("name", "张三"), gender=values.pop("gender", "F"),
                    birth_date=values.pop("birth_date", date(1949, 12, 31)), **values)
    person.set_id_number(id_number)
    person.set_phone(phone)
    session.add(person)
    session.flush()
    return person


def refused(session, *objects) -> None:
    """Assert the database refuses to store ``objects`` (the savepoint keeps the test's transaction usable)."""
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add_all(objects)
        session.flush()


def test_sealed_person_columns_hold_no_plaintext(db_session):
    person = make_person(db_session, address="吉林省长春市南关区人民大街1号")
    raw = db_session.execute(
        text("SELECT id_number, phone, address, id_number_index FROM person WHERE id = :id"), {"id": person.id}
    ).one()
    assert ID_NUMBER not in raw.id_number and "49123100" not in raw.id_number
    assert PHONE not in raw.phone
    assert "人民大街" not in raw.address
    assert ID_NUMBER not in raw.id_number_index
    db_session.expire_all()
    assert db_session.get(Person, person.id).id_number == ID_NUMBER


def test_sealed_unit_columns_hold_no_plaintext(db_session):
    unit = make_unit(db_session, bank_account="6222020200112233445", legal_rep_phone="13700001111")
    unit.set_legal_rep_id_number(ID_NUMBER.lower())
    db_session.flush()
    raw = db_session.execute(
        text("SELECT bank_account, legal_rep_id_number, legal_rep_phone FROM unit WHERE id = :id"), {"id": unit.id}
    ).one()
    assert "6222020200112233445" not in raw.bank_account
    assert ID_NUMBER not in raw.legal_rep_id_number.upper()
    assert "13700001111" not in raw.legal_rep_phone
    assert unit.legal_rep_id_number == ID_NUMBER  # stored upper-cased


def test_person_is_found_by_the_blind_index_of_a_lower_case_id_number(db_session):
    person = make_person(db_session)
    make_person(db_session, id_number="220102198503151237", phone="13800000001", insured_no="P2")
    found = db_session.execute(select(Person).where(Person.id_number_index == id_number_index(ID_NUMBER.lower())))
    assert found.scalar_one().id == person.id


def test_two_persons_cannot_share_an_id_number(db_session):
    make_person(db_session)
    duplicate = Person(insured_no="P2", name="李四", gender="M", birth_date=date(1949, 12, 31))
    duplicate.set_id_number(ID_NUMBER)
    refused(db_session, duplicate)


def test_retired_cadre_flag_must_match_the_category(db_session):
    person = Person(insured_no="P9", name="赵老", gender="M", birth_date=date(1930, 1, 1),
                    category=PersonCategory.EMPLOYEE, is_retired_cadre=True)
    person.set_id_number("110105193001010011")
    refused(db_session, person)


def test_terminated_enrolment_needs_an_end_date(db_session):
    person = make_person(db_session)
    refused(db_session, Enrolment(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL,
                                  status=EnrolmentStatus.TERMINATED, start_date=date(2020, 1, 1)))


def test_only_one_open_enrolment_per_insurance_type(db_session):
    person = make_person(db_session)
    old = Enrolment(person_id=person.id, insurance_type=InsuranceType.RESIDENT_MEDICAL,
                    status=EnrolmentStatus.TERMINATED,
                    start_date=date(2015, 1, 1), end_date=date(2019, 12, 31))
    current = Enrolment(person_id=person.id, insurance_type=InsuranceType.RESIDENT_MEDICAL, start_date=date(2020, 1, 1))
    db_session.add_all([old, current])
    db_session.flush()  # a terminated one does not count
    refused(db_session, Enrolment(person_id=person.id, insurance_type=InsuranceType.RESIDENT_MEDICAL,
                                  status=EnrolmentStatus.SUSPENDED, start_date=date(2021, 1, 1)))


def test_transfer_event_names_two_different_units(db_session):
    unit = make_unit(db_session)
    person = make_person(db_session, unit_id=unit.id)
    enrolment = Enrolment(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL, unit_id=unit.id,
                          start_date=date(2020, 1, 1))
    db_session.add(enrolment)
    db_session.flush()
    refused(db_session, EnrolmentEvent(enrolment_id=enrolment.id, kind=EnrolmentEventKind.TRANSFERRED,
                                       effective_date=date(2024, 1, 1), from_unit_id=unit.id, to_unit_id=unit.id))


def test_contribution_is_unique_per_person_type_and_month(db_session):
    person = make_person(db_session)
    paid = datetime(2024, 3, 15, 2, tzinfo=UTC)

    def row():
        return Contribution(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL,
                            period_month=date(2024, 3, 1), base=Decimal("5000.00"), unit_amount=Decimal("350.00"),
                            personal_amount=Decimal("100.00"), status=ContributionStatus.PAID, paid_at=paid)

    db_session.add(row())
    db_session.flush()
    refused(db_session, row())


def test_paid_contribution_needs_a_payment_time_and_arrears_has_none(db_session):
    person = make_person(db_session)
    refused(db_session, Contribution(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL,
                                     period_month=date(2024, 3, 1), unit_amount=Decimal("1"),
                                     personal_amount=Decimal("1"),
                                     status=ContributionStatus.PAID, paid_at=None))
    refused(db_session, Contribution(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL,
                                     period_month=date(2024, 4, 1), unit_amount=Decimal("1"),
                                     personal_amount=Decimal("1"),
                                     status=ContributionStatus.ARREARS, paid_at=datetime(2024, 4, 2, tzinfo=UTC)))


def test_contribution_period_is_the_first_day_of_a_month():
    with pytest.raises(ValueError, match="first day"):
        Contribution(period_month=date(2024, 3, 15))


def test_money_round_trips_as_exact_decimal(db_session):
    person = make_person(db_session)
    account = PersonalAccount(person_id=person.id, balance=Decimal("1234567.89"), opened_on=date(2020, 1, 1))
    db_session.add(account)
    db_session.flush()
    db_session.expire_all()
    balance = db_session.get(PersonalAccount, account.id).balance
    assert isinstance(balance, Decimal) and balance == Decimal("1234567.89")


@pytest.mark.parametrize(("kind", "amount"), [
    (AccountTransactionKind.CREDIT, Decimal("-10.00")),
    (AccountTransactionKind.PHARMACY, Decimal("10.00")),
    (AccountTransactionKind.TRANSFER_OUT, Decimal("10.00")),
])
def test_account_movement_sign_follows_its_kind(db_session, kind, amount):
    person = make_person(db_session)
    account = PersonalAccount(person_id=person.id, balance=Decimal("100.00"), opened_on=date(2020, 1, 1))
    db_session.add(account)
    db_session.flush()
    refused(db_session, AccountTransaction(account_id=account.id, occurred_on=date(2024, 1, 1), amount=amount,
                                           kind=kind, balance_after=Decimal("100.00")))


def test_account_balance_cannot_go_negative(db_session):
    person = make_person(db_session)
    refused(db_session, PersonalAccount(person_id=person.id, balance=Decimal("-0.01"), opened_on=date(2020, 1, 1)))


def test_unknown_enum_value_is_refused_by_the_database(db_session):
    person = make_person(db_session)
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(text("UPDATE person SET category = 'astronaut' WHERE id = :id"), {"id": person.id})


def test_every_enum_member_has_an_english_label(app):
    enums = [value for value in vars(constants).values()
             if isinstance(value, type) and issubclass(value, constants._Labelled) and value is not constants._Labelled]
    assert len(enums) >= 12
    with app.test_request_context(), force_locale("en"):
        for enum in enums:
            for member in enum:
                assert str(member.label).strip(), member
        assert str(PersonCategory.RETIREE.label) == "Retiree"
