"""The applicant's form fields: which fields an item has, prefill and locking, and ``clean_form`` for every type."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from portal.applications import fields
from portal.applications.fields import FieldSpec, clean_form
from portal.catalog.schema import AttachedForm, FieldType, FormField, FormKind, Name, Party
from portal.core.errors import ValidationFailed

from .conftest import NO_FIELDS_ITEM, PROMISE_ITEM, UNIT_ITEM, WINDOW_ITEM


def spec(type_: FieldType, *, key: str = "f", label: str = "字段", **kwargs) -> FieldSpec:
    return FieldSpec(key=key, label=Name(zh=label, en=label), type=type_, **kwargs)


def options(*values: str) -> tuple[Name, ...]:
    return tuple(Name(zh=v, en=v) for v in values)


def clean_one(s: FieldSpec, value, *, complete: bool = False):
    return clean_form([s], {s.key: value}, complete=complete).get(s.key)


def problems(s: FieldSpec | list[FieldSpec], data, *, complete: bool = False) -> list[tuple[str | None, str]]:
    specs = s if isinstance(s, list) else [s]
    with pytest.raises(ValidationFailed) as error:
        clean_form(specs, data if isinstance(data, dict) else {specs[0].key: data}, complete=complete)
    return error.value.reasons


# --- every field type: accepted values and how they are stored ------------------------------------------

VALID = [
    (FieldType.text, "  张三  ", "张三"),
    (FieldType.text, "x" * fields.MAX_TEXT, "x" * fields.MAX_TEXT),
    (FieldType.textarea, "第一行\r\n第二行\r第三行\t完", "第一行\n第二行\n第三行\t完"),  # browsers send CRLF
    (FieldType.textarea, "y" * fields.MAX_TEXTAREA, "y" * fields.MAX_TEXTAREA),
    (FieldType.address, "吉林省长春市南关区人民大街1号", "吉林省长春市南关区人民大街1号"),
    (FieldType.division, "220102", "220102"),
    (FieldType.number, "1,234", "1234"),
    (FieldType.number, "1e5", "100000"),
    (FieldType.number, "0.5", "0.5"),
    (FieldType.number, 42, "42"),
    (FieldType.money, "1234.5", "1234.50"),
    (FieldType.money, "100000000", "100000000.00"),
    (FieldType.date, "2026-05-01", "2026-05-01"),
    (FieldType.date, "20260501", "2026-05-01"),
    (FieldType.month, "2026-05", "2026-05"),
    (FieldType.id_number, "34052419800101001x", "34052419800101001X"),
    (FieldType.id_number, "340524 19800101 001X", "34052419800101001X"),
    (FieldType.credit_code, "91310110666007217T", "91310110666007217T"),
    (FieldType.credit_code, "91310110666007217a", "91310110666007217A"),  # failing check character: a warning
    # elsewhere (early pilot-region codes), not a refusal here
    (FieldType.phone, "139 1234 5678", "13912345678"),
    (FieldType.phone, "0431-88888888", "0431-88888888"),
    (FieldType.bank_account, "6222 0202 0011 2233 445", "6222020200112233445"),
    (FieldType.email, "wang@example.com", "wang@example.com"),
    (FieldType.postcode, "130000", "130000"),
    (FieldType.boolean, True, True),
    (FieldType.boolean, "on", True),
]


@pytest.mark.parametrize(("type_", "raw", "stored"), VALID, ids=[f"{t.value}-{i}" for i, (t, *_r) in enumerate(VALID)])
def test_valid_value_is_normalised(type_, raw, stored):
    assert clean_one(spec(type_), raw) == stored


def test_choice_takes_one_listed_option():
    choice = spec(FieldType.choice, options=options("职工医保", "城乡居民医保"))
    assert clean_one(choice, " 职工医保 ") == "职工医保"


def test_multichoice_takes_listed_options():
    multi = spec(FieldType.multichoice, options=options("低保", "重残", "特困"))
    assert clean_one(multi, ["低保", " 特困 ", ""]) == ["低保", "特困"]
    assert clean_one(multi, "重残") == ["重残"]


@pytest.mark.parametrize("raw", [False, "false", "0", "off", "no"])
def test_unticked_boolean_is_left_out(raw):
    assert clean_form([spec(FieldType.boolean)], {"f": raw}, complete=False) == {}


# --- every field type: refused values, messages that name the field -------------------------------------

INVALID = [
    (FieldType.text, "x" * (fields.MAX_TEXT + 1), "too long (at most 500 characters)"),
    (FieldType.textarea, "y" * (fields.MAX_TEXTAREA + 1), "too long (at most 2000 characters)"),
    (FieldType.text, "a\x00b", "cannot be printed"),
    (FieldType.text, "escape\x1b[31m", "cannot be printed"),
    (FieldType.textarea, "delete\x7f", "cannot be printed"),
    (FieldType.address, "c1\x85control", "cannot be printed"),
    (FieldType.text, ["a", "b"], "takes a single value"),
    (FieldType.text, {"a": 1}, "takes a single value"),
    (FieldType.number, "forty", "must be a number"),
    (FieldType.number, "-1", "between 0 and 100,000,000"),
    (FieldType.number, "NaN", "between 0 and 100,000,000"),
    (FieldType.number, "Infinity", "between 0 and 100,000,000"),
    (FieldType.money, "100000000.01", "between 0 and 100,000,000"),
    (FieldType.money, "12.345", "two decimal places"),
    (FieldType.date, "2026-02-30", "must be a date"),
    (FieldType.date, "明天", "must be a date"),
    (FieldType.month, "2026-13", "must be a month"),
    (FieldType.month, "2026-5", "must be a month"),
    (FieldType.id_number, "34052419800101001", "ID card number"),
    (FieldType.id_number, "340524198001010010", "ID"),
    (FieldType.credit_code, "91310110666007217", "18 characters"),
    (FieldType.credit_code, "9131011066600721IO", "cannot contain I O"),
    (FieldType.phone, "12345", "mobile number of 11 digits or a landline"),
    (FieldType.bank_account, "6222-abc", "8 to 30 digits"),
    (FieldType.email, "wang@", "e-mail address"),
    (FieldType.postcode, "13000", "postcode of 6 digits"),
]


@pytest.mark.parametrize(("type_", "raw", "message"), INVALID,
                         ids=[f"{t.value}-{i}" for i, (t, *_r) in enumerate(INVALID)])
def test_invalid_value_is_refused_with_a_message_naming_the_field(type_, raw, message):
    reasons = problems(spec(type_, key="k", label="参保人姓名"), {"k": raw})
    assert len(reasons) == 1
    key, text = reasons[0]
    assert key == "k" and "“参保人姓名”" in text and message in text


@pytest.mark.parametrize(("type_", "raw"), [
    (FieldType.choice, "商业保险"), (FieldType.choice, ["职工医保"]), (FieldType.multichoice, ["职工医保", "别的"])])
def test_option_outside_the_list_is_refused(type_, raw):
    reasons = problems(spec(type_, label="参保类型", options=options("职工医保", "城乡居民医保")), raw)
    assert len(reasons) == 1 and "“参保类型”" in reasons[0][1]


def test_every_problem_is_reported_at_once():
    specs = [spec(FieldType.phone, key="phone", label="电话"), spec(FieldType.date, key="day", label="日期"),
             spec(FieldType.text, key="name", label="姓名", required=True)]
    assert [k for k, _m in problems(specs, {"phone": "1", "day": "x"}, complete=True)] == ["phone", "day", "name"]


def test_form_data_must_be_an_object():
    with pytest.raises(ValidationFailed) as error:
        clean_form([spec(FieldType.text)], ["not", "a", "dict"], complete=False)
    assert error.value.reasons == [(None, "The form data must be an object of field values.")]


def test_unknown_keys_are_dropped():
    assert clean_form([spec(FieldType.text)], {"f": "a", "admin": True}, complete=True) == {"f": "a"}


# --- required fields: drafts may be partial -------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, "", "   ", [], False])
def test_required_field_is_needed_at_submission_only(raw):
    required = spec(FieldType.text if raw is not False else FieldType.boolean, label="申报保障范围", required=True)
    assert clean_form([required], {"f": raw}, complete=False) == {}
    assert problems(required, {"f": raw}, complete=True) == [("f", "“申报保障范围” is required.")]


def test_required_consent_must_be_ticked():
    consent = spec(FieldType.boolean, label="本人承诺所填信息真实", required=True)
    assert clean_form([consent], {"f": True}, complete=True) == {"f": True}


# --- tables: rows, cells keyed key.row.column -----------------------------------------------------------


def table(required: bool = True, max_rows: int = 3) -> FieldSpec:
    columns = (spec(FieldType.text, key="name", label="姓名", required=True),
               spec(FieldType.id_number, key="id_number", label="身份证号码", required=True),
               spec(FieldType.money, key="wage", label="申报工资"))
    return spec(FieldType.table, key="staff", label="人员名单", required=required, columns=columns, max_rows=max_rows)


def test_table_rows_are_cleaned_and_empty_rows_dropped():
    rows = [{"name": " 张三 ", "id_number": "34052419800101001x", "wage": "5000"}, {"name": "", "wage": " "},
            {"name": "李四", "id_number": "34052419800101001X", "extra": "dropped"}]
    assert clean_one(table(), rows, complete=True) == [
        {"name": "张三", "id_number": "34052419800101001X", "wage": "5000.00"},
        {"name": "李四", "id_number": "34052419800101001X"}]


def test_table_cell_problems_are_keyed_by_row_and_column():
    rows = [{"name": "张三", "id_number": "34052419800101001X"}, {"name": "李四", "id_number": "123", "wage": "x"}]
    reasons = problems(table(), rows)
    assert [k for k, _m in reasons] == ["staff.2.id_number", "staff.2.wage"]
    assert "“身份证号码”" in reasons[0][1] and "“申报工资”" in reasons[1][1]


def test_started_row_needs_its_required_cells_at_submission():
    rows = [{"wage": "5000"}]
    assert clean_one(table(), rows, complete=False) == [{"wage": "5000.00"}]
    assert problems(table(), rows, complete=True) == [("staff.1.name", "“姓名” is required."),
                                                      ("staff.1.id_number", "“身份证号码” is required.")]


def test_table_takes_at_most_its_rows():
    rows = [{"name": f"人{i}"} for i in range(4)]
    assert problems(table(max_rows=3), rows) == [("staff", "“人员名单” takes at most 3 rows.")]
    assert len(clean_one(table(max_rows=4), rows)) == 4


@pytest.mark.parametrize("raw", ["张三", [["张三"]], {"name": "张三"}, ["张三"]])
def test_table_must_be_a_list_of_rows(raw):
    assert problems(table(), {"staff": raw}) == [("staff", "“人员名单” must be a list of rows.")]


@pytest.mark.parametrize("raw", [None, [], [{}], [{"name": "  "}]])
def test_required_table_needs_a_row_at_submission(raw):
    assert clean_form([table()], {"staff": raw}, complete=False) == {}
    assert problems(table(), raw, complete=True) == [("staff", "Fill in at least one row of “人员名单”.")]


def test_catalog_table_has_its_published_row_limit(catalog):
    specs = {s.key: s for s in fields.field_specs(catalog.get("G002036001002_01"), "unit")}
    assert specs["staff"].type is FieldType.table and specs["staff"].max_rows == 9
    claims = {s.key: s for s in fields.field_specs(catalog.get("J002036007004_02"), "unit")}["claims"]
    assert claims.max_rows == fields.DEFAULT_MAX_ROWS  # the seed publishes no limit


# --- which fields an item has ---------------------------------------------------------------------------


def test_field_specs_keep_only_the_applicants_fillable_fields(catalog):
    item = catalog.get(WINDOW_ITEM)
    form_fields = item.application_form.fields
    keys = [s.key for s in fields.field_specs(item, "individual")]
    expected = [f.key for f in form_fields if f.party is Party.applicant and f.type not in fields.SKIPPED_TYPES]
    assert keys == expected
    skipped = {f.key for f in form_fields} - set(keys)
    assert {f.party for f in form_fields if f.key in skipped} >= {Party.agency}
    assert {f.type for f in form_fields if f.key in skipped and f.party is Party.applicant} == {
        FieldType.signature, FieldType.static}


def test_table_columns_for_signatures_are_skipped(catalog):
    staff_table = next(s for s in fields.field_specs(catalog.get("G002036001005_01"), "unit") if s.key == "rows")
    assert [c.key for c in staff_table.columns] == ["id_number", "name", "change_item", "before", "after", "remark"]


def _item_with_form(catalog, *form_fields: FormField):
    form = AttachedForm(id="application", title=Name(zh="申请表", en="Application"), kind=FormKind.application,
                        fields=form_fields)
    return catalog.get(NO_FIELDS_ITEM).model_copy(update={"forms": (form,)})


def test_seal_agency_and_third_party_fields_are_not_filled_online(catalog):
    item = _item_with_form(
        catalog,
        FormField(key="seal", label=Name(zh="单位盖章", en="Seal"), type=FieldType.seal),
        FormField(key="opinion", label=Name(zh="经办机构意见", en="Opinion"), type=FieldType.textarea,
                  party=Party.agency),
        FormField(key="hospital", label=Name(zh="医院意见", en="Hospital"), party=Party.third_party),
        FormField(key="reason", label=Name(zh="申请理由", en="Reason"), type=FieldType.textarea, required=True),
    )
    specs = fields.field_specs(item, "individual")
    assert [(s.key, s.required, s.locked) for s in specs] == [("reason", True, False)]


def test_item_whose_form_has_no_applicant_field_gets_the_standard_form(catalog):
    item = _item_with_form(catalog, FormField(key="opinion", label=Name(zh="审核意见", en="Opinion"),
                                              party=Party.agency))
    assert fields.field_specs(item, "individual") == list(fields.INDIVIDUAL_DEFAULT)


@pytest.mark.parametrize(("audience", "default"), [("individual", fields.INDIVIDUAL_DEFAULT),
                                                   ("unit", fields.UNIT_DEFAULT)])
def test_item_without_published_fields_gets_the_standard_form_of_its_audience(catalog, audience, default):
    specs = fields.field_specs(catalog.get(NO_FIELDS_ITEM), audience)
    assert specs == list(default)
    assert {s.prefill for s in specs if s.locked} <= fields.LOCKED_SOURCES


def test_identity_fields_are_locked_to_the_records(catalog):
    specs = {s.key: s for s in fields.field_specs(catalog.get(PROMISE_ITEM), "individual")}
    assert {k for k, s in specs.items() if s.locked} == {"name", "gender", "id_number", "phone"}
    unit_specs = {s.key: s for s in fields.field_specs(catalog.get(UNIT_ITEM), "unit")}
    assert {k for k, s in unit_specs.items() if s.locked} == {"unit_number", "unit_name", "contact"}
    assert unit_specs["filled_by"].prefill == "agent.name" and not unit_specs["filled_by"].locked


# --- prefill and locking --------------------------------------------------------------------------------


def _person(**changes):
    person = SimpleNamespace(name="王晓明", id_number="34052419800101001X", phone="13912345678", gender="F",
                             address=None, birth_date=date(1980, 1, 1))
    return SimpleNamespace(**(vars(person) | changes))


def test_record_values_cover_person_unit_agent_and_item(catalog):
    unit = SimpleNamespace(name="长春示范有限公司", code="U1", credit_code="91310110666007217T", address="",
                           bank_name=None, bank_account="6222020200112233445", legal_rep_name="赵法人", nature=None)
    agent = SimpleNamespace(display_name="李经办", phone="13700001111")
    values = fields.record_values(person=_person(), unit=unit, agent=agent, item=catalog.get(PROMISE_ITEM))
    assert values == {
        "person.name": "王晓明", "person.id_number": "34052419800101001X", "person.phone": "13912345678",
        "person.gender": "女", "person.birth_date": "1980-01-01",
        "unit.name": "长春示范有限公司", "unit.code": "U1", "unit.credit_code": "91310110666007217T",
        "unit.bank_account": "6222020200112233445", "unit.legal_rep_name": "赵法人",
        "agent.name": "李经办", "agent.phone": "13700001111", "item.name": "门诊慢性病病种待遇认定",
    }  # empty values are left out, so the applicant may type them


def test_prefill_fits_a_birth_date_into_a_month_field(catalog):
    specs = fields.field_specs(catalog.get(WINDOW_ITEM), "individual")
    values = fields.record_values(person=_person())
    data = fields.prefill(specs, values)
    assert (data["birth_date"], data["gender"]) == ("1980-01", "女")
    assert clean_form(specs, fields.apply_locked(specs, {}, values), complete=False)["birth_date"] == "1980-01"


def test_locked_field_without_a_value_in_the_records_is_typed_by_the_applicant():
    phone = spec(FieldType.phone, key="phone", prefill="person.phone", locked=True)
    assert fields.is_locked(phone, {"person.phone": "13912345678"})
    assert not fields.is_locked(phone, {})
    assert fields.apply_locked([phone], {"phone": "13800001111"}, {}) == {"phone": "13800001111"}
    assert fields.apply_locked([phone], {"phone": "13800001111"}, {"person.phone": "13912345678"}) == {
        "phone": "13912345678"}


def test_unlocked_prefilled_field_keeps_what_was_typed():
    address = spec(FieldType.address, key="address", prefill="person.address")
    assert fields.prefill([address], {"person.address": "旧地址"}) == {"address": "旧地址"}
    assert fields.apply_locked([address], {"address": "新地址"}, {"person.address": "旧地址"}) == {"address": "新地址"}


@pytest.mark.parametrize(("field_spec", "value", "shown"), [
    (spec(FieldType.id_number), "34052419800101001X", "3***************1X"),
    (spec(FieldType.text, prefill="person.id_number"), "34052419800101001X", "3***************1X"),
    (spec(FieldType.phone), "13912345678", "139****5678"),
    (spec(FieldType.text, prefill="agent.phone"), "13912345678", "139****5678"),
    (spec(FieldType.text), "普通文字", "普通文字"),
    (spec(FieldType.multichoice), ["低保", "重残"], "低保、重残"),
    (spec(FieldType.text), None, ""),
])
def test_masked_value_hides_identity_numbers_and_phones(field_spec, value, shown):
    assert fields.masked_value(field_spec, value) == shown


def test_bank_account_is_masked():
    shown = fields.masked_value(spec(FieldType.bank_account), "6222020200112233445")
    assert "6222020200112233445" not in shown and shown.endswith("3445")
