"""Fixtures of the filing tests: a bound citizen, a unit agent, staff of each role, and cases of known items."""

from __future__ import annotations

import secrets

import pytest
from argon2 import PasswordHasher

from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.accounts import passwords
from portal.accounts.models import Role
from portal.applications import operations as ops
from portal.applications.constants import MaterialMode
from portal.core.audit import Actor
from tests.factories import mobile

# Items of the jilin catalog with known shapes
PROMISE_ITEM = "G002036005000_01_001"  # 门诊慢性病病种待遇认定: individual, 20 working days, 15 fields
NO_FIELDS_ITEM = "G002036003002_01"  # 医疗保险关系转移: individual, 10 working days, no published fields
SELF_SERVICE_ITEM = "G002036003001_01"  # 职工开具参保凭证: instant, completes on submission
MONEY_ITEM = "G002036006001"  # 门诊费用报销: individual, 22 working days, pays money
UNIT_ITEM = "J002036011001"  # 单位缴费基数申报(年度): unit, 5 working days
SYSTEM = Actor.system()


@pytest.fixture(autouse=True)
def request_context(app, db_session):
    """Operations translate their messages, which needs a request (the locale selector)."""
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


@pytest.fixture
def catalog(app):
    return app.extensions["portal_catalog"]


@pytest.fixture
def citizen(db_session, make_person):
    """A citizen account bound to an insured person."""
    phone = mobile()
    person = make_person(name="王晓明", phone=phone)
    code = account_ops.request_login_code(account_ops.CodeRequest(phone), actor=SYSTEM, client_ip="127.0.0.9")
    account = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                          client_ip="127.0.0.9")
    binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number), actor=SYSTEM)
    return account


@pytest.fixture
def agent(db_session, make_unit, make_first_agent):
    unit = make_unit(name="长春测试科技有限公司")
    return make_first_agent(unit, name="赵经办")


@pytest.fixture
def staff(db_session, make_staff, monkeypatch):
    """Staff accounts by role: acceptor, reviewer, finance, chief.

    Their passwords are hashed with a cheap argon2id (the default costs ~0.4 s a hash, and most filing tests
    take four accounts); the hashes stay argon2id, so logging in with them works as usual.
    """
    made = {}
    with monkeypatch.context() as patch:
        patch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        for name, role in (("acceptor", Role.ACCEPTOR), ("reviewer", Role.REVIEWER), ("finance", Role.FINANCE),
                           ("chief", Role.CHIEF)):
            made[name] = make_staff(f"t{name}", roles={role})[0]
    return made


def all_materials(item, mode=MaterialMode.AT_WINDOW) -> dict[str, str]:
    return {m.id: (MaterialMode.DATA_SHARING if m.data_sharing else mode).value for m in item.materials}


@pytest.fixture
def make_case(catalog):
    """A case of ``code`` filed by ``by``; submitted unless ``submit=False``. Required fields get sample values."""

    def _make(code: str, by, *, submit: bool = True, form: dict | None = None, key: str | None = None):
        item = catalog.get(code)
        case = ops.start_application(item, by=by, actor=SYSTEM)
        data = dict(case.form_data)
        for spec in ops.specs_for(case, item):
            if spec.required and spec.key not in data:
                data[spec.key] = sample_value(spec)
        if "payee_name" in data and case.person is not None:  # a claim is paid to the insured person
            data["payee_name"] = case.person.name
        data.update(form or {})
        ops.save_draft(case, ops.DraftInput(form=data, materials=all_materials(item)), by=by, actor=SYSTEM)
        if submit:
            ops.submit_application(case, by=by, actor=SYSTEM, idempotency_key=key)
        return case

    return _make


def _a_month_ago():
    from datetime import timedelta

    from portal.core import clock

    return (clock.today() - timedelta(days=30)).isoformat()


CLAIM_SAMPLES = {
    "number": lambda: f"T{secrets.token_hex(6).upper()}",
    "issued_on": _a_month_ago,
    "total": lambda: "1000.00",
    "self_pay": lambda: "100.00",
    "self_funded": lambda: "100.00",
}


def sample_value(spec):
    from portal.catalog.schema import FieldType

    if spec.key in CLAIM_SAMPLES:  # a claim's invoice row: a unique number, care a month ago, a plausible total
        return CLAIM_SAMPLES[spec.key]()
    match spec.type:
        case FieldType.choice:
            return spec.options[0].zh
        case FieldType.multichoice:
            return [spec.options[0].zh]
        case FieldType.date if spec.key == "start_date":  # a filing starts today or later
            from portal.core import clock

            return clock.today().isoformat()
        case FieldType.date:
            return "2026-05-01"
        case FieldType.division:
            return "440100"  # 广东省广州市
        case FieldType.month:
            return "2026-05"
        case FieldType.number | FieldType.money:
            return "100"
        case FieldType.phone:
            return "13912345678"
        case FieldType.id_number:
            return "34052419800101001X"
        case FieldType.credit_code:
            return "91310110666007217T"
        case FieldType.postcode:
            return "130000"
        case FieldType.email:
            return "a@example.com"
        case FieldType.bank_account:
            return "6222020200112233446"
        case FieldType.boolean:
            return True
        case FieldType.table:
            return [{c.key: sample_value(c) for c in spec.columns}]
        case _:
            return "测试内容"


