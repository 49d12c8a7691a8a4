"""Post-hoc checking (事后核查): the population, reproducible and recorded draws, rates per item, concluding a
check (a false commitment revokes the effect, notes the person's record and tells the applicant), the staff
pages and the command."""
# ruff: noqa: F811 (the filing fixtures are imported from tests/applications/conftest.py)

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.applications import operations as ops
from portal.applications.constants import Action, MaterialMode, State
from portal.applications.progress import timeline
from portal.core import clock
from portal.core.audit import AuditEvent
from portal.core.errors import PermissionDenied, ValidationFailed
from portal.insurance.constants import EnrolmentStatus, InsuranceType
from portal.insurance.models import Enrolment
from portal.sampling import operations as sampling
from portal.sampling.models import Outcome, SamplingCheck, SamplingDraw
from tests.applications.conftest import (  # noqa: F401 (fixtures)
    SYSTEM,
    agent,
    catalog,
    citizen,
    make_case,
    make_citizen,
    request_context,
    staff,
)
from tests.conftest import csrf_from
from tests.factories import log_in_staff

FILING = "G002036004001"  # 异地安置退休人员备案: 即办件 whose proof may be replaced by a signed commitment
SUSPEND = "G002036001005_02_02"  # 职工停保变更: an effect on the records
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Mon 2026-03-02 10:00 in China
DAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen(T0):
        yield


@pytest.fixture
def file_with_commitment(catalog, make_citizen, staff):
    """A completed filing of a new citizen whose proof was replaced by a commitment (or provided, if not)."""

    def _file(commitment: bool = True):
        account = make_citizen("申请人")
        item = catalog.get(FILING)
        case = ops.start_application(item, by=account, actor=SYSTEM)
        form = {s.key: "测试" for s in ops.specs_for(case, item) if s.required and s.key not in case.form_data}
        materials = {m.id: MaterialMode.AT_WINDOW.value for m in item.materials if m.requirement.value == "required"}
        if commitment:
            materials["filing_proof"] = MaterialMode.COMMITMENT.value
        ops.save_draft(case, ops.DraftInput(form=form_values(case, item, form), materials=materials), by=account,
                       actor=SYSTEM)
        ops.submit_application(case, by=account, actor=SYSTEM)
        ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
        ops.complete_application(case, by=staff["acceptor"], actor=SYSTEM)
        assert case.state == State.COMPLETED
        return case

    return _file


def form_values(case, item, form):
    from tests.applications.conftest import sample_value

    data = dict(case.form_data)
    for spec in ops.specs_for(case, item):
        if spec.required and spec.key not in data:
            data[spec.key] = sample_value(spec)
    return data


def draw(seed="fixed-seed", by=None, first=DAY, last=DAY):
    return sampling.draw_sample(sampling.DrawInput(first, last, seed), by=by, by_label="tester",
                                actor=SYSTEM)


# --- the population and the draw ------------------------------------------------------------------------


def test_population_is_the_completed_commitment_based_cases_of_the_period(file_with_commitment, app):
    with_commitment = [file_with_commitment().id for _ in range(3)]
    file_with_commitment(commitment=False)
    population = sampling.population("jilin", DAY, DAY)
    assert population == {FILING: sorted(with_commitment)}
    assert sampling.population("jilin", date(2026, 3, 3), date(2026, 3, 9)) == {}


def test_draw_picks_the_rate_rounded_up_and_records_everything(file_with_commitment, staff, db_session):
    ids = sorted(file_with_commitment().id for _ in range(5))
    sampling.set_rate(FILING, 30, by=staff["chief"], actor=SYSTEM)  # 30 % of 5 = 1.5 → 2
    row = draw(by=staff["chief"])
    assert row.rates == {FILING: 30} and row.population == {FILING: ids} and row.seed == "fixed-seed"
    assert len(row.picks[FILING]) == math.ceil(5 * 0.3) == 2 and set(row.picks[FILING]) <= set(ids)
    assert row.drawn_by_id == staff["chief"].id and row.drawn_at == T0
    assert sorted(c.application_id for c in row.checks) == row.picks[FILING]
    audit = db_session.execute(select(AuditEvent).where(AuditEvent.action == "sampling.draw")).scalar_one()
    assert '"seed": "fixed-seed"' in audit.detail


def test_the_same_seed_and_population_give_the_same_picks():
    ids = list(range(100, 160))
    first = sampling.pick(ids, 10, "abc", FILING)
    assert first == sampling.pick(list(reversed(ids)), 10, "abc", FILING) and len(first) == 6
    assert first != sampling.pick(ids, 10, "abd", FILING)


def test_a_drawn_case_is_not_drawn_again(file_with_commitment, staff):
    file_with_commitment()
    sampling.set_rate(FILING, 100, by=staff["chief"], actor=SYSTEM)
    assert len(draw().checks) == 1
    assert draw(seed="other").checks == [] and draw(seed="other2").population == {}


