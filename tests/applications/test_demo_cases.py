"""Demo data at scale (``portal demo --persons N --cases M``), at a small scale: written in chunks and in bulk, yet
the same persons as built in one piece, and cases the app itself can work with — sealed, indexed, bound, in every
state through the lifecycle's own moves, with their deadlines — found by the queue pages and the ID search."""

from __future__ import annotations

import re

from sqlalchemy import func, select, text

from portal.accounts.models import Account, PersonBinding, Role
from portal.applications import fields, numbers
from portal.applications.constants import State
from portal.applications.demo import CaseMaker
from portal.applications.lifecycle import TRANSITIONS
from portal.applications.models import Application, ApplicationEvent, CorrectionNotice
from portal.core.validators import id_check_digit
from portal.insurance.demo import all_demo_citizens, build_demo_plan, demo_plans, generate_demo_data
from portal.insurance.models import Person, id_number_index
from portal.workbench.queues import queue_of, work_due_of
from tests.conftest import csrf_from
from tests.factories import log_in_by_code, log_in_staff

PERSONS, CASES = 120, 150
DOCUMENTED = {c.id_number for c in all_demo_citizens()}  # the README's demo logins: they get no generated cases


def test_chunks_build_the_same_persons_as_one_plan():
    whole = build_demo_plan(seed=5, persons=PERSONS, units=6)
    chunks = list(demo_plans(seed=5, persons=PERSONS, units=6, chunk=25))
    assert len(chunks) == 5 and all(len(c.persons) <= 25 for c in chunks)
    assert [p for c in chunks for p in c.persons] == whole.persons  # positions of units are the same in both
    assert sum(len(c.contributions) for c in chunks) == len(whole.contributions)
    assert sum(len(c.transactions) for c in chunks) == len(whole.transactions)
    assert chunks[0].units == whole.units and not any(c.units for c in chunks[1:])


def _generate(db_session):
    maker = CaseMaker(9, "jilin", CASES, PERSONS, DOCUMENTED)
    summary = generate_demo_data(seed=9, persons=PERSONS, units=6, also=maker)
    db_session.flush()
    return summary


def test_the_rows_are_consistent(app, db_session):
    summary = _generate(db_session)
    assert summary.persons == PERSONS and summary.cases == CASES
    persons = db_session.execute(select(Person)).scalars().all()
    assert len(persons) == PERSONS
    for person in persons:  # valid 身份证 and the blind indexes of the sealed values
        assert person.id_number[17] == id_check_digit(person.id_number[:17])
        assert person.id_number_index == id_number_index(person.id_number)
    raw = db_session.execute(text("SELECT id_number, name FROM person")).all()
    assert not any(re.search(r"\d{17}[\dX]", r.id_number) or r.name == persons[0].name for r in raw)  # sealed

    cases = db_session.execute(select(Application)).unique().scalars().all()
    assert len(cases) == CASES
    assert {c.state for c in cases} == {s.value for s in State}  # every state
    assert len({c.number for c in cases if c.number}) == sum(1 for c in cases if c.state != "draft")
    prefilled = 0
    raw_names = set(db_session.execute(text("SELECT applicant_name FROM application")).scalars())
    for case in cases:
        applicant = case.applicant
        assert applicant.kind == "citizen" and applicant.person_id is not None
        binding = db_session.execute(select(PersonBinding).where(PersonBinding.account_id == applicant.id)).scalar_one()
        assert (binding.status, binding.person_id) == ("active", applicant.person_id)
        assert case.applicant_name == applicant.person.name and case.applicant_name not in raw_names
        if case.on_behalf:
            assert case.person_id is None and case.principal_id_index == id_number_index(case.principal_id_number)
            assert case.principal_id_number[17] == id_check_digit(case.principal_id_number[:17])
        else:
            assert case.person_id == applicant.person_id
        # the form is prefilled from the records, as a new draft is: the name field holds whom it is about
        specs = fields.field_specs(app.extensions["portal_catalog"].get(case.item_code), "individual")
        for spec in specs:
            if spec.prefill == "person.name":
                prefilled += 1
                assert case.form_data[spec.key] == (case.principal_name if case.on_behalf else case.applicant_name)
        if case.state != "draft":
            assert numbers.is_valid(case.number) and case.submitted_at and case.accept_by
        # the timeline walks the lifecycle from draft to the case's state
        events = db_session.execute(select(ApplicationEvent).where(ApplicationEvent.application_id == case.id)
                                    .order_by(ApplicationEvent.id)).scalars().all()
        state = "draft"
        for event in events:
            assert event.from_state == state and TRANSITIONS[(State(state), event.action)].value == event.to_state
            state = event.to_state
        assert state == case.state
        assert [e.at for e in events] == sorted(e.at for e in events)
        # deadlines: accepted cases have a due date, and the queue and its day are what the workbench would set
        assert (case.accepted_at is not None) == any(e.action == "accept" for e in events)
        if case.accepted_at is not None:
            assert case.due_date is not None and case.due_date >= case.accepted_at.date()
        assert case.queue == queue_of(case.state, accepted=case.accepted_at is not None, is_money=case.is_money)
        assert case.work_due == work_due_of(case.queue, accept_by=case.accept_by, due_date=case.due_date)
        open_notices = db_session.execute(select(func.count()).where(
            CorrectionNotice.application_id == case.id, CorrectionNotice.resolved_at.is_(None))).scalar()
        assert open_notices == (1 if case.state == "correction_requested" else 0)
        if case.state in ("not_accepted", "denied"):
            assert case.decision_reason
    assert prefilled
    # the documented demo logins keep logging in and binding themselves: no account was made for them
    from portal.insurance.demo import demo_citizens

    documented = {id_number_index(c.id_number) for c in demo_citizens("jilin")}
    bound = db_session.execute(select(Person.id_number_index).join(Account, Account.person_id == Person.id)).scalars()
    assert not documented & set(bound)


