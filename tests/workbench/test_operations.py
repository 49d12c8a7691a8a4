"""Working cases: claiming (one worker at a time), assigning, releasing, deciding on a claimed case at the version
shown, separation of duties (S7), batch acceptance of complete 即办件, and the audit of who opened a case."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.applications import operations as case_ops
from portal.applications.constants import Action, Defect, MaterialMode, State
from portal.core.audit import AuditEvent, actor_of
from portal.core.errors import Conflict, PermissionDenied, ValidationFailed
from portal.insurance.models import id_number_index
from portal.workbench import operations as ops
from portal.workbench.permissions import actions_for
from tests.workbench.conftest import INSTANT_ITEM, MONEY_ITEM, PROMISE_ITEM, SYSTEM


def _decide(case, action, who, **kwargs):
    ops.decide(case, ops.Decision(action, **kwargs), by=who, actor=SYSTEM)


# --- claiming ----------------------------------------------------------------------------------------


def test_claim_sets_the_assignee_and_a_second_claim_is_told_who_has_it(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.claim_case(case, by=staff["acceptor"], actor=SYSTEM)
    assert case.assignee_id == staff["acceptor"].id and case.assigned_at is not None
    with pytest.raises(Conflict, match="Tacceptor is already working on this case"):
        ops.claim_case(case, by=staff["chief"], actor=SYSTEM)


def test_claim_with_a_stale_version_is_refused(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    shown = case.version
    ops.claim_case(case, by=staff["acceptor"], actor=SYSTEM)
    ops.release_case(case, by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(Conflict, match="changed this case"):
        ops.claim_case(case, by=staff["chief"], actor=SYSTEM, version=shown)


def test_nobody_claims_a_case_they_have_nothing_to_do_on(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)  # submitted: acceptance; a reviewer or finance has no step here
    for role in ("finance",):  # a reviewer could still send a notice
        with pytest.raises(PermissionDenied, match="nothing on this case you can do"):
            ops.claim_case(case, by=staff[role], actor=SYSTEM)
    assert case.assignee_id is None


def test_release_by_the_assignee_or_a_chief_only(make_case, citizen, staff, make_worker):
    case = make_case(PROMISE_ITEM, citizen)
    other, _ = make_worker("other_acceptor", Role.ACCEPTOR)
    ops.claim_case(case, by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(PermissionDenied):
        ops.release_case(case, by=other, actor=SYSTEM)
    ops.release_case(case, by=staff["chief"], actor=SYSTEM)
    assert case.assignee_id is None
    ops.claim_case(case, by=other, actor=SYSTEM)
    assert case.assignee_id == other.id


def test_only_a_chief_assigns_and_only_to_someone_who_can_take_the_next_step(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    with pytest.raises(PermissionDenied, match="section chief"):
        ops.assign_case(case, staff["acceptor"], by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(PermissionDenied, match="cannot take the next step"):
        ops.assign_case(case, staff["finance"], by=staff["chief"], actor=SYSTEM)
    ops.assign_case(case, staff["acceptor"], by=staff["chief"], actor=SYSTEM)
    assert case.assignee_id == staff["acceptor"].id
    assert staff["acceptor"] in ops.staff_choices(case) and staff["finance"] not in ops.staff_choices(case)


# --- deciding ----------------------------------------------------------------------------------------


def test_deciding_needs_the_case_claimed_by_the_decider(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    with pytest.raises(PermissionDenied, match="Take the case first"):
        _decide(case, Action.ACCEPT, staff["acceptor"])
    ops.claim_case(case, by=staff["chief"], actor=SYSTEM)
    with pytest.raises(PermissionDenied, match="Tchief is working on this case"):
        _decide(case, Action.ACCEPT, staff["acceptor"])
    assert case.state == State.SUBMITTED


def test_a_decision_on_a_stale_page_is_refused(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.claim_case(case, by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(Conflict):
        ops.decide(case, ops.Decision(Action.ACCEPT), by=staff["acceptor"], actor=SYSTEM, version=case.version - 1)
    ops.decide(case, ops.Decision(Action.ACCEPT), by=staff["acceptor"], actor=SYSTEM, version=case.version)
    assert case.state == State.ACCEPTED


def test_the_claim_follows_the_work_from_desk_to_desk(make_case, citizen, staff):
    """Accepting hands a promise case to review: the acceptor's claim ends. A chief keeps it while they can act."""
    case = make_case(PROMISE_ITEM, citizen)
    ops.claim_case(case, by=staff["acceptor"], actor=SYSTEM)
    _decide(case, Action.ACCEPT, staff["acceptor"])
    assert case.assignee_id is None and case.queue == "review"
    ops.claim_case(case, by=staff["chief"], actor=SYSTEM)
    _decide(case, Action.START_REVIEW, staff["chief"])
    _decide(case, Action.APPROVE, staff["chief"], result="审核通过", valid_until="2099-12-31")  # its validity
    assert case.assignee_id == staff["chief"].id  # completing is next, and the chief may do it
    _decide(case, Action.COMPLETE, staff["chief"], result="已办结")
    assert case.state == State.COMPLETED and case.assignee_id is None and case.queue == "done"


