"""吉林 长期护理保险评估认定: the ADL scale (《长期护理保险日常生活活动能力评定量表》, seed 000 附件 4), its score and
失能等级, the assessment staff record on the case, the benefit record completion writes, and the 长护 payment
whose rate the level selects.

Worked examples of score → level: the items and score steps are the seed's (附件 4, L12714-13020); the seed gives
no bands, so the bands are WS/T 431—2013《护理分级》's for the Barthel index (≤40 重度依赖, 41–60 中度依赖,
61–99 轻度依赖, 100 无需依赖), named 重度失能 / 中度失能 / 轻度失能 / 基本正常 by this service.
"""
# ruff: noqa: F811 (the filing fixtures are imported from tests/applications/conftest.py)

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portal.applications import operations as ops
from portal.applications.constants import State
from portal.core import clock
from portal.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from portal.insurance.constants import BenefitKind
from portal.services import handler_for
from portal.services.benefits.records import held
from portal.services.claims import operations as claims
from portal.services.long_term_care import level_on
from portal.services.long_term_care import operations as care
from portal.services.long_term_care.scale import assess, scale
from portal.workbench import operations as desk
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    SYSTEM,
    catalog,
    citizen,
    make_case,
    request_context,
    staff,
)

ASSESSMENT = "J002036013001"  # 长期护理保险评估认定
CARE_CLAIM = "J002036013003"  # 长期护理保险参保人员长护费用手工(零星)报销
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Changchun
LATER = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)  # two months on: care a month before this is inside the record

FULL = {"bowel": 10, "bladder": 10, "grooming": 5, "toilet": 10, "feeding": 10, "transfer": 15, "mobility": 15,
        "dressing": 10, "stairs": 10, "bathing": 5}


def scores(**changes: int) -> dict[str, int]:
    return {**dict.fromkeys(FULL, 0), **changes}


def test_the_scale_is_the_seeds_annex_4(catalog):
    """Items and steps agree with the catalog's 附件 4 form (the seed's words): 'N 分：…' for each step."""
    form = next(f for f in catalog.get(ASSESSMENT).forms if f.id == "adl_scale")
    published = {f.key: [int(re.match(r"(\d+) 分", o.zh).group(1)) for o in f.options] for f in form.fields
                 if f.options and re.match(r"\d+ 分", f.options[0].zh)}
    assert {i.key: list(i.scores) for i in scale().items} == published
    assert scale().maximum == 100 and not scale().bands_are_seed and "WS/T 431" in scale().source_bands


@pytest.mark.parametrize(("given", "total", "level"), [
    (FULL, 100, "基本正常"),  # every item independent: WS/T 431 无需依赖
    ({**FULL, "bathing": 4}, 99, "轻度失能"),  # one step below: 轻度依赖 (61–99)
    (scores(bowel=10, bladder=10, grooming=5, toilet=10, feeding=10, transfer=15, bathing=1), 61, "轻度失能"),
    (scores(bowel=10, bladder=10, grooming=5, toilet=10, feeding=10, transfer=15), 60, "中度失能"),  # 41–60
    (scores(bowel=10, bladder=10, grooming=5, toilet=10, feeding=5, bathing=1), 41, "中度失能"),
    (scores(bowel=10, bladder=10, grooming=5, toilet=10, feeding=5), 40, "重度失能"),  # ≤40 重度依赖
    (scores(), 0, "重度失能"),  # comatose: every item 0
])
def test_score_to_level_worked_examples(given, total, level):
    result = assess(given)
    assert (result.total, result.band.zh) == (total, level)


def test_a_score_the_item_does_not_publish_or_a_missing_item_is_named(english):
    with pytest.raises(ValidationFailed) as refused:
        assess({**FULL, "bowel": 3, "stairs": ""})
    assert refused.value.fields == {"bowel": ["“控制大便” is scored 0、2、5、8、10."], "stairs": ["Score “上下楼梯”."]}