def test_default_rate_applies_without_a_region_rate(file_with_commitment, app):
    file_with_commitment()
    row = draw()
    assert row.rates == {FILING: 5} and len(row.picks[FILING]) == 1  # 5 % of 1 case, rounded up


def test_a_random_seed_is_made_and_recorded_when_none_is_given(file_with_commitment):
    file_with_commitment()
    row = draw(seed=None)
    assert len(row.seed) == 16 and row.picks == {FILING: sampling.pick(row.population[FILING], 5, row.seed, FILING)}


def test_period_must_be_readable(staff):
    with pytest.raises(ValidationFailed):
        draw(first=date(2026, 3, 2), last=date(2026, 3, 1))
    with pytest.raises(ValidationFailed):
        draw(last=date(2026, 3, 3))  # in the future


@pytest.mark.parametrize("who", ["acceptor", "reviewer", "finance"])
def test_only_a_chief_draws(who, staff):
    with pytest.raises(PermissionDenied):
        draw(by=staff[who])


def test_rates_are_set_by_chiefs_within_0_to_100(staff, db_session):
    with pytest.raises(PermissionDenied):
        sampling.set_rate(FILING, 10, by=staff["reviewer"], actor=SYSTEM)
    for bad in ("101", "-1", "ten"):
        with pytest.raises(ValidationFailed):
            sampling.set_rate(FILING, bad, by=staff["chief"], actor=SYSTEM)
    sampling.set_rate(FILING, 20, by=staff["chief"], actor=SYSTEM)
    sampling.set_rate(FILING, 25, by=staff["chief"], actor=SYSTEM)
    assert sampling.region_rates("jilin") == {FILING: 25}


# --- concluding a check ---------------------------------------------------------------------------------


def drawn(case):
    row = draw()
    return next(c for c in row.checks if c.application_id == case.id)


@pytest.fixture
def full_rate(staff):
    sampling.set_rate(FILING, 100, by=staff["chief"], actor=SYSTEM)
    sampling.set_rate(SUSPEND, 100, by=staff["chief"], actor=SYSTEM)


def test_confirmed_check_is_on_the_timeline_and_signalled(file_with_commitment, full_rate, staff, db_session):
    case = file_with_commitment()
    check = drawn(case)
    heard = []
    with sampling.sample_concluded.connected_to(lambda sender, **kw: heard.append((sender, kw["outcome"]))):
        sampling.conclude_check(check, sampling.Conclusion("confirmed", note="电话核实"), by=staff["chief"],
                                actor=SYSTEM)
    assert heard == [(check, Outcome.CONFIRMED)]
    assert (check.outcome, check.decided_by_id, check.note) == ("confirmed", staff["chief"].id, "电话核实")
    assert case.events[-1].action == Action.POST_CHECK and case.state == State.COMPLETED
    assert case.person.notes is None


def test_false_commitment_revokes_the_effect_notes_the_person_and_tells_the_applicant(
        catalog, make_case, make_person, agent, full_rate, staff, db_session):
    person = make_person(name="核查人")
    main = Enrolment(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL, unit_id=agent.unit_id,
                     status=EnrolmentStatus.ACTIVE, start_date=date(2020, 1, 1))
    db_session.add(main)
    db_session.flush()
    case = make_case(SUSPEND, agent, form={"staff": [{"name": person.name, "id_type": "居民身份证",
                                                       "id_number": person.id_number, "change_category": "中断"}]})
    case.materials = case.materials | {"commitment_letter": MaterialMode.COMMITMENT.value}  # 承诺制 filing
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)
    assert main.status is EnrolmentStatus.SUSPENDED
    check = drawn(case)
    sampling.conclude_check(check, sampling.Conclusion("false_commitment", reason="该职工仍在职，停保承诺不实"),
                            by=staff["chief"], actor=SYSTEM)
    db_session.expire_all()
    assert main.status is EnrolmentStatus.ACTIVE
    assert "停保承诺不实" in person.notes and case.number in person.notes
    entry = timeline(case)[-1]
    assert entry.reason == "该职工仍在职，停保承诺不实" and entry.action == Action.POST_CHECK.label
    assert check.outcome_enum is Outcome.FALSE_COMMITMENT
    from portal.notifications.constants import Event
    from portal.notifications.models import Notification

    told = db_session.execute(select(Notification).where(Notification.event == Event.COMMITMENT_FALSE.value,
                                                         Notification.application_id == case.id)).scalar_one()
    assert told.account_id == agent.id and told.context["reason"] == "该职工仍在职，停保承诺不实"


