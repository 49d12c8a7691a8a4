"""Fixtures of the filing tests: a bound citizen, a unit agent, staff of each role, and cases of known items."""

from __future__ import annotations

import pytest

from portal.accounts import operations as account_ops
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
    account_ops.bind_real_name(account, account_ops.RealNameBinding(person.name, person.id_number), actor=SYSTEM)
    return account


@pytest.fixture
def agent(db_session, make_unit, make_first_agent):
    unit = make_unit(name="长春测试科技有限公司")
    return make_first_agent(unit, name="赵经办")


@pytest.fixture
def staff(db_session, make_staff):
    """Staff accounts by role: acceptor, reviewer, finance, chief."""
    made = {}
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
        data.update(form or {})
        ops.save_draft(case, ops.DraftInput(form=data, materials=all_materials(item)), by=by, actor=SYSTEM)
        if submit:
            ops.submit_application(case, by=by, actor=SYSTEM, idempotency_key=key)
        return case

    return _make


def sample_value(spec):
    from portal.catalog.schema import FieldType

    match spec.type:
        case FieldType.choice:
            return spec.options[0].zh
        case FieldType.multichoice:
            return [spec.options[0].zh]
        case FieldType.date:
            return "2026-05-01"
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
            return "6222020200112233445"
        case FieldType.boolean:
            return True
        case FieldType.table:
            return [{c.key: sample_value(c) for c in spec.columns}]
        case _:
            return "测试内容"