def test_the_app_finds_the_generated_cases(app, db_session, make_client, make_staff, monkeypatch):
    from argon2 import PasswordHasher

    from portal.accounts import passwords

    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    _generate(db_session)
    _staff, secret = make_staff("scaleclerk", roles={Role.ACCEPTOR, Role.REVIEWER})
    db_session.flush()
    clerk = log_in_staff(make_client(), "scaleclerk", secret)
    in_review = db_session.execute(select(Application).where(Application.queue == "review")
                                   .order_by(Application.work_due, Application.id)).unique().scalars().first()
    page = clerk.get("/staff/queues/review").get_data(as_text=True)
    assert numbers.mask(in_review.number) in page or in_review.number in page  # first by deadline

    # the ID search finds one generated person's cases, and only theirs
    person = in_review.person or db_session.get(Person, in_review.applicant.person_id)
    theirs = db_session.execute(select(Application).where(
        Application.person_id == person.id, Application.queue == "review")).unique().scalars().all()
    page = clerk.get("/staff/queues/review").get_data(as_text=True)
    response = clerk.post("/staff/search", data={"csrf_token": csrf_from(page), "queue": "review",
                                                 "id_number": person.id_number})
    assert response.status_code == 302
    found = clerk.get("/staff/queues/review").get_data(as_text=True)
    listed = {c.id for c in db_session.execute(select(Application).where(Application.queue == "review"))
              .unique().scalars() if f"/staff/cases/{c.id}\"" in found}
    assert listed == {c.id for c in theirs} and listed
    assert clerk.get(f"/staff/cases/{in_review.id}").status_code == 200

    # the applicant logs in with the phone on record, is already bound, and sees their cases
    applicant = in_review.applicant
    browser = log_in_by_code(make_client(), db_session, applicant.phone)
    mine = browser.get("/applications/").get_data(as_text=True)
    assert in_review.number in mine
    assert browser.get(f"/applications/{in_review.id}").status_code == 200
    assert browser.get("/me/records").status_code == 200


def test_the_command_files_the_cases(app, db_session):
    result = app.test_cli_runner().invoke(args=["portal", "demo", "--reset", "--persons", "60", "--units", "4",
                                                "--cases", "30"])
    assert result.exit_code == 0, result.output
    assert "60 persons" in result.output and "30 applications" in result.output
    assert db_session.execute(select(func.count()).select_from(Application)).scalar() == 30
