from portal.applications import operations as ops
from portal.applications.constants import State

from .conftest import MONEY_ITEM, PROMISE_ITEM, SELF_SERVICE_ITEM, SYSTEM, UNIT_ITEM


def test_flow(make_case, citizen, agent, staff):
    case = make_case(PROMISE_ITEM, citizen)
    assert case.state == State.SUBMITTED and case.number
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    assert case.due_date
    ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
    ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM)
    ops.complete_application(case, by=staff["reviewer"], actor=SYSTEM)
    assert case.state == State.COMPLETED
    inst = make_case(SELF_SERVICE_ITEM, citizen)
    assert inst.state == State.COMPLETED
    money = make_case(MONEY_ITEM, citizen)
    assert money.is_money
    unit = make_case(UNIT_ITEM, agent)
    assert unit.unit_id == agent.unit_id