def _assessed_case(make_case, citizen, staff, given):
    with clock.frozen(T0):
        case = make_case(ASSESSMENT, citizen)
        ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
        desk.claim_case(case, by=staff["reviewer"], actor=SYSTEM)
        ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
        if given is not None:
            care.record_assessment(case, given, "2026-03-01", by=staff["reviewer"], actor=SYSTEM)
    return case


def _approve_and_complete(case, staff):
    with clock.frozen(T0):
        ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
        ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)


def test_completion_records_the_level_in_the_persons_benefit_record(make_case, citizen, staff, db_session):
    case = _assessed_case(make_case, citizen, staff, scores(bowel=5, bladder=3, feeding=5, grooming=1))  # 14
    _approve_and_complete(case, staff)
    assert case.state == State.COMPLETED
    [record] = held(citizen.person_id, [BenefitKind.LONG_TERM_CARE], day=date(2026, 3, 2))
    assert record.level == "重度失能" and record.application_id == case.id
    assert record.detail_data["score"] == 14 and record.detail_data["assessed_on"] == "2026-03-01"
    assert level_on(citizen.person_id, date(2026, 3, 2)).key == "severe"
    # post-hoc checking that revokes the case takes the level back
    handler_for(ops.catalog_item(case)).revoke_effect(case, "核查不实")
    db_session.flush()
    assert level_on(citizen.person_id, date(2026, 3, 2)) is None


def test_approval_needs_an_assessment_and_only_the_case_worker_enters_it(make_case, citizen, staff):
    case = _assessed_case(make_case, citizen, staff, None)
    with clock.frozen(T0), pytest.raises(InvalidTransition):
        ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    with clock.frozen(T0), pytest.raises(PermissionDenied, match="Take the case first"):
        care.record_assessment(case, FULL, "2026-03-01", by=staff["chief"], actor=SYSTEM)
    with clock.frozen(T0), pytest.raises(ValidationFailed) as refused:
        care.record_assessment(case, FULL, "2026-03-09", by=staff["reviewer"], actor=SYSTEM)  # after today
    assert list(refused.value.fields) == ["assessed_on"]


@pytest.mark.parametrize(("given", "paid"), [
    (scores(), Decimal("560.00")),  # 重度失能: 800.00 eligible × 70 % (demo rate)
    # 61, 轻度失能: 800.00 × 50 %
    (scores(bowel=10, bladder=10, grooming=5, toilet=10, feeding=10, transfer=15, bathing=1), Decimal("400.00")),
])
def test_the_payment_uses_the_level(make_case, citizen, staff, given, paid):
    """The invoices of the sample claim: 1000.00 less 100.00 自付 and 100.00 自费 → 800.00 eligible."""
    _approve_and_complete(_assessed_case(make_case, citizen, staff, given), staff)
    with clock.frozen(LATER):
        case = make_case(CARE_CLAIM, citizen)
    claim = claims.claim_of(case)
    assert claim.computed_amount == paid and claim.scheme == "long_term_care"
    lines = {line["key"]: line for line in claim.working}
    assert lines["care_rate"]["is_demo"] and lines["care_rate"]["source"].startswith(assess(given).band.zh)


def test_the_level_in_force_on_the_day_of_care_counts(make_case, citizen, staff, db_session):
    """A record revoked afterwards (事后核查) no longer gives a level: recomputed, no rule applies and the reviewer
    sets the amount."""
    assessment = _assessed_case(make_case, citizen, staff, scores())
    _approve_and_complete(assessment, staff)
    with clock.frozen(LATER):
        case = make_case(CARE_CLAIM, citizen)
        assert claims.claim_of(case).computed_amount == Decimal("560.00")
        handler_for(ops.catalog_item(assessment)).revoke_effect(assessment, "核查不实")
        db_session.flush()
        result, facts = claims.compute(case)
    assert result.amount is None and facts["scheme"] == "long_term_care"


def test_without_a_level_the_reviewer_sets_the_amount(make_case, citizen):
    with clock.frozen(LATER):
        case = make_case(CARE_CLAIM, citizen)
    assert claims.claim_of(case).computed_amount is None
