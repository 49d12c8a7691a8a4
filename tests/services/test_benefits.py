"""Benefit records of completed recognitions (门诊慢特病, 特药, 生育待遇核准): completing writes the record with the
validity the seed gives, revoking the case removes it, and a record past its last day no longer holds."""
# ruff: noqa: F811 (the filing fixtures are imported from tests/applications/conftest.py)

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from portal.applications import operations as ops
from portal.applications.constants import Action
from portal.core import clock
from portal.core.errors import InvalidTransition, ValidationFailed
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


# --- expiry: the reminder, then the record stops holding -------------------------------------------------------


def _benefit_messages(db_session, account):
    from sqlalchemy import select

    from portal.notifications.constants import Event
    from portal.notifications.models import Notification

    return db_session.execute(select(Notification).where(Notification.account_id == account.id,
                                                         Notification.event == Event.BENEFIT_EXPIRING.value)
                              ).scalars().all()


def test_a_recognition_about_to_expire_is_reminded_once_then_stops_holding(db_session, citizen, staff, make_case):
    from portal.notifications.messages import render
    from portal.notifications.reminders import send_reminders

    case = make_case(CHRONIC, citizen, form={"scope": "糖尿病"})
    approve(case, staff, "2026-06-30")
    complete(case, staff)
    record = records.of_case(case)
    assert send_reminders(date(2026, 5, 30), only=["benefits"]) == {"benefits": 0}  # 31 days before: not yet
    assert send_reminders(date(2026, 5, 31), only=["benefits"]) == {"benefits": 1}
    assert send_reminders(date(2026, 6, 15), only=["benefits"]) == {"benefits": 0}  # once per last day
    [message] = _benefit_messages(db_session, citizen)
    assert message.application_id == case.id and message.context["item_code"] == CHRONIC
    text = render(message.event, message.context, "en").body
    assert "糖尿病" in text and "Jun 30, 2026" in text and "Outpatient chronic disease benefit recognition" in text
    zh = render(message.event, message.context, "zh_Hans_CN").body
    assert zh.startswith("您的糖尿病待遇认定有效期至2026年6月30日") and "门诊慢性病病种待遇认定" in zh
    assert record.holds_on(date(2026, 6, 30)) and records.standing(record, date(2026, 7, 1)) is BenefitStatus.EXPIRED
    send_reminders(date(2026, 7, 1), only=["benefits"])  # the daily run marks it expired
    db_session.refresh(record)
    assert record.status is BenefitStatus.EXPIRED and not records.holds(citizen.person_id, day=date(2026, 7, 1))


def test_renewing_writes_a_new_record_and_reminds_for_the_new_last_day(db_session, citizen, staff, make_case):
    from portal.notifications.reminders import send_reminders

    first = make_case(CHRONIC, citizen, form={"scope": "糖尿病"})
    approve(first, staff, "2026-06-30")
    complete(first, staff)
    send_reminders(date(2026, 6, 1), only=["benefits"])
    renewal = make_case(CHRONIC, citizen, form={"scope": "糖尿病"})
    approve(renewal, staff, "2027-06-30")
    complete(renewal, staff)
    assert [r.application_id for r in records.held(citizen.person_id, day=date(2026, 7, 1))] == [renewal.id]
    assert send_reminders(date(2027, 6, 1), only=["benefits"]) == {"benefits": 1}
    assert len(_benefit_messages(db_session, citizen)) == 2


# --- what the person reads: 我的 → 待遇认定 and /api/v1/records/me ------------------------------------------------


def test_the_person_reads_the_recognition_with_its_validity_and_source(db_session, citizen, staff, make_case,
                                                                     make_client):
    from portal.accounts import tokens
    from tests.factories import log_in_by_code

    case = make_case(SPECIAL_DRUG, citizen, form={"drug_name": "曲妥珠单抗", "hospital": "吉林省肿瘤医院"})
    approve(case, staff, "2026-03-31")
    complete(case, staff)
    raw = tokens.issue_token(citizen, label="test")[0]
    db_session.commit()
    browser = log_in_by_code(make_client(), db_session, citizen.person.phone)
    page = browser.get("/me/records/benefits", headers={"Cookie": "lang=en"}).get_data(as_text=True)
    assert "曲妥珠单抗" in page and "吉林省肿瘤医院" in page and case.number in page
    assert "Mar 31, 2026" in page and f"/guide/items/{SPECIAL_DRUG}" in page  # within a month: renew
    api = make_client()
    me = api.get("/api/v1/records/me", headers={"Authorization": f"Bearer {raw}"}).get_json()
    [benefit] = [b for b in me["benefits"] if b["application_number"] == case.number]
    assert benefit == {"kind": "special_drug", "label": "Special drug", "status": "active", "item_code": None,
                       "name": "曲妥珠单抗", "level": None, "institutions": ["吉林省肿瘤医院"],
                       "valid_from": "2026-03-02", "valid_until": "2026-03-31", "until": None,
                       "application_number": case.number, "renew_item": SPECIAL_DRUG}


