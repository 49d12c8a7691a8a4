"""The lifecycle of a case: the transition table, its guards, and the events every move writes.

Every (state, action) pair is tried on a real case driven into the state through the operations: a pair
in ``TRANSITIONS`` moves the case and writes its event; any other pair raises ``InvalidTransition`` and
changes nothing. Each guard is tried on a case it lets through and on one it refuses.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.applications import lifecycle
from portal.applications import operations as ops
from portal.applications.constants import (
    ACTION_LABELS,
    APPLICANT_ACTIONS,
    CLOSED_STATES,
    FINAL_STATES,
    NOTE_ACTIONS,
    REASONED_ACTIONS,
    STATE_LABELS,
    Action,
    Defect,
    MaterialMode,
    State,
)
from portal.applications.lifecycle import GUARDS, TRANSITIONS, available_actions, next_state, refusal
from portal.applications.models import ApplicationEvent
from portal.core import clock
from portal.core.errors import InvalidTransition

from .conftest import STAFF_FOR, SYSTEM, first_material

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Mon 2026-03-02 10:00 in China: the case is driven there
T1 = datetime(2026, 3, 4, 3, 30, tzinfo=UTC)  # Wed 2026-03-04 11:30 in China: the action under test
REASON = "材料与受理条件不符"

# The variant a case needs for a pair of the table to pass its guard: (item variant, notice after acceptance)
VARIANT_FOR = {
    (State.RESUBMITTED, Action.START_REVIEW): ("promise", True),
    (State.ACCEPTED, Action.COMPLETE): ("instant", False),
    (State.APPROVED, Action.START_PAYMENT): ("money", False),
    (State.APPROVED, Action.RETURN_TO_REVIEW): ("money", False),
    (State.PAYING, Action.COMPLETE): ("money", False),
}
# Each guard: the variant it lets through and the variant it refuses
GUARD_VARIANTS = {
    (State.RESUBMITTED, Action.WITHDRAW): (("promise", False), ("promise", True)),
    (State.CORRECTION_REQUESTED, Action.WITHDRAW): (("promise", False), ("promise", True)),
    (State.RESUBMITTED, Action.ACCEPT): (("promise", False), ("promise", True)),
    (State.RESUBMITTED, Action.REFUSE): (("promise", False), ("promise", True)),
    (State.RESUBMITTED, Action.START_REVIEW): (("promise", True), ("promise", False)),
    (State.ACCEPTED, Action.COMPLETE): (("instant", False), ("promise", False)),
    (State.APPROVED, Action.START_PAYMENT): (("money", False), ("promise", False)),
    (State.APPROVED, Action.COMPLETE): (("promise", False), ("money", False)),
    (State.APPROVED, Action.RETURN_TO_REVIEW): (("money", False), ("promise", False)),
}
ALL_PAIRS = list(itertools.product(State, [a for a in Action if a not in NOTE_ACTIONS]))


def _id(pair) -> str:
    return f"{pair[0].value}-{pair[1].value}"


def act(case, action: Action, *, citizen, staff, catalog, reason: str | None = None) -> None:
    """Take ``action`` on ``case`` through its operation, as the person who would take it."""
    by = citizen if action in APPLICANT_ACTIONS else staff[STAFF_FOR[action.value]]
    match action:
        case Action.SUBMIT:
            ops.submit_application(case, by=by, actor=SYSTEM)
        case Action.WITHDRAW:
            ops.withdraw_application(case, by=by, actor=SYSTEM, reason=reason)
        case Action.ACCEPT:
            ops.accept_application(case, by=by, actor=SYSTEM)
        case Action.REFUSE:
            ops.refuse_application(case, reason or REASON, by=by, actor=SYSTEM)
        case Action.REQUEST_CORRECTION:
            entry = ops.NoticeEntry(first_material(catalog.get(case.item_code)), Defect.DEFECTIVE, "复印件不清晰")
            ops.request_correction(case, ops.NoticeInput((entry,), new_defect=bool(case.notices)), by=by,
                                   actor=SYSTEM)
        case Action.RESUBMIT:
            notice = case.open_notice
            listed = notice.material_ids if notice else [first_material(catalog.get(case.item_code))]
            supplied = dict.fromkeys(listed, MaterialMode.AT_WINDOW.value)
            ops.resubmit_application(case, ops.Resubmission(materials=supplied), by=by, actor=SYSTEM)
        case Action.START_REVIEW:
            ops.start_review(case, by=by, actor=SYSTEM)
        case Action.APPROVE:
            ops.approve_application(case, by=by, actor=SYSTEM)
        case Action.DENY:
            ops.deny_application(case, reason or REASON, by=by, actor=SYSTEM)
        case Action.START_PAYMENT:
            ops.start_payment(case, by=by, actor=SYSTEM)
        case Action.RETURN_TO_REVIEW:
            ops.return_to_review(case, reason or REASON, by=by, actor=SYSTEM)
        case Action.COMPLETE:
            ops.complete_application(case, by=by, actor=SYSTEM)
        case Action.DELIVER:
            ops.deliver_application(case, by=by, actor=SYSTEM)


def stored_events(db_session, case) -> int:
    return db_session.execute(select(func.count()).select_from(ApplicationEvent)
                              .where(ApplicationEvent.application_id == case.id)).scalar_one()


@pytest.fixture
def take(citizen, staff, catalog):
    return lambda case, action, **kw: act(case, action, citizen=citizen, staff=staff, catalog=catalog, **kw)


# --- the table itself ----------------------------------------------------------------------------------


def test_every_state_and_action_has_a_label():
    assert set(STATE_LABELS) == set(State)
    assert set(ACTION_LABELS) == set(Action)
    assert all(s.label for s in State) and all(a.label for a in Action)


def test_final_states_have_no_way_out_and_every_other_state_has_one():
    sources = {state for state, _action in TRANSITIONS}
    assert not sources & FINAL_STATES
    assert sources == set(State) - FINAL_STATES
    assert FINAL_STATES | {State.COMPLETED} == CLOSED_STATES


def test_every_state_can_be_reached_from_a_draft():
    reached, frontier = {State.DRAFT}, [State.DRAFT]
    while frontier:
        here = frontier.pop()
        for (state, _action), after in TRANSITIONS.items():
            if state is here and after not in reached:
                reached.add(after)
                frontier.append(after)
    assert reached == set(State)


def test_guards_guard_moves_of_the_table_and_each_is_tested_here():
    assert set(GUARDS) <= set(TRANSITIONS)
    assert set(GUARD_VARIANTS) == set(GUARDS)


def test_the_refusal_the_denial_and_the_return_to_review_are_the_reasoned_actions():
    assert {Action.REFUSE, Action.DENY, Action.RETURN_TO_REVIEW} == REASONED_ACTIONS
    assert {TRANSITIONS[k] for k in TRANSITIONS if k[1] in REASONED_ACTIONS} == {
        State.NOT_ACCEPTED, State.DENIED, State.UNDER_REVIEW}


# --- every pair, on a real case -------------------------------------------------------------------------


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=[_id(p) for p in ALL_PAIRS])
def test_every_state_and_action_pair(pair, case_in, take, citizen, staff, db_session):
    state, action = pair
    variant, accepted = VARIANT_FOR.get(pair, ("money", False) if state is State.PAYING else ("promise", False))
    with clock.frozen(T0):
        case = case_in(state, variant, accepted=accepted)
    assert case.state == state
    events_before, version_before = stored_events(db_session, case), case.version
    reason = "申请人补充说明" if action is Action.WITHDRAW else (REASON if action in REASONED_ACTIONS else None)

    if pair not in TRANSITIONS:
        with clock.frozen(T1), pytest.raises(InvalidTransition):
            take(case, action, reason=reason)
        assert case.state == state
        assert stored_events(db_session, case) == events_before == len(case.events)
        assert case.version == version_before
        return

    with clock.frozen(T1):
        take(case, action, reason=reason)
    assert case.state == TRANSITIONS[pair]
    event = case.events[-1]
    by = citizen if action in APPLICANT_ACTIONS else staff[STAFF_FOR[action.value]]
    assert (event.action, event.from_state, event.to_state) == (action, state, TRANSITIONS[pair])
    assert (event.actor_id, event.actor_kind, event.actor_role) == (by.id, by.kind, by.audit_role)
    assert event.at == T1
    assert event.reason == reason
    assert stored_events(db_session, case) == events_before + 1
    assert case.updated_at == T1
    if action in (Action.REFUSE, Action.DENY):
        assert case.decision_reason == REASON and case.decided_at == T1
    if action is Action.RETURN_TO_REVIEW:  # the decision is taken again; its reason stays on the event
        assert case.decided_at is None and case.decision_reason is None
    if TRANSITIONS[pair].is_final:
        assert case.closed_at == T1


# --- the guards -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", list(GUARD_VARIANTS), ids=[_id(p) for p in GUARD_VARIANTS])
def test_guard_lets_the_right_case_through(pair, case_in, take):
    state, action = pair
    (variant, accepted), _refused = GUARD_VARIANTS[pair]
    with clock.frozen(T0):
        case = case_in(state, variant, accepted=accepted)
        assert refusal(case, action) is None
        assert action in available_actions(case)
        take(case, action)
    assert case.state == TRANSITIONS[pair]


@pytest.mark.parametrize("pair", list(GUARD_VARIANTS), ids=[_id(p) for p in GUARD_VARIANTS])
def test_guard_refuses_the_wrong_case_and_says_why(pair, case_in, take, db_session):
    state, action = pair
    _allowed, (variant, accepted) = GUARD_VARIANTS[pair]
    with clock.frozen(T0):
        case = case_in(state, variant, accepted=accepted)
        events = stored_events(db_session, case)
        why = refusal(case, action)
        assert why == GUARDS[pair](case) and why
        assert action not in available_actions(case)
        with pytest.raises(InvalidTransition) as error:
            take(case, action)
    assert error.value.message == why
    assert case.state == state
    assert stored_events(db_session, case) == events


def test_withdrawal_after_acceptance_is_refused(case_in, take):
    with clock.frozen(T0):
        accepted = case_in(State.ACCEPTED)
        with pytest.raises(InvalidTransition):
            take(accepted, Action.WITHDRAW)
        waiting = case_in(State.CORRECTION_REQUESTED, accepted=True)
        with pytest.raises(InvalidTransition, match="already been accepted"):
            take(waiting, Action.WITHDRAW)
    assert (accepted.state, waiting.state) == (State.ACCEPTED, State.CORRECTION_REQUESTED)


def test_money_item_cannot_complete_without_paying(case_in, take):
    with clock.frozen(T0):
        case = case_in(State.APPROVED, "money")
        with pytest.raises(InvalidTransition, match="start the payment"):
            take(case, Action.COMPLETE)
        take(case, Action.START_PAYMENT)
        take(case, Action.COMPLETE)
    assert [e.action for e in case.events][-3:] == [Action.APPROVE, Action.START_PAYMENT, Action.COMPLETE]


def test_promise_item_cannot_skip_review(case_in, take):
    with clock.frozen(T0):
        case = case_in(State.ACCEPTED, "promise")
        with pytest.raises(InvalidTransition, match="即办件"):
            take(case, Action.COMPLETE)
    assert case.state == State.ACCEPTED


# --- helpers of the table -------------------------------------------------------------------------------


def test_next_state_reads_the_table(case_in):
    with clock.frozen(T0):
        case = case_in(State.SUBMITTED)
    assert next_state(case, Action.ACCEPT) is State.ACCEPTED
    assert next_state(case, Action.APPROVE) is None


def test_refusal_names_the_action_and_the_state(case_in):
    with clock.frozen(T0):
        case = case_in(State.DRAFT)
    message = refusal(case, Action.APPROVE)
    assert Action.APPROVE.verb in message and State.DRAFT.label in message


@pytest.mark.parametrize(("state", "variant", "accepted", "expected"), [
    (State.DRAFT, "promise", False, [Action.SUBMIT]),  # a draft is discarded, not withdrawn
    (State.SUBMITTED, "promise", False, [Action.WITHDRAW, Action.ACCEPT, Action.REFUSE, Action.REQUEST_CORRECTION]),
    (State.ACCEPTED, "promise", False, [Action.START_REVIEW, Action.REQUEST_CORRECTION]),
    (State.ACCEPTED, "instant", False, [Action.START_REVIEW, Action.REQUEST_CORRECTION, Action.COMPLETE]),
    (State.RESUBMITTED, "promise", False,
     [Action.WITHDRAW, Action.ACCEPT, Action.REFUSE, Action.REQUEST_CORRECTION]),
    (State.RESUBMITTED, "promise", True, [Action.REQUEST_CORRECTION, Action.START_REVIEW]),
    (State.APPROVED, "promise", False, [Action.COMPLETE]),
    (State.APPROVED, "money", False, [Action.START_PAYMENT, Action.RETURN_TO_REVIEW]),
    (State.DELIVERED, "promise", False, []),
])
def test_available_actions_follow_table_order_and_guards(state, variant, accepted, expected, case_in):
    with clock.frozen(T0):
        case = case_in(state, variant, accepted=accepted)
    assert available_actions(case) == expected


def test_lifecycle_module_has_one_transition_table():
    assert lifecycle.TRANSITIONS is TRANSITIONS
    assert all(isinstance(k[0], State) and isinstance(k[1], Action) and isinstance(v, State)
               for k, v in TRANSITIONS.items())


def test_no_move_leads_into_a_state_whose_cases_never_had_a_notice():
    """``Application.open_notice`` skips reading the notices of a draft or a first submission: sound only while no
    move but the first submission leads into those states (a notice moves the case to correction_requested)."""
    from portal.applications.models import NEVER_NOTIFIED

    assert {State.DRAFT.value, State.SUBMITTED.value} == NEVER_NOTIFIED
    into = {after.value for (before, action), after in TRANSITIONS.items()
            if (before, action) != (State.DRAFT, Action.SUBMIT)}
    assert not into & NEVER_NOTIFIED
    assert TRANSITIONS[(State.SUBMITTED, Action.REQUEST_CORRECTION)] is State.CORRECTION_REQUESTED
