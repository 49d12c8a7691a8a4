"""缴费基数申报 counts: the staff's bases for the year come as a roster, completion stores one base per person (all or
none, revocable), and the unit's 应缴核定单 is base × the region's rates (demo values, said so), as XLSX and signed
PDF."""
# ruff: noqa: F811 (the filing fixtures are imported from tests/applications/conftest.py)

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.applications import operations as ops
from portal.core import clock
from portal.insurance.constants import EnrolmentStatus, InsuranceType
from portal.insurance.models import Enrolment
from portal.rosters import store
from portal.services import contributions
from portal.services.contributions.models import DeclaredBase
from portal.services.effects import EffectRefused
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    SYSTEM,
    agent,
    all_materials,
    catalog,
    request_context,
    sample_value,
    staff,
)
from tests.rosters.support import workbook

ITEM = "J002036011001"  # 单位缴费基数申报(年度), jilin
HEADER = ["姓名 *", "身份证件号码 *", "月缴费基数(元) *"]
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen(T0):
        yield


@pytest.fixture
def staff_of_unit(db_session, agent, make_person):
    people = []
    for name in ("赵一", "钱二", "孙三"):
        person = make_person(name=name)
        person.unit_id = agent.unit_id
        db_session.add(Enrolment(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL,
                                 unit_id=agent.unit_id, status=EnrolmentStatus.ACTIVE, start_date=date(2020, 1, 1)))
        people.append(person)
    db_session.flush()
    return people


def _draft(catalog, agent):
    item = catalog.get(ITEM)
    case = ops.start_application(item, by=agent, actor=SYSTEM)
    data = dict(case.form_data)
    for spec in ops.specs_for(case, item):
        if spec.required and spec.key not in data and spec.key != "bases":
            data[spec.key] = sample_value(spec)
    data["year"] = "2026"
    ops.save_draft(case, ops.DraftInput(form=data, materials=all_materials(item)), by=agent, actor=SYSTEM)
    return item, case


def _complete(case, staff):
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)


def test_declared_bases_are_stored_and_make_the_assessment(catalog, agent, staff, staff_of_unit, db_session):
    item, case = _draft(catalog, agent)
    rows = [[p.name, p.id_number, base] for p, base in zip(staff_of_unit, ("4000", "5500.50", "8000"), strict=True)]
    roster = store.upload_file(case, item, workbook(rows, header=HEADER), "bases.xlsx", by=agent, actor=SYSTEM)
    assert (roster.row_count, roster.error_count) == (3, 0)
    ops.submit_application(case, by=agent, actor=SYSTEM)
    _complete(case, staff)
    stored = {d.person_id: d.base for d in db_session.execute(select(DeclaredBase).where(
        DeclaredBase.year == 2026)).scalars()}
    assert stored == {staff_of_unit[0].id: Decimal("4000.00"), staff_of_unit[1].id: Decimal("5500.50"),
                      staff_of_unit[2].id: Decimal("8000.00")}
    found = contributions.statement(agent.unit, date(2026, 3, 1), "jilin")
    assert found.rates.demo and found.undeclared == 0
    assert [(line.unit_amount, line.personal_amount) for line in found.lines if line.base == Decimal("5500.50")] \
        == [(Decimal("385.04"), Decimal("110.01"))]  # 7 % and 2 %, to the fen
    assert found.unit_total == Decimal("280.00") + Decimal("385.04") + Decimal("560.00")
    assert contributions.statement(agent.unit, date(2027, 1, 1), "jilin").undeclared == 3  # another year

    ops.catalog_item(case)
    contributions.ContributionBase().revoke_effect(case, "事后核查：承诺不实")
    assert db_session.execute(select(DeclaredBase)).scalars().all() == []


def test_a_person_of_another_unit_is_an_error_at_its_row_and_nothing_is_stored(catalog, agent, staff, staff_of_unit,
                                                                              make_person, db_session):
    item, case = _draft(catalog, agent)
    stranger = make_person(name="周外")
    rows = [[staff_of_unit[0].name, staff_of_unit[0].id_number, "4000"], [stranger.name, stranger.id_number, "3000"]]
    roster = store.upload_file(case, item, workbook(rows, header=HEADER), "bases.xlsx", by=agent, actor=SYSTEM)
    assert roster.error_count == 1
    spec = store.roster_spec(item, "unit")
    page, _total = store.page_of(roster, spec, page=1, per_page=10, errors_only=True)
    assert page[0]["row"] == 3 and page[0]["errors"][0]["message"] == "Not insured through this unit."
    # the records change after the check: completion refuses, nothing stored
    store.upload_file(case, item, workbook(rows[:1], header=HEADER), "bases.xlsx", by=agent, actor=SYSTEM)
    ops.submit_application(case, by=agent, actor=SYSTEM)
    for enrolment in staff_of_unit[0].enrolments:
        enrolment.status, enrolment.end_date = EnrolmentStatus.TERMINATED, date(2026, 3, 1)
    db_session.flush()
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    savepoint = db_session.begin_nested()
    with pytest.raises(EffectRefused, match="Row 2: not insured through this unit"):
        ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)
    savepoint.rollback()
    assert db_session.execute(select(DeclaredBase)).scalars().all() == []


def test_the_assessment_downloads_as_xlsx_and_signed_pdf(catalog, agent, staff_of_unit, make_client, db_session):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from tests.factories import log_in_by_code

    db_session.add(DeclaredBase(person_id=staff_of_unit[0].id, unit_id=agent.unit_id, year=2026,
                                base=Decimal("6000.00")))
    db_session.commit()
    browser = log_in_by_code(make_client(), db_session, agent.phone, unit=agent.unit)
    xlsx = browser.get("/unit/records/assessment.xlsx?month=2026-03")
    assert xlsx.status_code == 200
    values = [[c.value for c in row] for row in load_workbook(io.BytesIO(xlsx.data)).active.iter_rows()]
    text = " ".join(str(v) for row in values for v in row if v is not None)
    assert "Contribution assessment for 2026-03" in text and "Demo values" in text
    assert "2 persons have no base declared for 2026" in text
    assert ["Total", None, None, None, "420.00", "120.00", "540.00"] in values  # 6000 × 7 % and × 2 %
    assert staff_of_unit[0].id_number not in text and staff_of_unit[0].name not in text
    pdf = browser.get("/unit/records/assessment.pdf?month=2026-03")
    reader = PdfReader(io.BytesIO(pdf.data))
    assert any(f.get("/FT") == "/Sig" for f in reader.get_fields().values())
    assert "540.00" in "".join(p.extract_text() for p in reader.pages)