def test_a_false_commitment_needs_its_reason(file_with_commitment, full_rate, staff):
    check = drawn(file_with_commitment())
    with pytest.raises(ValidationFailed):
        sampling.conclude_check(check, sampling.Conclusion("false_commitment", reason=" "), by=staff["chief"],
                                actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        sampling.conclude_check(check, sampling.Conclusion("pending"), by=staff["chief"], actor=SYSTEM)
    assert check.outcome == "pending"


def test_the_staff_who_handled_the_case_cannot_check_it(file_with_commitment, full_rate, staff):
    check = drawn(file_with_commitment())  # accepted and completed by the acceptor
    with pytest.raises(PermissionDenied):
        sampling.conclude_check(check, sampling.Conclusion("confirmed"), by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(PermissionDenied):
        sampling.conclude_check(check, sampling.Conclusion("confirmed"), by=staff["finance"], actor=SYSTEM)
    sampling.conclude_check(check, sampling.Conclusion("confirmed"), by=staff["reviewer"], actor=SYSTEM)
    with pytest.raises(sampling.InvalidTransition):
        sampling.conclude_check(check, sampling.Conclusion("confirmed"), by=staff["chief"], actor=SYSTEM)


# --- pages and the command ------------------------------------------------------------------------------


def staff_browser(make_client, make_staff, username, role):
    """A browser of its own (fresh ``g`` per request), logged in as new staff of ``role`` with TOTP."""
    _account, secret = make_staff(username, roles={role})
    return log_in_staff(make_client(), username, secret)


@pytest.fixture
def chief_browser(make_client, make_staff):
    return staff_browser(make_client, make_staff, "chiefpage", Role.CHIEF)


def test_chief_draws_and_concludes_through_the_pages(file_with_commitment, chief_browser, db_session):
    case = file_with_commitment()
    page = chief_browser.get("/staff/sampling")
    assert page.status_code == 200 and FILING in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    response = chief_browser.post(f"/staff/sampling/rates/{FILING}", data={"csrf_token": token, "rate": "100"})
    assert response.status_code == 302
    response = chief_browser.post("/staff/sampling/draw", data={"csrf_token": token, "period_from": "2026-03-02",
                                                                 "period_to": "2026-03-02", "seed": "page-seed"})
    assert response.status_code == 302
    row = db_session.execute(select(SamplingDraw).where(SamplingDraw.seed == "page-seed")).scalar_one()
    check = row.checks[0]
    page = chief_browser.get(f"/staff/sampling/checks/{check.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and case.number in html and "申请人" not in html  # the name is masked
    response = chief_browser.post(f"/staff/sampling/checks/{check.id}",
                                  data={"csrf_token": csrf_from(html), "outcome": "false_commitment", "reason": ""})
    assert response.status_code == 422 and "the applicant is told it" in response.get_data(as_text=True)
    response = chief_browser.post(f"/staff/sampling/checks/{check.id}", data={
        "csrf_token": csrf_from(html), "outcome": "false_commitment", "reason": "居住证明不实"})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(SamplingCheck, check.id).outcome == "false_commitment"
    viewed = db_session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "sampling.view_check", AuditEvent.object_id == str(case.id))).scalar_one()
    assert viewed >= 1


def test_sampling_pages_are_forbidden_to_other_roles(make_staff, make_client):
    assert make_client().get("/staff/sampling").status_code == 302  # not logged in: to the login page
    browser = staff_browser(make_client, make_staff, "finpage", Role.FINANCE)
    assert browser.get("/staff/sampling").status_code == 403  # staff know the area exists (accounts.staff_area)
    assert browser.get("/staff/sampling/checks/1").status_code == 403


def test_draw_command_prints_and_records_the_draw(file_with_commitment, app, db_session):
    case = file_with_commitment()
    result = app.test_cli_runner().invoke(args=["portal", "sampling", "draw", "--from", "2026-03-02", "--to",
                                                "2026-03-02", "--seed", "cli-seed"])
    assert result.exit_code == 0, result.output
    assert "seed=cli-seed" in result.output and f"{FILING}: rate 5%, 1 cases, picked [{case.id}]" in result.output
    row = db_session.execute(select(SamplingDraw).where(SamplingDraw.seed == "cli-seed")).scalar_one()
    assert row.drawn_by_label.startswith("cli:") and row.drawn_by_id is None


def test_two_staff_concluding_one_check_at_once_one_is_told(file_with_commitment, full_rate, staff, db_session):
    from sqlalchemy import text

    from portal.core.errors import Conflict

    check = drawn(file_with_commitment())
    db_session.flush()
    # another reviewer concluded it a moment ago, through their own request
    db_session.execute(text("UPDATE sampling_check SET outcome = 'confirmed', decided_at = :at, "
                            "version = version + 1 WHERE id = :id"), {"at": T0, "id": check.id})
    with pytest.raises(Conflict):
        sampling.conclude_check(check, sampling.Conclusion("false_commitment", reason="不实"), by=staff["chief"],
                                actor=SYSTEM)
