"""吉林 新生儿参保登记 (G002036001003_02): the parent files for the newborn inside the seed's window (出生 90 天内);
completion enrols the newborn in the resident scheme and links them to the parent. Outside the window the filing is
refused in the seed's own words; revoking the case takes the enrolment back."""
# ruff: noqa: F811 (the filing fixtures are imported from tests/applications/conftest.py)

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.applications import operations as ops
from portal.applications.constants import State
from portal.core import clock
from portal.core.errors import ValidationFailed
from portal.insurance.constants import EnrolmentStatus, InsuranceType, PersonCategory
from portal.services import handler_for
from portal.services.effects import effect_of
from portal.services.enrolment.records import find_person
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    SYSTEM,
    all_materials,
    catalog,
    citizen,
    request_context,
    staff,
)
from tests.factories import valid_id_number

NEWBORN = "G002036001003_02"
SEED_WORDS = "新生儿应在出生 90 天内"
# 2026-03-02 10:00 in Changchun
FILED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _file(catalog, parent, child_id: str, name: str = "王小宝"):
    item = catalog.get(NEWBORN)
    case = ops.start_application(item, by=parent, actor=SYSTEM)
    principal = ops.Principal(name=name, id_number=child_id, relation="child")
    ops.save_draft(case, ops.DraftInput(form={}, materials=all_materials(item), principal=principal), by=parent,
                   actor=SYSTEM)
    data = dict(case.form_data)
    data.update({"id_type": "居民身份证", "gender": "男", "birth_date": child_id[6:10] + "-" + child_id[10:12],
                 "phone": parent.person.phone, "household_place": "220102", "applicant_identity": "新生儿",
                 "signature": "王晓明", "signature_date": "2026-03-02"})
    ops.save_draft(case, ops.DraftInput(form=data, materials=all_materials(item), principal=principal), by=parent,
                   actor=SYSTEM)
    ops.submit_application(case, by=parent, actor=SYSTEM)
    return case


def _complete(case, staff):
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    if case.state != State.COMPLETED:
        ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)


@pytest.mark.parametrize("birth", ["20251202", "20260301"])  # 90 days before the filing day, and the day before
def test_a_newborn_inside_the_window_is_enrolled_and_linked_to_the_parent(catalog, citizen, staff, birth):
    child_id = valid_id_number(birth=birth)
    with clock.frozen(FILED):
        case = _file(catalog, citizen, child_id)
        _complete(case, staff)
    assert case.state == State.COMPLETED and effect_of(case) is not None
    child = find_person(child_id)
    assert child is not None and child.name == "王小宝" and child.category is PersonCategory.NEWBORN
    assert child.guardian_id == citizen.person_id
    assert [(e.insurance_type, e.status) for e in child.enrolments] == [
        (InsuranceType.RESIDENT_MEDICAL, EnrolmentStatus.ACTIVE)]


def test_a_child_older_than_the_window_is_refused_with_the_seeds_words(catalog, citizen, db_session):
    child_id = valid_id_number(birth="20251201")  # 91 days before 2 March 2026
    with clock.frozen(FILED), pytest.raises(ValidationFailed) as refused:
        _file(catalog, citizen, child_id)
    message = " ".join(m for _f, m in refused.value.reasons)
    assert SEED_WORDS in message and "more than 90 days old" in message
    assert find_person(child_id) is None


def test_the_window_is_the_filing_day_not_the_completion_day(catalog, citizen, staff):
    child_id = valid_id_number(birth="20251202")  # day 90 on the filing day
    with clock.frozen(FILED):
        case = _file(catalog, citizen, child_id)
    with clock.frozen(datetime(2026, 3, 4, 2, 0, tzinfo=UTC)):  # staff complete it two days later
        _complete(case, staff)
    assert case.state == State.COMPLETED and find_person(child_id).guardian_id == citizen.person_id


def test_revoking_takes_the_newborn_out_again(catalog, citizen, staff, db_session):
    child_id = valid_id_number(birth="20260215")
    with clock.frozen(FILED):
        case = _file(catalog, citizen, child_id)
        _complete(case, staff)
        handler_for(catalog.get(NEWBORN)).revoke_effect(case, "核查不实")
        db_session.flush()
    assert find_person(child_id) is None