# --- prerequisites: requires_item as a rule --------------------------------------------------------------------

OUT_OF_AREA_RULE = "Out-of-area recognition requires a long-term out-of-area filing first."  # the rule's text (en)
CHRONIC_FILING = "G002036005000_01_002"  # 门诊慢性病病种待遇备案 (即办件): needs the 认定
CHRONIC_CHANGE = "G002036005000_01_003"  # 门诊慢性病病种待遇变更 (即办件): needs the 备案


def long_term_filing(db_session, person_id, status="active"):
    from portal.insurance.filings import RemoteCareFiling

    filing = RemoteCareFiling(number=f"BA{person_id:08d}", region="jilin", person_id=person_id,
                              item_code="G002036004001", category="resettled_retiree", term="long_term",
                              status=status, destination_code="460100", destination_name="海南省",
                              start_date=date(2026, 3, 1))
    db_session.add(filing)
    db_session.flush()
    return filing


def test_out_of_area_recognition_is_refused_without_a_long_term_filing_with_the_seeds_sentence(
        db_session, citizen, staff, make_case, catalog):
    from portal.applications.operations import prechecks

    case = make_case(CHRONIC, citizen, submit=False, form={"scope": "糖尿病", "recognition_place": "异地"})
    with pytest.raises(ValidationFailed) as refused:
        ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert refused.value.reasons == [(None, OUT_OF_AREA_RULE)]
    [blocking] = [f for f in prechecks(case) if f.severity.value == "blocking"]
    assert blocking.rule == "requires_item" and blocking.requires.code == "G002036004002"
    assert case.state == "draft" and case.number is None

    local = make_case(CHRONIC, citizen, form={"scope": "糖尿病", "recognition_place": "本地"})  # at home: no chain
    assert local.state == "submitted"

    filing = long_term_filing(db_session, citizen.person_id)
    ops.submit_application(case, by=citizen, actor=SYSTEM)
    assert case.state == "submitted"
    filing.status, filing.ended_on, filing.end_reason = "cancelled", date(2026, 3, 2), "本人取消"  # before acceptance
    db_session.flush()
    with pytest.raises(InvalidTransition) as not_now:
        ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    assert not_now.value.message == OUT_OF_AREA_RULE  # acceptance checks again
    assert case.state == "submitted"


def test_the_filing_and_change_need_the_recognition_and_carry_the_institutions(db_session, citizen, staff,
                                                                                make_case):
    filing = make_case(CHRONIC_FILING, citizen, submit=False, form={"recognition_place": "本地"})
    with pytest.raises(ValidationFailed):
        ops.submit_application(filing, by=citizen, actor=SYSTEM)  # no recognition yet
    change = make_case(CHRONIC_CHANGE, citizen, submit=False)
    with pytest.raises(ValidationFailed):
        ops.submit_application(change, by=citizen, actor=SYSTEM)  # no 备案 yet

    recognition = make_case(CHRONIC, citizen, form={"scope": "糖尿病", "recognition_place": "本地"})
    approve(recognition, staff, "2027-03-01")
    complete(recognition, staff)
    record = records.of_case(recognition)
    with pytest.raises(ValidationFailed):
        ops.submit_application(change, by=citizen, actor=SYSTEM)  # recognised, but not filed yet

    filing.form_data = {**filing.form_data, "designated_institutions": "长春市中心医院"}
    ops.submit_application(filing, by=citizen, actor=SYSTEM)
    ops.accept_application(filing, by=staff["acceptor"], actor=SYSTEM)
    complete(filing, staff)
    db_session.refresh(record)
    assert record.detail_data["institutions"] == ["长春市中心医院"] and records.items_of(record) == {
        CHRONIC, CHRONIC_FILING}

    change.form_data = {**change.form_data, "hospital": "吉林大学第一医院", "pharmacy": "益丰大药房"}
    ops.submit_application(change, by=citizen, actor=SYSTEM)
    ops.accept_application(change, by=staff["acceptor"], actor=SYSTEM)
    complete(change, staff)
    db_session.refresh(record)
    assert record.detail_data["institutions"] == ["吉林大学第一医院", "益丰大药房"]
    revoke(db_session, change)  # 事后核查 of the change puts the filed institutions back
    assert db_session.get(Benefit, record.id).detail_data["institutions"] == ["长春市中心医院"]


