"""The OpenAPI document describes the server (issue 25, point 7): schemathesis generates requests for every
operation of ``/api/v1/openapi.json`` and sends them to the app in-process (WSGI), authenticated as the demo
employee with a bearer token. The bar: no 5xx, and no status code the document does not list.

Bounded: ``PORTAL_SCHEMATHESIS_EXAMPLES`` examples per operation (default 25), so the suite stays quick on two
cores; ``.ci/run`` raises it on both databases.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.accounts import tokens
from portal.applications import operations as case_ops
from portal.core.audit import Actor
from portal.insurance.demo import DEMO_CITIZENS

EXAMPLES = int(os.environ.get("PORTAL_SCHEMATHESIS_EXAMPLES", "25"))
EMPLOYEE = DEMO_CITIZENS[0]
SYSTEM = Actor.system()
ITEM = "G002036005000_01_001"  # 门诊慢性病病种待遇认定: an individual item of the jilin guide


@pytest.fixture
def citizen(app, db_session, make_person):
    """The demo employee (张伟明, 13800000001) logged in and bound to their record, with a draft and a case."""
    person = make_person(name=EMPLOYEE.name, id_number=EMPLOYEE.id_number, phone=EMPLOYEE.phone)
    with app.test_request_context("/"):
        code = account_ops.request_login_code(account_ops.CodeRequest(EMPLOYEE.phone), actor=SYSTEM,
                                              client_ip="127.0.0.4")
        account = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                              client_ip="127.0.0.4")
        binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number), actor=SYSTEM)
        draft = case_ops.start_application(app.extensions["portal_catalog"].get(ITEM), by=account, actor=SYSTEM)
    db_session.commit()
    return account, {"case_id": draft.id}


def realistic(ids: dict):
    """Half of the generated cases name the citizen's own objects and a real item, so they reach the views."""

    def _apply(case):
        for name, value in ids.items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = value
        if isinstance(case.body, dict) and "item_code" in case.body:
            case.body["item_code"] = ITEM
        return case

    return _apply


def test_the_document_has_no_dangling_reference(client):
    document = client.get("/api/v1/openapi.json").get_json()
    text = json.dumps(document)
    names = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
    assert names <= set(document["components"]["schemas"]) and "#/$defs/" not in text


def test_the_document_states_headers_statuses_and_formats(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    submit = paths["/api/v1/applications/{case_id}/submit"]["post"]["parameters"]
    assert {"name": "Idempotency-Key", "in": "header", "required": True}.items() <= submit[-1].items()
    assert {"200", "201"} <= set(paths["/api/v1/applications"]["post"]["responses"])
    document = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert document["SmsLoginIn"]["properties"]["code"]["pattern"] == "^[0-9]{6}$"
    assert document["SmsLoginIn"]["properties"]["phone"]["pattern"] == "^1[3-9][0-9]{9}$"


def exercise(operation, headers: dict, ids: dict, statuses: Counter) -> str | None:
    """Run the generated cases of one operation; the failure found, or None."""
    strategy = operation.as_strategy()

    @given(case=st.one_of(strategy, strategy.map(realistic(ids))))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call_and_validate(headers=headers, checks=[not_a_server_error, status_code_conformance])
        statuses[response.status_code] += 1

    try:
        check()
    except Exception as failure:  # every operation is tried; all that fail are reported together
        return f"{operation.label}: {str(failure)[:800]}"
    return None


def test_the_api_answers_as_its_document_says(app, db_session, citizen):
    account, ids = citizen
    catalog = app.extensions["portal_catalog"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    seen: dict[str, Counter] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:
        headers = {"Authorization": f"Bearer {tokens.issue_token(account, label='schemathesis')[0]}"}
        with app.test_request_context("/"):  # a draft again, should the operation before have discarded it
            ids["case_id"] = case_ops.resume_or_start(catalog.get(ITEM), by=account, actor=SYSTEM)[0].id
        db_session.commit()  # a fresh token each time: POST /auth/logout revokes it
        problem = exercise(operation, headers, ids, seen.setdefault(operation.label, Counter()))
        if problem:
            failures.append(problem)
    print(*(f"{label}: {dict(counts)}" for label, counts in seen.items()), sep="\n")
    assert not failures, "\n\n".join(failures)
