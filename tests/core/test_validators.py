from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField

from portal.core import clock
from portal.core.errors import ValidationFailed
from portal.core.validators import (
    CreditCode,
    IdNumber,
    Mobile,
    check_credit_code,
    credit_code_check_char,
    id_birth_date,
    id_check_digit,
    id_gender,
    normalize_id_number,
    normalize_mobile,
)

VALID_ID = "34052419800101001X"


@pytest.fixture(autouse=True)
def _request(app):
    """Messages are translated for the request that shows them; these tests read the English ones."""
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


def message_of(excinfo: pytest.ExceptionInfo[ValidationFailed]) -> str:
    [(field, message)] = excinfo.value.reasons
    assert field is None
    return message


# --- 身份证 ---


def test_check_digit_vector_from_the_domain_notes():
    assert id_check_digit("34052419800101001") == "X"


@pytest.mark.parametrize("raw", [VALID_ID, "34052419800101001x", " 340524 19800101 001x ", "340524-19800101-001X",
                                 "３４０５２４１９８００１０１００１ｘ"])
def test_id_number_is_normalised_to_upper_case_without_separators(raw):
    assert normalize_id_number(raw) == VALID_ID


def test_fifteen_digit_number_gets_century_and_check_digit():
    assert normalize_id_number("340524800101001") == VALID_ID


@pytest.mark.parametrize(("raw", "words"), [
    ("", "Enter"),
    (None, "Enter"),
    ("3405241980010100", "you entered 16"),
    ("3405241980010100123", "you entered 19"),
    ("34052419800101A01X", "only digits"),
    ("3405241980010100X1", "only digits"),
    ("34052480010100A", "only digits"),
    ("340524198001010011", "check digit"),
])
def test_malformed_id_numbers_say_what_is_wrong(raw, words):
    with pytest.raises(ValidationFailed) as excinfo:
        normalize_id_number(raw)
    assert words in message_of(excinfo)


@pytest.mark.parametrize("birth", ["19800230", "19801301", "19800100", "18991231"])
def test_impossible_birth_date_is_refused_before_the_check_digit(birth):
    first17 = f"340524{birth}001"
    with pytest.raises(ValidationFailed) as excinfo:
        normalize_id_number(first17 + id_check_digit(first17))
    assert "not a real date" in message_of(excinfo) and birth in message_of(excinfo)


def test_birth_date_in_the_future_is_refused():
    tomorrow = f"340524{date(2026, 5, 2):%Y%m%d}001"
    number = tomorrow + id_check_digit(tomorrow)
    with clock.frozen(datetime(2026, 5, 1, 12, 0)), pytest.raises(ValidationFailed) as excinfo:
        normalize_id_number(number)
    assert "in the future" in message_of(excinfo)
    with clock.frozen(datetime(2026, 5, 2, 0, 30)):  # Beijing time: already the 2nd in China
        assert normalize_id_number(number) == number


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
       st.integers(min_value=110000, max_value=829999), st.integers(min_value=0, max_value=999))
def test_every_valid_number_round_trips_and_reveals_birth_date_and_gender(birth, area, sequence):
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    number = normalize_id_number(first17 + id_check_digit(first17).lower())
    assert number == first17 + id_check_digit(first17)
    assert id_birth_date(number) == birth
    assert id_gender(number) == ("M" if sequence % 2 else "F")


@given(st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_any_single_digit_typo_is_caught(position, delta):
    typo = VALID_ID[:position] + str((int(VALID_ID[position]) + delta) % 10) + VALID_ID[position + 1:]
    with pytest.raises(ValidationFailed):
        normalize_id_number(typo)


def test_gender_comes_from_the_seventeenth_digit():
    assert id_gender(VALID_ID) == "M"  # ...001X: 1 is odd
    female = "11010519491231002"
    assert id_gender(female + id_check_digit(female)) == "F"


def test_birth_date_helpers_refuse_raw_input():
    with pytest.raises(ValueError, match="normalize_id_number"):
        id_birth_date("340524800101001")
    with pytest.raises(ValueError, match="normalize_id_number"):
        id_gender("abc")


# --- 统一社会信用代码 ---


def test_credit_code_vector_from_the_domain_notes():
    assert credit_code_check_char("91310110666007217") == "T"
    assert check_credit_code(" 91310110666007217t ") == ("91310110666007217T", True)


def test_failing_check_character_is_reported_not_refused():
    result = check_credit_code("91310110666007217A")
    assert result.code == "91310110666007217A"
    assert result.checksum_ok is False


@pytest.mark.parametrize(("raw", "words"), [
    ("", "Enter"),
    ("9131011066600721", "you entered 16"),
    ("91310110666OO7217T", "cannot contain O"),
    ("91310110666IZ7217T", "cannot contain I Z"),
])
def test_malformed_credit_codes_say_what_is_wrong(raw, words):
    with pytest.raises(ValidationFailed) as excinfo:
        check_credit_code(raw)
    assert words in message_of(excinfo)


# --- mobile ---


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678",
                                 "+8613812345678", "8613812345678", "0086-13812345678", "１３８１２３４５６７８"])
def test_mobile_forms_people_type_are_accepted(raw):
    assert normalize_mobile(raw) == "13812345678"


@pytest.mark.parametrize(("raw", "words"), [
    ("", "Enter"),
    ("1381234567", "you entered 10"),
    ("138123456789", "you entered 12"),
    ("1381234567a", "only digits"),
    ("12812345678", "mainland China mobile"),
    ("043188889999", "you entered 12"),
])
def test_bad_mobile_numbers_say_what_is_wrong(raw, words):
    with pytest.raises(ValidationFailed) as excinfo:
        normalize_mobile(raw)
    assert words in message_of(excinfo)


# --- WTForms ---


class PersonForm(Form):
    id_number = StringField(validators=[IdNumber()])
    mobile = StringField(validators=[Mobile()])
    credit_code = StringField(validators=[CreditCode()])


class StaffUnitForm(Form):
    credit_code = StringField(validators=[CreditCode(allow_bad_checksum=True)])


def test_form_fields_receive_the_normalised_values():
    form = PersonForm(MultiDict({"id_number": "340524800101001", "mobile": "+86 138-1234-5678",
                                 "credit_code": "91310110666007217t"}))
    assert form.validate(), form.errors
    assert form.data == {"id_number": VALID_ID, "mobile": "13812345678", "credit_code": "91310110666007217T"}
    assert form.credit_code.checksum_ok is True


def test_form_errors_carry_the_specific_message():
    form = PersonForm(MultiDict({"id_number": "340524198001010011", "mobile": "12812345678",
                                 "credit_code": "91310110666007217A"}))
    assert not form.validate()
    assert "check digit" in form.errors["id_number"][0]
    assert "mainland China mobile" in form.errors["mobile"][0]
    assert "does not match" in form.errors["credit_code"][0]


def test_staff_may_accept_a_credit_code_with_a_failing_check_character():
    form = StaffUnitForm(MultiDict({"credit_code": "91310110666007217a"}))
    assert form.validate(), form.errors
    assert form.credit_code.data == "91310110666007217A"
    assert form.credit_code.checksum_ok is False  # the page shows a warning


def test_staff_form_still_refuses_a_wrong_alphabet():
    form = StaffUnitForm(MultiDict({"credit_code": "91310110666OO7217T"}))
    assert not form.validate()
    assert "cannot contain O" in form.errors["credit_code"][0]