# --- catalogs, not free text ----------------------------------------------------------------------------------

NATIONAL = ["高血压", "糖尿病", "恶性肿瘤门诊放化疗", "尿毒症透析", "器官移植术后抗排异治疗"]


@pytest.mark.parametrize(("region", "code", "key", "diseases"), [
    ("jilin", CHRONIC, "scope", NATIONAL),  # the published 申报保障范围 box becomes the list
    ("yueyang", "002036005001", "disease_name", NATIONAL),  # 申报病种名称
    ("shangluo", "002036005001", "disease_name", NATIONAL),
    ("linkou", "002036005001", "disease", NATIONAL),  # no published form: this service's field
    ("sichuan", "SC22", "disease", NATIONAL),
    ("sichuan", "SC23", "disease", ["高血压", "糖尿病"]),  # the two diseases the item's name names
])
def test_the_disease_is_chosen_from_the_regions_list_with_its_source(app, region, code, key, diseases):
    from portal.applications.fields import field_specs
    from portal.catalog.loader import get_catalog

    saved = app.config["PORTAL_REGION"]
    app.config["PORTAL_REGION"] = region
    try:
        with app.test_request_context("/", headers={"Cookie": "lang=en"}):
            [spec] = [s for s in field_specs(get_catalog(region).get(code), "individual") if s.key == key]
    finally:
        app.config["PORTAL_REGION"] = saved
    assert spec.type.value == "choice" and spec.required and spec.searchable
    assert spec.option_values() == diseases
    assert spec.help.zh.startswith("病种目录：") and ("2021年9月" in spec.help.zh or "SC23" in spec.help.zh)


def test_a_disease_outside_the_list_is_refused_at_the_field(db_session, citizen, make_case):
    case = make_case(CHRONIC, citizen, submit=False)
    with pytest.raises(ValidationFailed) as refused:
        ops.save_draft(case, ops.DraftInput(form={**case.form_data, "scope": "感冒"}, materials=case.materials),
                       by=citizen, actor=SYSTEM)
    assert refused.value.reasons[0][0] == "scope" and "Choose one of the options" in refused.value.reasons[0][1]
    assert case.form_data["scope"] != "感冒"  # nothing of the bad save is kept


def test_the_searchable_list_works_without_javascript(db_session, citizen, make_client):
    """The page is a plain select (the script only adds a search box): choosing and saving needs no script."""
    from tests.conftest import csrf_from
    from tests.factories import log_in_by_code

    db_session.commit()
    browser = log_in_by_code(make_client(), db_session, citizen.person.phone)
    started = browser.post(f"/apply/{CHRONIC}", data={"csrf_token": csrf_from(browser.get(f"/apply/{CHRONIC}")
                                                                               .get_data(as_text=True))})
    edit = started.headers["Location"]
    page = browser.get(edit).get_data(as_text=True)
    assert re.search(r'<select id="f_scope" name="f_scope"[^>]*data-searchable', page)
    assert "js/select-search.js" in page
    saved = browser.post(edit, data={"csrf_token": csrf_from(page), "action": "save", "f_scope": "尿毒症透析"})
    assert saved.status_code in (200, 302)
    db_session.expire_all()
    from portal.applications.models import Application

    case = db_session.get(Application, int(edit.split("/")[2]))
    assert case.form_data["scope"] == "尿毒症透析"


# --- the API other families write through: the 长护 assessment's level -------------------------------------------


def test_a_graded_record_is_granted_through_the_ledger_and_revoked_with_its_case(db_session, citizen, make_case):
    """What the 长期护理 assessment (another family's handler) does at completion: grant with its level."""
    from portal.services.effects import Ledger, revert

    case = make_case("J002036013001", citizen)  # 长期护理保险评估认定
    ledger = Ledger()
    record = records.grant(case, records.Grant(BenefitKind.LONG_TERM_CARE, valid_from=date(2026, 3, 2),
                                               level="重度失能一级"), ledger)
    ledger.save(case, "long_term_care.assessment")
    assert record.level == "重度失能一级" and record.application_id == case.id
    assert records.holds(citizen.person_id, [BenefitKind.LONG_TERM_CARE], items=["J002036013001"])
    revert(case, "承诺不实")
    db_session.flush()
    assert db_session.get(Benefit, record.id) is None
