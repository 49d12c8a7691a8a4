import pytest
from flask import Flask, render_template_string
from hypothesis import given
from hypothesis import strategies as st

from portal.core import masking
from portal.core.masking import mask_bank_account, mask_id_number, mask_name, mask_phone


def test_id_number_short_style_keeps_first_one_and_last_two():
    assert mask_id_number("34052419800101001X") == "3" + "*" * 15 + "1X"


def test_id_number_long_style_keeps_area_code_and_last_four():
    assert mask_id_number("34052419800101001X", "long") == "340524********001X"


def test_unknown_id_masking_style_is_an_error():
    with pytest.raises(ValueError, match="style"):
        mask_id_number("34052419800101001X", "medium")


@given(st.text(alphabet="0123456789X", min_size=18, max_size=18))
def test_id_masks_never_reveal_the_birth_date(number):
    for style, kept in (("short", (1, 2)), ("long", (6, 4))):
        masked = mask_id_number(number, style)
        assert len(masked) == 18
        assert masked[kept[0]:18 - kept[1]] == "*" * (18 - sum(kept))


def test_phone_keeps_first_three_and_last_four():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("+86 138-1234-1234") == "138****1234"


@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张*"),
    ("张三丰", "张*"),
    ("欧阳修", "欧阳*"),
    ("司马相如", "司马*"),
    ("欧阳", "欧*"),  # two characters: surname 欧, given name 阳
    ("爱新觉罗溥仪", "爱新觉罗*"),
    ("单于明", "单*"),  # 单 is the common reading; do not reveal 于
    ("王", "王"),
    ("  李四 ", "李*"),
    ("John Smith", "John *"),
    ("阿卜杜拉·买买提", "阿卜杜拉·*"),
    ("Smith", "S*"),
])
def test_names_keep_the_surname_or_first_word(name, masked):
    assert mask_name(name) == masked


def test_bank_account_keeps_last_four_and_hides_the_length():
    assert mask_bank_account("6222 0212 3456 7890 123") == "****0123"


@pytest.mark.parametrize("function", [mask_id_number, mask_phone, mask_name, mask_bank_account])
def test_masks_are_safe_on_empty_values(function):
    assert function(None) == ""
    assert function("") == ""


@pytest.mark.parametrize(("function", "value"), [
    (mask_id_number, "123"), (mask_phone, "1381234"), (mask_bank_account, "1234"),
])
def test_too_short_values_are_hidden_entirely(function, value):
    assert function(value) == "*" * len(value)


def test_filters_are_available_in_templates():
    app = Flask(__name__)
    masking.init_app(app)
    with app.app_context():
        html = render_template_string(
            "{{ id|mask_id_number }} {{ id|mask_id_number('long') }} {{ phone|mask_phone }} {{ name|mask_name }} "
            "{{ card|mask_bank_account }} [{{ none|mask_phone }}]",
            id="34052419800101001X", phone="13812341234", name="欧阳修", card="6222021234567890", none=None,
        )
    assert html == "3***************1X 340524********001X 138****1234 欧阳* ****7890 []"
