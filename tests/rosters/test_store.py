"""Rosters on a unit's draft: the template, reading (XLSX, CSV in UTF-8 or GBK), the check of every row with each
error at its row and column, hardened reading (macros, formulas, ZIP bombs, wrong columns), submission and the
all-or-none completion."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from sqlalchemy import func, select, text

from portal.applications import operations as ops
from portal.applications.constants import State
from portal.core.errors import ValidationFailed
from portal.core.sheets import SheetRefused
from portal.insurance.constants import EnrolmentStatus, InsuranceType
from portal.insurance.models import Enrolment, Person
from portal.rosters import store, template
from portal.services.effects import EffectRefused
from tests.rosters.conftest import SYSTEM
from tests.rosters.support import HEADER, ROSTER_ITEM, csv_bytes, id_numbers, person_rows, workbook


def upload(case, catalog, agent, data: bytes, name: str = "roster.xlsx"):
    return store.upload_file(case, catalog.get(ROSTER_ITEM), data, name, by=agent, actor=SYSTEM)


def errors_by_row(roster, catalog) -> dict[int, list[tuple[str, str]]]:
    spec = store.roster_spec(catalog.get(ROSTER_ITEM), "unit")
    page, _total = store.page_of(roster, spec, page=1, per_page=10_000, errors_only=True)
    return {r["row"]: [(e["where"], e["message"]) for e in r["errors"]] for r in page}


def complete(case, staff):
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)


# --- the template --------------------------------------------------------------------------------------------------


def test_the_template_has_the_forms_columns_a_list_for_choices_and_instructions(catalog):
    from openpyxl import load_workbook

    item = catalog.get(ROSTER_ITEM)
    data = template.build(item, store.roster_spec(item, "unit"), max_rows=store.MAX_ROWS)
    book = load_workbook(io.BytesIO(data))
    sheet = book["名单"]
    assert [c.value for c in sheet[1]] == HEADER
    rules = {str(r.sqref): r.formula1 for r in sheet.data_validations.dataValidation}
    assert rules["E2:E20001"] == '"增加,中断,终止,恢复,在职转退休,统筹区内转移"'
    assert sheet.column_dimensions["C"].number_format == "@"  # ID numbers stay text
    notes = [c.value for row in book["填写说明"].iter_rows() for c in row if c.value]
    assert any("this service's own" in str(n) for n in notes)
    assert "身份证件号码" in notes


def test_the_filled_template_reads_back(draft, catalog, agent):
    from openpyxl import load_workbook

    item = catalog.get(ROSTER_ITEM)
    book = load_workbook(io.BytesIO(template.build(item, store.roster_spec(item, "unit"), max_rows=100)))
    for row in person_rows(3):
        book["名单"].append(row)
    out = io.BytesIO()
    book.save(out)
    roster = upload(draft, catalog, agent, out.getvalue())
    assert (roster.row_count, roster.error_count, roster.new_count) == (3, 0, 3)


# --- the check of every row ----------------------------------------------------------------------------------------


def test_every_error_is_reported_at_its_row_and_column(draft, catalog, agent, make_person, make_unit, db_session):
    rows = person_rows(8)
    rows[1][2] = rows[1][2][:-1] + ("0" if rows[1][2][-1] != "0" else "1")  # wrong check digit
    rows[2][4] = "调走"  # not a category of the form
    rows[3][2] = rows[0][2]  # the same person as row 2
    rows[4][0] = ""  # the name is required
    known = make_person(name=rows[5][0], id_number=rows[5][2])  # insured through another unit
    other = make_unit(name="别的单位")
    db_session.add(Enrolment(person_id=known.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL, unit_id=other.id,
                             status=EnrolmentStatus.ACTIVE, start_date=date(2020, 1, 1)))
    rows[6][4] = "中断"  # not in the records at all
    rows[7][3] = "abc"  # a wage that is not a number
    db_session.flush()
    roster = upload(draft, catalog, agent, workbook(rows))
    found = errors_by_row(roster, catalog)
    assert sorted(found) == [3, 4, 5, 6, 7, 8, 9]  # sheet rows (the header is row 1)
    assert found[3] == [("Row 3, column C (ID number)", found[3][0][1])]
    assert "check digit" in found[3][0][1]
    assert found[4][0][0] == "Row 4, column E (Change category)"
    assert found[5] == [("Row 5, column C (ID number)", "The same person as row 2.")]
    assert found[6] == [("Row 6, column A (Name)", "“Name” is required.")]
    assert found[7][0][0] == "Row 7, column C (ID number)" and "another unit" in found[7][0][1]
    assert found[8] == [("Row 8, column C (ID number)", "This person is not in the insurance records.")]
    assert found[9][0][0] == "Row 9, column D (Declared wage (yuan/month))"
    assert (roster.row_count, roster.error_count, roster.new_count) == (8, 7, 1)
    with pytest.raises(ValidationFailed, match="7 rows with errors"):
        ops.submit_application(draft, by=agent, actor=SYSTEM)
    assert draft.state == State.DRAFT


def test_a_unit_changes_only_its_own_staff(draft, catalog, agent, make_person, make_unit, db_session):
    rows = person_rows(2, category="中断")
    theirs = make_person(name=rows[0][0], id_number=rows[0][2])
    ours = make_person(name="改名了", id_number=rows[1][2])
    other = make_unit(name="别的单位")
    for person, unit in ((theirs, other), (ours, agent.unit)):
        db_session.add(Enrolment(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL, unit_id=unit.id,
                                 status=EnrolmentStatus.ACTIVE, start_date=date(2020, 1, 1)))
    db_session.flush()
    found = errors_by_row(upload(draft, catalog, agent, workbook(rows)), catalog)
    assert found[2] == [("Row 2, column C (ID number)", "Not insured through this unit.")]
    assert found[3] == [("Row 3, column A (Name)", "The name does not match the records for this ID number.")]


def test_checks_hold_no_values_only_codes(draft, catalog, agent, db_session):
    rows = person_rows(2)
    rows[1][2] = "220102197001010000"
    roster = upload(draft, catalog, agent, workbook(rows))
    assert rows[0][2] not in roster.checks_json and "测" not in roster.checks_json
    db_session.flush()
    stored = db_session.execute(text("SELECT rows_json FROM roster WHERE id = :id"), {"id": roster.id}).scalar_one()
    assert rows[0][2] not in stored and rows[0][0] not in stored  # sealed at rest
    assert rows[0][2] in roster.rows_json


# --- reading: formats and hardening --------------------------------------------------------------------------------


def test_a_csv_in_utf8_or_gbk_is_read_and_its_encoding_said(draft, catalog, agent):
    rows = person_rows(2)
    for encoding, said in (("utf-8-sig", "utf-8"), ("utf-8", "utf-8"), ("gbk", "gbk")):
        roster = upload(draft, catalog, agent, csv_bytes(rows, encoding=encoding), "roster.csv")
        assert (roster.source, roster.encoding, roster.row_count, roster.error_count) == ("csv", said, 2, 0)


def test_a_file_in_no_known_encoding_is_refused_clearly(draft, catalog, agent):
    with pytest.raises(SheetRefused, match="neither UTF-8 nor GBK"):
        upload(draft, catalog, agent, "姓名,".encode("gbk") + b"\xff\x80\r\n", "roster.csv")


def test_a_formula_is_never_evaluated_and_is_an_error_at_its_cell(draft, catalog, agent):
    rows = person_rows(2)
    data = workbook(rows, formulas={(3, 4): "=D2*2", (2, 1): '=CONCATENATE("张","三")'})
    roster = upload(draft, catalog, agent, data)
    found = errors_by_row(roster, catalog)
    assert [w for w, _m in found[2]] == ["Row 2, column A (Name)"]
    assert [w for w, _m in found[3]] == ["Row 3, column D (Declared wage (yuan/month))"]
    assert "never calculated" in found[3][0][1]


def test_an_id_number_excel_stored_as_a_number_is_called_so(draft, catalog, agent):
    rows = person_rows(1)
    rows[0][2] = int(rows[0][2]) if rows[0][2].isdigit() else rows[0][2][:-1] + "1"
    rows[0][2] = int(str(rows[0][2])[:17] + "1")
    found = errors_by_row(upload(draft, catalog, agent, workbook(rows)), catalog)
    assert "stored as a number" in found[2][0][1]


def _with_macro(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr("xl/vbaProject.bin", b"\x00" * 512)
    return out.getvalue()


def test_a_macro_enabled_workbook_is_refused_and_nothing_is_stored(draft, catalog, agent):
    with pytest.raises(SheetRefused, match="macros"):
        upload(draft, catalog, agent, _with_macro(workbook(person_rows(1))), "roster.xlsm")
    assert store.roster_of(draft) is None


def test_a_zip_bomb_is_refused_before_it_is_inflated(draft, catalog, agent):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        bomb.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))
    with pytest.raises(SheetRefused, match="unpacks to far more"):
        upload(draft, catalog, agent, out.getvalue())


def test_wrong_columns_are_named(draft, catalog, agent):
    header = ["姓名", "身份证号", "变更类别", "工号"]
    with pytest.raises(SheetRefused) as refused:
        upload(draft, catalog, agent, workbook([["张三", "x", "增加", "1"]], header=header))
    message = refused.value.message
    assert "missing columns: ID document type、ID number" in message
    assert "B（身份证号）" in message and "D（工号）" in message


def test_an_old_xls_or_a_random_file_is_refused(draft, catalog, agent):
    with pytest.raises(SheetRefused, match=r"\.xls"):
        upload(draft, catalog, agent, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "roster.xls")
    with pytest.raises(SheetRefused, match="do not head the columns"):
        upload(draft, catalog, agent, b"just some text\r\nwith lines\r\n", "roster.csv")
    with pytest.raises(SheetRefused, match="not an Excel workbook"):
        upload(draft, catalog, agent, b"PK\x03\x04broken", "roster.xlsx")


# --- submission and completion -------------------------------------------------------------------------------------


def test_a_roster_of_hundreds_is_one_case_and_completion_enrols_everyone(draft, catalog, agent, staff, db_session):
    roster = upload(draft, catalog, agent, workbook(person_rows(120)))
    assert roster.error_count == 0
    ops.submit_application(draft, by=agent, actor=SYSTEM)  # past the form's 9 rows
    complete(draft, staff)
    assert draft.state in {State.COMPLETED.value, State.DELIVERED.value}
    enrolled = db_session.execute(select(func.count()).select_from(Enrolment).where(
        Enrolment.unit_id == agent.unit_id, Enrolment.status == EnrolmentStatus.ACTIVE)).scalar_one()
    assert enrolled == 120
    person = db_session.execute(select(Person).where(Person.id_number == id_numbers(1)[0])).scalar_one_or_none()
    assert person is None  # looked up by blind index only; the column is sealed


def test_completion_applies_all_rows_or_none(draft, catalog, agent, staff, make_person, db_session):
    rows = person_rows(30)
    upload(draft, catalog, agent, workbook(rows))
    ops.submit_application(draft, by=agent, actor=SYSTEM)
    # after the check, one of the 30 gets insured elsewhere: the completion refuses, and nobody is enrolled
    late = make_person(name=rows[17][0], id_number=rows[17][2])
    db_session.add(Enrolment(person_id=late.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL, unit_id=None,
                             status=EnrolmentStatus.ACTIVE, start_date=date(2020, 1, 1)))
    db_session.flush()
    ops.accept_application(draft, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(draft, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(draft, by=staff["reviewer"], actor=SYSTEM)
    savepoint = db_session.begin_nested()
    with pytest.raises(EffectRefused, match="Row 19"):
        ops.complete_application(draft, by=staff["reviewer"], actor=SYSTEM)
    savepoint.rollback()
    db_session.expire_all()
    assert db_session.execute(select(func.count()).select_from(Enrolment).where(
        Enrolment.unit_id == agent.unit_id)).scalar_one() == 0
    assert draft.state == State.APPROVED.value


def test_a_new_upload_replaces_the_roster_and_removing_it_brings_the_table_back(draft, catalog, agent):
    bad = person_rows(3)
    bad[0][2] = "123"
    assert upload(draft, catalog, agent, workbook(bad)).error_count == 1
    roster = upload(draft, catalog, agent, workbook(person_rows(3)))
    assert roster.error_count == 0
    assert "staff" not in {s.key for s in ops.specs_for(draft)}
    store.remove(draft, catalog.get(ROSTER_ITEM), by=agent, actor=SYSTEM)
    assert "staff" in {s.key for s in ops.specs_for(draft)}