def test_a_notice_keeps_the_claim_for_the_corrections(catalog, make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.claim_case(case, by=staff["acceptor"], actor=SYSTEM)
    material = catalog.get(PROMISE_ITEM).materials[0].id
    notice = case_ops.NoticeInput((case_ops.NoticeEntry(material, Defect.MISSING, "缺少"),), note="请补正")
    _decide(case, Action.REQUEST_CORRECTION, staff["acceptor"], notice=notice)
    assert case.state == State.CORRECTION_REQUESTED and case.assignee_id == staff["acceptor"].id
    assert case.queue == "correction" and case.work_due is None


def test_refusing_needs_a_reason(make_case, citizen, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.claim_case(case, by=staff["acceptor"], actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        _decide(case, Action.REFUSE, staff["acceptor"], reason="  ")
    _decide(case, Action.REFUSE, staff["acceptor"], reason="不属于受理范围")
    assert case.state == State.NOT_ACCEPTED and case.queue == "closed" and case.assignee_id is None


# --- separation of duties (S7) -----------------------------------------------------------------------


def test_a_submitter_cannot_review_their_own_case(make_citizen, make_case, make_worker, staff):
    """A member of staff who filed as a citizen (same 身份证) can neither take nor decide their own case."""
    filer = make_citizen("周审核")
    case = make_case(PROMISE_ITEM, filer)
    ops.claim_case(case, by=staff["acceptor"], actor=SYSTEM)
    _decide(case, Action.ACCEPT, staff["acceptor"])
    reviewer, _ = make_worker("zhoushenhe", Role.REVIEWER)
    reviewer.staff_id_index = id_number_index(filer.person.id_number)
    assert actions_for(reviewer, case) == []
    with pytest.raises(PermissionDenied, match="nothing on this case you can do"):
        ops.claim_case(case, by=reviewer, actor=SYSTEM)
    with pytest.raises(PermissionDenied, match="cannot take the next step"):
        ops.assign_case(case, reviewer, by=staff["chief"], actor=SYSTEM)
    # even handed the case directly, the operation refuses the review itself
    case.assignee, case.assignee_id = reviewer, reviewer.id
    with pytest.raises(PermissionDenied, match="a case you filed yourself"):
        _decide(case, Action.START_REVIEW, reviewer)
    assert case.state == State.ACCEPTED


def test_a_submitter_known_by_their_phone_cannot_review_their_case(make_citizen, make_case, make_worker):
    filer = make_citizen("吴审核")
    case = make_case(PROMISE_ITEM, filer)
    chief, _ = make_worker("wukezhang", Role.CHIEF)
    chief.set_phone(filer.phone)
    with pytest.raises(PermissionDenied):
        ops.claim_case(case, by=chief, actor=SYSTEM)


def test_a_money_items_acceptor_cannot_approve_it(make_case, citizen, staff, make_worker):
    case = make_case(MONEY_ITEM, citizen)
    assert case.is_money
    ops.claim_case(case, by=staff["chief"], actor=SYSTEM)
    _decide(case, Action.ACCEPT, staff["chief"])
    _decide(case, Action.START_REVIEW, staff["chief"])
    assert Action.APPROVE not in actions_for(staff["chief"], case)
    with pytest.raises(PermissionDenied, match="another member of staff must approve"):
        _decide(case, Action.APPROVE, staff["chief"])
    assert case.state == State.UNDER_REVIEW
    ops.release_case(case, by=staff["chief"], actor=SYSTEM)  # another reviewer approves it
    ops.claim_case(case, by=staff["reviewer"], actor=SYSTEM)
    _decide(case, Action.APPROVE, staff["reviewer"], result="同意支付")
    assert case.state == State.APPROVED and case.queue == "payment"


def test_a_money_items_approver_cannot_pay_it_out(make_case, citizen, staff, make_worker):
    case = make_case(MONEY_ITEM, citizen)
    second_chief, _ = make_worker("kezhang2", Role.CHIEF)
    ops.claim_case(case, by=staff["acceptor"], actor=SYSTEM)
    _decide(case, Action.ACCEPT, staff["acceptor"])
    ops.claim_case(case, by=second_chief, actor=SYSTEM)
    _decide(case, Action.START_REVIEW, second_chief)
    _decide(case, Action.APPROVE, second_chief)
    assert Action.START_PAYMENT not in actions_for(second_chief, case)
    assert case.assignee_id is None  # nothing left for the approver: back to the payment queue
    ops.claim_case(case, by=staff["finance"], actor=SYSTEM)
    _decide(case, Action.START_PAYMENT, staff["finance"])
    _decide(case, Action.COMPLETE, staff["finance"])
    assert case.state == State.COMPLETED


# --- batch acceptance --------------------------------------------------------------------------------


def test_batch_accepts_complete_instant_cases_and_skips_the_others(make_case, citizen, make_citizen, staff):
    complete = make_case(INSTANT_ITEM, citizen)
    other = make_citizen("钱多多")
    incomplete = make_case(INSTANT_ITEM, other)
    incomplete.materials = dict.fromkeys(incomplete.materials, MaterialMode.NOT_APPLICABLE.value)  # as if lost
    promise = make_case(PROMISE_ITEM, make_citizen("孙一"))
    taken = make_case(INSTANT_ITEM, make_citizen("李二"))
    ops.claim_case(taken, by=staff["chief"], actor=SYSTEM)
    result = ops.batch_accept([complete.id, incomplete.id, promise.id, taken.id], by=staff["acceptor"], actor=SYSTEM)
    assert [c.id for c in result.accepted] == [complete.id]
    assert complete.state == State.ACCEPTED and complete.queue == "review"
    skipped = {c.id: why for c, why in result.skipped}
    assert set(skipped) == {incomplete.id, promise.id, taken.id}
    assert "Materials are missing" in skipped[incomplete.id]
    assert "即办件" in skipped[promise.id]
    assert "Tchief is working" in skipped[taken.id]
    for case in (incomplete, promise, taken):
        assert case.state == State.SUBMITTED


def test_batch_acceptance_respects_roles(make_case, citizen, staff):
    case = make_case(INSTANT_ITEM, citizen)
    result = ops.batch_accept([case.id], by=staff["reviewer"], actor=SYSTEM)
    assert result.accepted == [] and "role" in result.skipped[0][1]


# --- audit -------------------------------------------------------------------------------------------


def test_a_chief_sees_who_opened_a_case_and_nobody_else_does(make_case, citizen, staff, db_session):
    case = make_case(PROMISE_ITEM, citizen)
    ops.record_case_view(case, actor=actor_of(staff["reviewer"]))
    rows = db_session.execute(select(AuditEvent).where(AuditEvent.action == ops.CASE_VIEW)).scalars().all()
    assert [(r.object_id, r.actor_id) for r in rows] == [(str(case.id), str(staff["reviewer"].id))]
    opened = ops.openers(case, by=staff["chief"])
    assert [(o.account_id, o.name, o.what) for o in opened] == [(staff["reviewer"].id, "Treviewer", "case")]
    with pytest.raises(PermissionDenied):
        ops.openers(case, by=staff["acceptor"])


def test_the_staff_identity_command_records_only_the_blind_index(app, make_worker, make_citizen, make_case, db_session):
    """``portal staff identity`` links a staff account to its holder's 身份证; their own case is then refused."""
    filer = make_citizen("郑科长")
    case = make_case(PROMISE_ITEM, filer)
    chief, _ = make_worker("zhengkezhang", Role.CHIEF)
    result = app.test_cli_runner().invoke(args=["portal", "staff", "identity", "zhengkezhang",
                                                "--id-number", filer.person.id_number])
    assert result.exit_code == 0, result.output
    assert chief.staff_id_index == id_number_index(filer.person.id_number)
    assert filer.person.id_number not in result.output
    with pytest.raises(PermissionDenied):
        ops.claim_case(case, by=chief, actor=SYSTEM)