# --- more items, citizens, and cases driven into any state (the lifecycle and operations tests) -----------

INSTANT_ITEM = "G002036004001"  # 异地安置退休人员备案: 即办件 (当日办结) staff handle; a commitment may replace a proof
WINDOW_ITEM = "G002036001003_01"  # 城乡居民参保登记: 即办件 with an annual_window rule (10-01..12-31)
INSTITUTION_ITEM = "G002036009001"  # 医疗机构申请定点协议管理: designated institutions only, 3 months
AGENCY_ITEM = "G002036008003"  # 特殊人群标记: handled inside the agency; nobody files it online
BOTH_ITEM = "G002036001005_01"  # 职工基本信息变更: filed by the insured person or by the unit's agent
# The case variants the lifecycle guards look at, by the item they file
VARIANT_ITEMS = {"promise": PROMISE_ITEM, "money": MONEY_ITEM, "instant": INSTANT_ITEM}
# Who takes each agency action in the helpers (staff fixture keys); applicant actions are the citizen's
STAFF_FOR = {"accept": "acceptor", "refuse": "acceptor", "request_correction": "acceptor",
             "start_review": "reviewer", "approve": "reviewer", "deny": "reviewer",
             "start_payment": "finance", "return_to_review": "finance", "complete": "finance",
             "deliver": "acceptor"}


@pytest.fixture
def make_citizen(db_session, make_person):
    """A citizen account logged in by SMS; bound to a new insured person unless ``bound=False``."""

    def _make(name: str = "李四", *, bound: bool = True):
        phone = mobile()
        person = make_person(name=name, phone=phone)
        code = account_ops.request_login_code(account_ops.CodeRequest(phone), actor=SYSTEM, client_ip="127.0.0.10")
        account = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                              client_ip="127.0.0.10")
        if bound:
            binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number),
                                       actor=SYSTEM)
        return account

    return _make


def advance(case, staff, until: str):
    """Take a submitted money case through the agency's steps (accept, start review, approve, start payment) by the
    ``staff`` fixture's members, one after the other, until it is in the state ``until``."""
    for step, role in ((ops.accept_application, "acceptor"), (ops.start_review, "reviewer"),
                       (ops.approve_application, "reviewer"), (ops.start_payment, "finance")):
        if case.state == until:
            break
        step(case, by=staff[role], actor=SYSTEM)
    assert case.state == until, (case.state, until)
    return case


def first_material(item) -> str:
    """The id of the item's first material the applicant provides (not obtained by data sharing)."""
    return next(m.id for m in item.materials if not m.data_sharing)


@pytest.fixture
def case_in(catalog, make_case, citizen, staff):
    """A case of ``citizen`` driven into ``state`` through the real operations, by the ``staff`` fixture.

    ``variant`` picks the item (promise, money or instant, see VARIANT_ITEMS); ``accepted`` says whether
    the one-time notice of a correction_requested or resubmitted case came after acceptance. The clock is
    whatever the caller froze (or the real one).
    """
    from portal.applications.constants import Defect, State

    def _notice(case):
        entry = ops.NoticeEntry(first_material(catalog.get(case.item_code)), Defect.MISSING, "请补充")
        ops.request_correction(case, ops.NoticeInput((entry,), new_defect=bool(case.notices)),
                               by=staff["acceptor"], actor=SYSTEM)

    def _resubmit(case):
        listed = case.open_notice.material_ids
        ops.resubmit_application(case, ops.Resubmission(materials=dict.fromkeys(listed, MaterialMode.AT_WINDOW.value)),
                                 by=citizen, actor=SYSTEM)

    def _drive(state, variant: str = "promise", *, accepted: bool = False):
        state = State(state)
        case = make_case(VARIANT_ITEMS[variant], citizen, submit=state is not State.DRAFT)
        if state in {State.DRAFT, State.SUBMITTED}:
            return case
        if state is State.WITHDRAWN:
            ops.withdraw_application(case, by=citizen, actor=SYSTEM, reason="不再需要")
            return case
        if state is State.NOT_ACCEPTED:
            ops.refuse_application(case, "不属于受理范围", by=staff["acceptor"], actor=SYSTEM)
            return case
        if state in {State.CORRECTION_REQUESTED, State.RESUBMITTED}:
            if accepted:
                ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
            _notice(case)
            if state is State.RESUBMITTED:
                _resubmit(case)
            return case
        ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
        if state is State.ACCEPTED:
            return case
        if state in {State.COMPLETED, State.DELIVERED} and variant == "instant":
            ops.complete_application(case, by=staff["acceptor"], actor=SYSTEM, result="已备案")
        else:
            ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
            if state is State.UNDER_REVIEW:
                return case
            if state is State.DENIED:
                ops.deny_application(case, "材料不符合规定", by=staff["reviewer"], actor=SYSTEM)
                return case
            ops.approve_application(case, by=staff["reviewer"], actor=SYSTEM, result="审核通过")
            if state is State.APPROVED:
                return case
            if variant == "money":
                ops.start_payment(case, by=staff["finance"], actor=SYSTEM)
                if state is State.PAYING:
                    return case
            ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
        if state is State.DELIVERED:
            ops.deliver_application(case, by=staff["acceptor"], actor=SYSTEM)
        assert case.state == state, (case.state, state, variant)
        return case

    return _drive
