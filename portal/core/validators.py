"""Identity-number validators (GB 11643 身份证, GB 32100 统一社会信用代码) and phone numbers.

The ``normalize_*`` functions are the rules: they return the one stored form of a value or raise
``ValidationFailed([(None, message)])`` saying exactly what is wrong. The WTForms classes at the end
call them, so HTML forms and the API refuse the same input with the same words.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, NamedTuple

from wtforms.validators import ValidationError

from . import clock
from .errors import ValidationFailed
from .translation import gettext as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# People type numbers with spaces or hyphens between groups, and Chinese input methods often give
# full-width characters (３４０５…, Ｘ); NFKC turns those into ASCII before the rules run.
_SEPARATORS_RE = re.compile(r"[\s\-]+")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_EARLIEST_BIRTH_YEAR = 1900  # nobody alive was born earlier; an earlier year is a typo


def id_check_digit(first17: str) -> str:
    """The 18th character of a 身份证 number: R = Σ a_i·W_i mod 11, check = '10X98765432'[R]."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码: C18 = 31 − (Σ mod 31), 31 → 0."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _compact(raw: Any) -> str:
    """The input as ASCII-compatible text without spaces or hyphens ('' for None)."""
    if raw is None:
        return ""
    return _SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", str(raw)))


def _fail(message: str) -> ValidationFailed:
    return ValidationFailed([(None, message)])


# --- 身份证 ---------------------------------------------------------------------------------------


def _birth_date_of(number: str) -> date | None:
    """The birth date encoded in an 18-character number, or None when it is not a real date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def normalize_id_number(raw: Any) -> str:
    """Return the 18-character 身份证 number (upper-case X) or raise ValidationFailed.

    Rules (GB 11643-1999): 17 digits and a check character (digit or X, lower-case x accepted);
    a 15-digit number of the first generation is converted by inserting "19" after the 6-digit area
    code and appending the check digit; the birth date must exist, be 1900 or later and not be in the
    future (China's today). Spaces and hyphens are ignored.
    """
    number = _compact(raw).upper()
    if not number:
        raise _fail(_("Enter the ID card number."))
    if len(number) not in (15, 18):
        raise _fail(_("An ID card number has 18 characters (old numbers have 15); you entered %(count)s.",
                      count=len(number)))
    if len(number) == 15:
        if not number.isdigit():
            raise _fail(_("A 15-digit ID card number may contain only digits."))
        number = number[:6] + "19" + number[6:]
        number += id_check_digit(number)
    elif not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise _fail(_("An ID card number may contain only digits, with X allowed as the last character."))
    birth = _birth_date_of(number)
    if birth is None or birth.year < _EARLIEST_BIRTH_YEAR:
        raise _fail(_("The birth date in this ID card number (%(digits)s) is not a real date. Please check the "
                      "7th to 14th digits.", digits=number[6:14]))
    if birth > clock.today():
        raise _fail(_("The birth date in this ID card number (%(date)s) is in the future. Please check the 7th to "
                      "14th digits.", date=birth.isoformat()))
    if id_check_digit(number[:17]) != number[17]:
        raise _fail(_("The last character of this ID card number does not match the others (wrong check digit). "
                      "Please check for a typo."))
    return number


def id_birth_date(number: str) -> date:
    """The birth date of a normalised (18-character) 身份证 number."""
    birth = _birth_date_of(number) if len(number) == 18 else None
    if birth is None:
        raise ValueError("not a normalised ID card number; call normalize_id_number first")
    return birth


def id_gender(number: str) -> str:
    """'M' or 'F' from the 17th digit of a normalised 身份证 number (odd: male, even: female)."""
    if len(number) != 18 or not number[16].isdigit():
        raise ValueError("not a normalised ID card number; call normalize_id_number first")
    return "M" if int(number[16]) % 2 else "F"


# --- 统一社会信用代码 ----------------------------------------------------------------------------


class CreditCodeResult(NamedTuple):
    code: str
    checksum_ok: bool


def check_credit_code(raw: Any) -> CreditCodeResult:
    """Return the upper-cased 统一社会信用代码 and whether its check character matches.

    Rules (GB 32100-2015): 18 characters over 0-9 and the letters A-Y without I, O, S, V, Z. Wrong
    length or alphabet raises ValidationFailed. A failing check character is not an error here: some
    codes issued in the early pilot regions fail it, so the caller warns and staff may accept it.
    """
    code = _compact(raw).upper()
    if not code:
        raise _fail(_("Enter the unified social credit code."))
    if len(code) != 18:
        raise _fail(_("A unified social credit code has 18 characters; you entered %(count)s.", count=len(code)))
    wrong = sorted({c for c in code if c not in USCC_ALPHABET})
    if wrong:
        raise _fail(_("A unified social credit code cannot contain %(chars)s (it uses digits and capital letters "
                      "except I, O, S, V and Z).", chars=" ".join(wrong)))
    return CreditCodeResult(code, credit_code_check_char(code[:17]) == code[17])


# --- mobile numbers -------------------------------------------------------------------------------


def normalize_mobile(raw: Any) -> str:
    """Return the 11-digit mainland mobile number (1[3-9] + 9 digits) or raise ValidationFailed.

    Spaces and hyphens are ignored, and a +86 / 0086 / 86 country prefix is removed.
    """
    number = _compact(raw)
    if not number:
        raise _fail(_("Enter the mobile number."))
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif number.startswith("86") and len(number) == 13:
        number = number[2:]
    if not number.isdigit():
        raise _fail(_("A mobile number may contain only digits."))
    if len(number) != 11:
        raise _fail(_("A mobile number has 11 digits; you entered %(count)s.", count=len(number)))
    if not _MOBILE_RE.match(number):
        raise _fail(_("This is not a mainland China mobile number (they start with 13 to 19)."))
    return number


# --- WTForms --------------------------------------------------------------------------------------


def _first_message(error: ValidationFailed) -> str:
    return error.reasons[0][1]


class IdNumber:
    """WTForms validator: a valid 身份证 number; the field's data becomes the normalised number."""

    def __call__(self, form: Any, field: Any) -> None:
        try:
            field.data = normalize_id_number(field.data)
        except ValidationFailed as exc:
            raise ValidationError(_first_message(exc)) from None


class CreditCode:
    """WTForms validator: a 统一社会信用代码; the field's data becomes the upper-cased code.

    A code whose check character fails is refused unless ``allow_bad_checksum`` (staff forms, for
    codes of the early pilot regions); either way ``field.checksum_ok`` tells the page whether to warn.
    """

    def __init__(self, allow_bad_checksum: bool = False):
        self.allow_bad_checksum = allow_bad_checksum

    def __call__(self, form: Any, field: Any) -> None:
        try:
            result = check_credit_code(field.data)
        except ValidationFailed as exc:
            raise ValidationError(_first_message(exc)) from None
        field.data = result.code
        field.checksum_ok = result.checksum_ok
        if not result.checksum_ok and not self.allow_bad_checksum:
            raise ValidationError(_("The last character of this unified social credit code does not match the "
                                    "others. Please check for a typo; if the code is printed so on the business "
                                    "licence, staff at the service hall can accept it."))


class Mobile:
    """WTForms validator: a mainland mobile number; the field's data becomes the 11 digits."""

    def __call__(self, form: Any, field: Any) -> None:
        try:
            field.data = normalize_mobile(field.data)
        except ValidationFailed as exc:
            raise ValidationError(_first_message(exc)) from None
