"""Benefit records of completed recognitions (门诊慢特病, 特药, 生育待遇核准): completing writes the record with the
validity the seed gives, revoking the case removes it, and a record past its last day no longer holds."""
# ruff: noqa: F811 (the filing fixtures are imported from tests/applications/conftest.py)

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.applications import operations as ops
from portal.applications.constants import Action
from portal.core import clock
from portal.core.errors import ValidationFailed
from portal.insurance.constants import BenefitKind, BenefitStatus
from portal.insurance.models import Benefit
from portal.services import benefits, handler_for
from portal.services.benefits import records
from portal.workbench import operations as desk
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    SYSTEM,
    catalog,
    citizen,
    make_case,
    request_context,
    staff,
)

CHRONIC = "G002036005000_01_001"  # 吉林 门诊慢性病病种待遇认定 (承诺件)
SPECIAL_DRUG = "J002036005000_02_001"  # 吉林 门诊特治特药待遇认定 (承诺件)
MATERNITY = "J002036007001"  # 吉林 生育待遇核准 (即办件): "待遇有效期至本次生育结束"
MATERNITY_SPOUSE = "J002036007009"  # 吉林 配偶无工作的男职工生育待遇核准: "受理之日起至当次生育结束"
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in China


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen(T0) as source:
        yield source


def to_review(case, staff):
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    case.assignee, case.assignee_id = staff["reviewer"], staff["reviewer"].id


def decide_approval(case, staff, valid_until: str):
    """The workbench's approval, which takes the validity the recognising institution sets."""
    desk.decide(case, desk.Decision(Action.APPROVE, valid_until=valid_until), by=staff["reviewer"], actor=SYSTEM)


def approve(case, staff, valid_until: str):
    to_review(case, staff)
    decide_approval(case, staff, valid_until)


def complete(case, staff):
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)


def revoke(db_session, case):
    handler_for(ops.catalog_item(case)).revoke_effect(case, "承诺不实")
    db_session.flush()
    db_session.expire_all()


def test_the_approval_of_a_recognition_needs_the_validity_the_institution_sets(db_session, citizen, staff,
                                                                                make_case):
    case = make_case(CHRONIC, citizen, form={"scope": "糖尿病"})
    to_review(case, staff)
    state = case.state
    for given, message in (("", "Give the last day"), ("31/12/2027", "must be a date"),
                           ("2026-03-01", "cannot be in the past")):
        with pytest.raises(ValidationFailed) as refused:
            decide_approval(case, staff, given)
        assert refused.value.reasons[0][0] == "valid_until" and message in refused.value.reasons[0][1]
    assert case.state == state
    decide_approval(case, staff, "2026-03-02")  # today is the earliest last day
    assert case.events[-1].detail == {"valid_until": "2026-03-02"}


@pytest.mark.parametrize(("code", "kind", "form"), [
    (CHRONIC, BenefitKind.CHRONIC_DISEASE, {"scope": "糖尿病", "designated_institutions": "吉林大学第一医院"}),
    (SPECIAL_DRUG, BenefitKind.SPECIAL_DRUG, {"drug_name": "曲妥珠单抗", "hospital": "吉林省肿瘤医院",
                                              "pharmacy": "长春大药房"}),
])
def test_approving_a_recognition_writes_the_record_with_the_validity_set(db_session, citizen, staff, make_case,
                                                                         code, kind, form):
    case = make_case(code, citizen, form=form)
    approve(case, staff, "2027-03-01")
    assert records.of_case(case) is None  # approval alone grants nothing: completion does
    complete(case, staff)
    record = records.of_case(case)
    assert record.kind is kind and record.person_id == citizen.person_id and record.status is BenefitStatus.ACTIVE
    assert (record.valid_from, record.valid_until) == (date(2026, 3, 2), date(2027, 3, 1))
    assert record.detail_data["name"] == next(v for k, v in form.items() if k in ("scope", "drug_name"))
    assert set(record.detail_data["institutions"]) == {v for k, v in form.items() if k not in ("scope", "drug_name")}
    assert record.detail_data["item"] == code
    assert records.holds(citizen.person_id, [kind], day=date(2027, 3, 1))
    assert not records.holds(citizen.person_id, [kind], day=date(2027, 3, 2))  # the day after the last

    revoke(db_session, case)
    assert records.of_case(case) is None and db_session.get(Benefit, record.id) is None
    assert not records.holds(citizen.person_id, [kind], day=date(2026, 6, 1))


@pytest.mark.parametrize(("code", "starts"), [(MATERNITY_SPOUSE, date(2026, 3, 2)), (MATERNITY, date(2026, 3, 4))])
def test_maternity_recognition_runs_until_the_childbirth_ends(db_session, citizen, staff, make_case, _frozen, code,
                                                              starts):
    """From acceptance where the seed says 受理之日起, else from completion; no last date (ended by the birth)."""
    case = make_case(code, citizen)
    assert case.is_instant
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    _frozen.tick(datetime(2026, 3, 4, 2, tzinfo=UTC) - T0)  # completed two days after acceptance
    ops.complete_application(case, by=staff["acceptor"], actor=SYSTEM)
    record = records.of_case(case)
    assert record.kind is BenefitKind.MATERNITY
    assert record.valid_from == starts and record.valid_until is None
    assert record.detail_data["until"] == "end_of_this_childbirth"
    assert records.holds(citizen.person_id, [BenefitKind.MATERNITY], day=date(2026, 9, 1))
    revoke(db_session, case)
    assert db_session.get(Benefit, record.id) is None


def test_a_record_past_its_last_day_is_marked_expired_by_the_daily_run(db_session, citizen, staff, make_case):
    case = make_case(CHRONIC, citizen, form={"scope": "糖尿病"})
    approve(case, staff, "2026-06-30")
    complete(case, staff)
    record = records.of_case(case)
    assert records.expire_due(date(2026, 6, 30)) == 0 and record.status is BenefitStatus.ACTIVE
    assert records.expire_due(date(2026, 7, 1)) == 1 and record.status is BenefitStatus.EXPIRED
    assert not record.holds_on(date(2026, 6, 30))  # expired: held no longer, whatever the day


def test_recognition_handlers_cover_every_regions_items(app):
    from portal.catalog.loader import get_catalog, region_ids

    kinds = {"chronic_disease.recognition": BenefitKind.CHRONIC_DISEASE,
             "special_drug.recognition": BenefitKind.SPECIAL_DRUG, "maternity.recognition": BenefitKind.MATERNITY}
    items = [i for r in region_ids() for i in get_catalog(r).items if i.handler in kinds]
    assert len(items) >= 10
    assert all(handler_for(i).kind is kinds[i.handler] for i in items)
    assert all(isinstance(handler_for(i), benefits.Recognition) for i in items)
