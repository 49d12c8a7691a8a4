"""Filing pages: start, draft, submit once, my applications, the case, corrections, withdrawal, receipts.

Browsers log in through the real pages (code read from the SMS outbox) and post forms with their CSRF
token; English pages (``lang=en`` cookie) so messages can be asserted.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.accounts import binding as binding_ops
from portal.applications import operations as ops
from portal.applications.constants import Action, Defect, State
from portal.applications.models import Application, ApplicationEvent
from tests.conftest import csrf_from
from tests.factories import log_in_by_code as login
from tests.factories import mobile, valid_id_number

from .conftest import NO_FIELDS_ITEM, PROMISE_ITEM, SYSTEM, UNIT_ITEM, all_materials, sample_value

ID_SHAPE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE_SHAPE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
TABLE_ITEM = "G002036001005_02_01"  # 职工参保登记: individual, one table "staff" of 7 columns (id_number, mobile …)
PROXY_ITEM = "J002036013001"  # individual, its own typed "proxy_id_number" field


@pytest.fixture
def client(make_client):
    return make_client()


def page_of(browser, url: str, status: int = 200) -> str:
    response = browser.get(url)
    assert response.status_code == status, (url, response.status_code, response.headers.get("Location"))
    return response.get_data(as_text=True)


def form_fields(html: str) -> dict[str, str]:
    """The form as a browser would post it: text inputs with their values, checked boxes, selected options."""
    data: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = (re.search(r'type="([^"]+)"', tag) or [None, "text"])[1]
        value = re.search(r'value="([^"]*)"', tag)
        if kind in {"radio", "checkbox"} and " checked" not in tag:
            continue
        data[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        data[name] = chosen.group(1) if chosen else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[name] = body
    return data


def post_edit(browser, case_id: int, changes: dict, action: str = "save", html: str | None = None):
    html = html or page_of(browser, f"/applications/{case_id}/edit")
    data = form_fields(html) | changes | {"action": action}
    data = {k: v for k, v in data.items() if v is not None}
    return browser.post(f"/applications/{case_id}/edit", data=data)


def start(browser, code: str) -> int:
    html = page_of(browser, f"/apply/{code}")
    response = browser.post(f"/apply/{code}", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/applications/(\d+)/edit", response.headers["Location"]).group(1))


def cases(db_session) -> list[Application]:
    return list(db_session.execute(select(Application).order_by(Application.id)).scalars())


def assert_no_personal_numbers(html: str) -> None:
    assert not ID_SHAPE.search(html), ID_SHAPE.search(html).group()
    assert not MOBILE_SHAPE.search(html), MOBILE_SHAPE.search(html).group()


def required_answers(catalog, code: str, case) -> dict[str, str]:
    """Sample values for every required field that is typed (not locked), as the page names them."""
    item = catalog.get(code)
    values = ops.record_values(case, item)
    out = {}
    for spec in ops.specs_for(case, item):
        if spec.required and not (spec.locked and spec.prefill in values) and spec.type.value != "table":
            value = sample_value(spec)
            out[f"f_{spec.key}"] = value[0] if isinstance(value, list) else ("y" if value is True else value)
    return out


def material_answers(catalog, code: str) -> dict[str, str]:
    """A way of providing every required material, as the page names them."""
    item = catalog.get(code)
    required = {m.id for m in item.materials if m.requirement.value == "required"}
    return {f"m_{m}": mode for m, mode in all_materials(item).items() if m in required}


# --- anonymous ---------------------------------------------------------------------------------------


def test_anonymous_visitor_sees_what_is_needed_and_a_login_prompt(client):
    html = page_of(client, f"/apply/{PROMISE_ITEM}")
    assert "Log in to apply online." in html
    assert f'href="/login?next=/apply/{PROMISE_ITEM}"' in html
    assert "What you will need" in html and "Start the application" not in html
    for url in ("/applications/", "/applications/1", "/applications/1/edit"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_anonymous_post_to_start_creates_nothing(client, db_session):
    token = csrf_from(page_of(client, "/login/citizen"))  # the start page offers no form to anonymous visitors
    response = client.post(f"/apply/{PROMISE_ITEM}", data={"csrf_token": token}, follow_redirects=True)
    assert "Log in to apply online." in response.get_data(as_text=True)
    assert cases(db_session) == []


def test_unknown_item_is_404(client):
    assert client.get("/apply/NO_SUCH_ITEM").status_code == 404


def test_start_without_csrf_is_refused(client, db_session, citizen):
    login(client, db_session, citizen.phone)
    assert client.post(f"/apply/{PROMISE_ITEM}", data={}).status_code == 400
    assert cases(db_session) == []


# --- the draft ---------------------------------------------------------------------------------------


def test_citizen_starts_saves_a_partial_draft_resumes_it_elsewhere_and_submits(client, make_client, db_session,
                                                                              citizen, catalog):
    login(client, db_session, citizen.phone)
    case_id = start(client, PROMISE_ITEM)
    html = page_of(client, f"/applications/{case_id}/edit")
    assert "Save draft" in html and "Submit the application" in html
    response = post_edit(client, case_id, {"f_pooling_area": "长春市", "f_remark": "第一次保存"}, html=html)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/applications/{case_id}/edit")
    assert "Your draft is saved" in page_of(client, response.headers["Location"])
    case = db_session.get(Application, case_id)
    assert case.state == State.DRAFT and case.form_data["pooling_area"] == "长春市"

    # the same person on another device (another browser) finds the draft and carries on
    phone = login(make_client(), db_session, citizen.phone)
    listing = page_of(phone, "/applications/")
    assert f"/applications/{case_id}/edit" in listing
    again = page_of(phone, f"/apply/{PROMISE_ITEM}")
    assert "Continue the draft" in again and "Start the application" not in again
    html = page_of(phone, f"/applications/{case_id}/edit")
    assert 'value="长春市"' in html and "第一次保存" in html
    answers = required_answers(catalog, PROMISE_ITEM, case) | material_answers(catalog, PROMISE_ITEM)
    response = post_edit(phone, case_id, answers, action="submit", html=html)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/applications/{case_id}")
    db_session.expire_all()
    case = db_session.get(Application, case_id)
    assert case.state == State.SUBMITTED and case.number
    landing = page_of(phone, response.headers["Location"])
    assert case.number in landing and "Submitted, awaiting acceptance" in landing
    assert len(cases(db_session)) == 1


def test_starting_again_resumes_the_draft_instead_of_making_another(client, db_session, citizen):
    login(client, db_session, citizen.phone)
    first = start(client, PROMISE_ITEM)
    token = csrf_from(page_of(client, f"/applications/{first}/edit"))
    response = client.post(f"/apply/{PROMISE_ITEM}", data={"csrf_token": token})
    assert response.headers["Location"].endswith(f"/applications/{first}/edit")
    assert len(cases(db_session)) == 1


def test_submitting_an_incomplete_draft_keeps_it_and_names_what_is_missing(client, db_session, citizen):
    login(client, db_session, citizen.phone)
    case_id = start(client, PROMISE_ITEM)
    response = post_edit(client, case_id, {"f_pooling_area": "长春市"}, action="submit")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "cannot be submitted yet" in html and "is required" in html
    # the disease list's hint (where the list comes from) is read with its error
    assert 'href="#f_scope"' in html and 'aria-describedby="f_scope-hint f_scope-error"' in html
    db_session.expire_all()
    case = db_session.get(Application, case_id)
    assert case.state == State.DRAFT and case.form_data["pooling_area"] == "长春市"  # the draft was kept


def test_a_double_submit_with_the_same_key_makes_one_case(client, db_session, citizen, catalog):
    login(client, db_session, citizen.phone)
    case_id = start(client, PROMISE_ITEM)
    case = db_session.get(Application, case_id)
    html = page_of(client, f"/applications/{case_id}/edit")
    key = form_fields(html)["idempotency_key"]
    assert len(key) >= 16
    answers = required_answers(catalog, PROMISE_ITEM, case) | material_answers(catalog, PROMISE_ITEM)
    first = post_edit(client, case_id, answers, action="submit", html=html)
    second = post_edit(client, case_id, answers, action="submit", html=html)  # the same page, clicked twice
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    db_session.expire_all()
    assert len(cases(db_session)) == 1
    submits = db_session.execute(select(func.count()).select_from(ApplicationEvent)
                                 .where(ApplicationEvent.action == Action.SUBMIT.value)).scalar_one()
    assert submits == 1
    assert "already" not in page_of(client, second.headers["Location"])  # no alarming message for a double click


def test_an_invalid_id_number_gives_the_field_message_and_saves_nothing(client, db_session, citizen):
    login(client, db_session, citizen.phone)
    case_id = start(client, PROXY_ITEM)
    before = db_session.get(Application, case_id).form_json
    response = post_edit(client, case_id, {"f_proxy_id_number": "220102198503120011", "f_age": "abc"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert html.count("does not match the others (wrong check digit)") == 2  # in the summary and at the field
    assert 'href="#f_age"' in html and "must be a number" in html  # every problem is listed at once
    assert 'id="f_proxy_id_number-error"' in html and 'href="#f_proxy_id_number"' in html
    assert "220102198503120011" not in html  # never echoed back (S12)
    db_session.expire_all()
    assert db_session.get(Application, case_id).form_json == before


def test_table_rows_are_added_without_javascript_and_saved_numbers_stay_masked(client, db_session, citizen):
    login(client, db_session, citizen.phone)
    case_id = start(client, TABLE_ITEM)
    number, phone = valid_id_number(), mobile()
    row = {"f_staff-0-c_name": "李四", "f_staff-0-c_id_type": "居民身份证", "f_staff-0-c_id_number": number,
           "f_staff-0-c_change_category": "增加", "f_staff-0-c_mobile": phone}
    response = post_edit(client, case_id, row, action="add_row:staff")
    assert response.status_code == 302 and "add=staff" in response.headers["Location"]
    html = page_of(client, response.headers["Location"])
    assert "Row 3" in html and "f_staff-2-c_name" in html  # the saved row, the usual empty one, the added one
    assert number not in html and phone not in html
    assert f"{number[0]}{'*' * 15}{number[-2:]}" in html and f"{phone[:3]}****{phone[-4:]}" in html
    # saving again with the personal-number boxes left empty keeps what was saved
    response = post_edit(client, case_id, {"f_staff-0-c_remark": "新入职"}, html=html)
    assert response.status_code == 302
    db_session.expire_all()
    saved = db_session.get(Application, case_id).form_data["staff"]
    assert saved == [{"name": "李四", "id_type": "居民身份证", "id_number": number, "change_category": "增加",
                      "mobile": phone, "remark": "新入职"}]
    # a row can be removed
    html = page_of(client, f"/applications/{case_id}/edit")
    assert post_edit(client, case_id, {"f_staff-0-remove": "y"}, html=html).status_code == 302
    db_session.expire_all()
    assert "staff" not in db_session.get(Application, case_id).form_data


def test_a_bad_table_cell_is_named_by_row_and_column(client, db_session, citizen):
    login(client, db_session, citizen.phone)
    case_id = start(client, TABLE_ITEM)
    response = post_edit(client, case_id, {"f_staff-0-c_name": "李四", "f_staff-0-c_declared_wage": "abc"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'href="#f_staff-0-c_declared_wage"' in html and "must be a number" in html
    assert "Staff, row 1, Declared wage (yuan/month):" in html  # the summary says where


def test_locked_fields_show_masked_records_and_posted_values_for_them_are_ignored(client, db_session, citizen):
    login(client, db_session, citizen.phone)
    case_id = start(client, PROMISE_ITEM)
    person = citizen.person
    html = page_of(client, f"/applications/{case_id}/edit")
    assert person.id_number not in html and person.phone not in html
    assert f"{person.id_number[0]}{'*' * 15}{person.id_number[-2:]}" in html
    assert f"{person.phone[:3]}****{person.phone[-4:]}" in html and "王*" in html
    assert 'name="f_id_number"' not in html and 'name="f_name"' not in html  # shown, not editable
    forged = {"f_id_number": valid_id_number(), "f_name": "冒名", "f_phone": mobile(), "f_pooling_area": "长春市"}
    assert post_edit(client, case_id, forged, html=html).status_code == 302
    db_session.expire_all()
    data = db_session.get(Application, case_id).form_data
    assert data["id_number"] == person.id_number and data["name"] == person.name and data["phone"] == person.phone


def test_filing_for_someone_else_locks_their_identity_and_keeps_it_masked(client, db_session, citizen):
    login(client, db_session, citizen.phone)
    case_id = start(client, NO_FIELDS_ITEM)
    number = valid_id_number(birth="19450101")
    principal = {"on_behalf": "y", "principal_name": "王大爷", "principal_id_number": number,
                 "principal_relation": "parent"}
    assert post_edit(client, case_id, principal).status_code == 302
    db_session.expire_all()
    case = db_session.get(Application, case_id)
    assert case.on_behalf and case.principal_id_number == number and case.form_data["id_number"] == number
    html = page_of(client, f"/applications/{case_id}/edit")
    assert number not in html and f"{number[0]}{'*' * 15}{number[-2:]}" in html and "Saved as" in html
    assert 'name="f_phone"' in html  # their phone is not in the records of the filer: it is typed
    # unticking the box files for oneself again
    assert post_edit(client, case_id, {"on_behalf": None}, html=html).status_code == 302
    db_session.expire_all()
    case = db_session.get(Application, case_id)
    assert not case.on_behalf and case.form_data["id_number"] == citizen.person.id_number


def test_switching_to_filing_for_someone_else_and_submitting_names_the_new_field(client, db_session, citizen,
                                                                                catalog):
    login(client, db_session, citizen.phone)
    case_id = start(client, NO_FIELDS_ITEM)
    response = post_edit(client, case_id, {"on_behalf": "y", "principal_name": "王大爷", "principal_relation": "parent",
                                           "principal_id_number": valid_id_number(birth="19450101"),
                                           **material_answers(catalog, NO_FIELDS_ITEM)}, action="submit")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'href="#f_phone"' in html and 'id="f_phone-error"' in html and "cannot be submitted yet" in html
    db_session.expire_all()
    assert db_session.get(Application, case_id).on_behalf  # the draft was kept


def test_a_draft_can_be_deleted_with_confirmation(client, db_session, citizen):
    login(client, db_session, citizen.phone)
    case_id = start(client, PROMISE_ITEM)
    token = csrf_from(page_of(client, f"/applications/{case_id}/edit"))
    unconfirmed = client.post(f"/applications/{case_id}/discard", data={"csrf_token": token})
    assert unconfirmed.status_code == 302 and db_session.get(Application, case_id) is not None
    response = client.post(f"/applications/{case_id}/discard", data={"csrf_token": token, "confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/applications/")
    db_session.expire_all()
    assert cases(db_session) == []


# --- units -------------------------------------------------------------------------------------------


def test_an_agent_files_for_the_unit_and_another_agent_of_the_unit_sees_it(client, make_client, db_session, agent,
                                                                          catalog):
    from portal.accounts import operations as account_ops

    colleague = account_ops.add_agent(agent.unit, account_ops.NewAgent(mobile(), "钱经办"), by=agent, actor=SYSTEM)
    db_session.commit()
    login(client, db_session, agent.phone, unit=agent.unit)
    case_id = start(client, UNIT_ITEM)
    html = page_of(client, f"/applications/{case_id}/edit")
    assert agent.unit.name in html and 'name="f_unit_name"' not in html  # the unit comes from the records
    answers = {"f_year": "2026", "f_total_staff": "10", "f_active": "9", "f_retired": "1",
               "f_last_year_avg_wage": "6000.00", "f_base_total": "60000", "m_base_declaration": "at_window"}
    response = post_edit(client, case_id, answers, action="submit", html=html)
    assert response.status_code == 302, response.get_data(as_text=True)
    number = db_session.get(Application, case_id).number
    other = login(make_client(), db_session, colleague.phone, unit=agent.unit)
    listing = page_of(other, "/applications/")
    assert number in listing and "All applications of your unit" in listing
    assert number in page_of(other, f"/applications/{case_id}")


def test_my_applications_lists_newest_first_with_flags_and_pages(client, db_session, citizen, make_case):
    made = [make_case(PROMISE_ITEM, citizen) for _ in range(21)]
    draft = make_case(NO_FIELDS_ITEM, citizen, submit=False)
    db_session.commit()
    login(client, db_session, citizen.phone)
    first = page_of(client, "/applications/")
    assert "Page 1 of 2" in first and "Submitted, awaiting acceptance" in first
    assert f"/applications/{draft.id}/edit" in first  # drafts listed on their own
    assert first.index(made[-1].number) < first.index(made[-2].number)  # newest first
    assert made[0].number not in first
    second = page_of(client, "/applications/?page=2")
    assert made[0].number in second and "Page 2 of 2" in second
    assert page_of(client, "/applications/?page=999999999999999999999").count("/applications/") >= 1


# --- another person's case ---------------------------------------------------------------------------


@pytest.fixture
def stranger(db_session, make_person):
    """A second citizen, bound to another insured person."""
    from portal.accounts import operations as account_ops

    phone = mobile()
    person = make_person(name="陌生人", phone=phone)
    issued = account_ops.request_login_code(account_ops.CodeRequest(phone), actor=SYSTEM, client_ip="127.0.0.8")
    account = account_ops.login_with_code(account_ops.CodeLogin(issued.code, handle=issued.handle), actor=SYSTEM,
                                          client_ip="127.0.0.8")
    binding_ops.bind_real_name(account, binding_ops.RealNameBinding(person.name, person.id_number), actor=SYSTEM)
    return account


@pytest.mark.parametrize("state", ["draft", "submitted", "correction"])
def test_another_citizen_gets_404_on_every_case_route(client, db_session, citizen, stranger, make_case, staff, state):
    case = make_case(PROMISE_ITEM, citizen, submit=state != "draft")
    if state == "correction":
        ops.request_correction(case, ops.NoticeInput((ops.NoticeEntry("diagnosis", Defect.MISSING),)),
                               by=staff["acceptor"], actor=SYSTEM)
    db_session.commit()
    login(client, db_session, stranger.phone)
    token = csrf_from(page_of(client, "/applications/"))
    for path in ("edit", "", "correct", "receipt", "receipt.pdf"):
        url = f"/applications/{case.id}/{path}".rstrip("/")
        assert client.get(url).status_code == 404, url
    for path in ("edit", "withdraw", "correct", "discard"):
        url = f"/applications/{case.id}/{path}"
        assert client.post(url, data={"csrf_token": token, "confirm": "y", "action": "submit"}).status_code == 404
    assert client.get("/applications/999999").status_code == 404
    assert case.number is None or case.number not in page_of(client, "/applications/")
    db_session.expire_all()
    assert db_session.get(Application, case.id).state == {"draft": State.DRAFT, "submitted": State.SUBMITTED,
                                                          "correction": State.CORRECTION_REQUESTED}[state]


# --- withdrawal --------------------------------------------------------------------------------------


def test_withdraw_before_acceptance_with_confirmation(client, db_session, citizen, make_case):
    case = make_case(PROMISE_ITEM, citizen)
    db_session.commit()
    login(client, db_session, citizen.phone)
    html = page_of(client, f"/applications/{case.id}")
    assert "Withdraw the application" in html
    token = csrf_from(html)
    unconfirmed = client.post(f"/applications/{case.id}/withdraw", data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.get_data(as_text=True)
    response = client.post(f"/applications/{case.id}/withdraw",
                           data={"csrf_token": token, "confirm": "y", "reason": "材料不全，下次再办"})
    assert response.status_code == 302
    page = page_of(client, response.headers["Location"])
    assert "Your application was withdrawn." in page and "Withdrawn by the applicant" in page
    db_session.expire_all()
    assert db_session.get(Application, case.id).state == State.WITHDRAWN


def test_withdraw_after_acceptance_is_refused_with_a_message(client, db_session, citizen, make_case, staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
    db_session.commit()
    login(client, db_session, citizen.phone)
    html = page_of(client, f"/applications/{case.id}")
    assert "Withdraw the application" not in html  # not offered any more
    response = client.post(f"/applications/{case.id}/withdraw", data={"csrf_token": csrf_from(html), "confirm": "y"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "not possible while the case is" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Application, case.id).state == State.ACCEPTED


def test_withdraw_without_csrf_is_refused(client, db_session, citizen, make_case):
    case = make_case(PROMISE_ITEM, citizen)
    db_session.commit()
    login(client, db_session, citizen.phone)
    assert client.post(f"/applications/{case.id}/withdraw", data={"confirm": "y"}).status_code == 400
    db_session.expire_all()
    assert db_session.get(Application, case.id).state == State.SUBMITTED


def test_a_citizen_is_told_that_a_unit_item_is_filed_by_the_unit(client, db_session, citizen):
    login(client, db_session, citizen.phone)
    html = page_of(client, f"/apply/{UNIT_ITEM}").replace("&#39;", "'")
    assert "filed by a unit's agent" in html and "Start the application" not in html


# --- the one-time notice -----------------------------------------------------------------------------


def test_correction_flow_lists_the_notice_and_resubmits_only_what_it_names(client, db_session, citizen, make_case,
                                                                           staff):
    case = make_case(PROMISE_ITEM, citizen)
    ops.request_correction(case, ops.NoticeInput((
        ops.NoticeEntry("diagnosis", Defect.MISSING, "请提供二级以上医院的诊断书"),
        ops.NoticeEntry("medical_record", Defect.DEFECTIVE, "病历缺少首页"),
    ), note="补齐后即可受理"), by=staff["acceptor"], actor=SYSTEM)
    db_session.commit()
    login(client, db_session, citizen.phone)
    html = page_of(client, f"/applications/{case.id}")
    assert "One-time notice" in html and "请提供二级以上医院的诊断书" in html and "病历缺少首页" in html
    assert "Missing" in html and "Needs correcting" in html and "补齐后即可受理" in html
    assert f"/applications/{case.id}/correct" in html
    assert page_of(client, f"/applications/{case.id}/edit", status=302)  # not editable; sent to the corrections
    page = page_of(client, f"/applications/{case.id}/correct")
    assert 'name="m_diagnosis"' in page and 'name="m_medical_record"' in page
    assert 'name="m_identity"' not in page and 'name="m_test_reports"' not in page and 'name="f_scope"' not in page
    token = csrf_from(page)
    missing = client.post(f"/applications/{case.id}/correct", data={"csrf_token": token, "m_diagnosis": "at_window"})
    assert missing.status_code == 400 and "as the notice asks" in missing.get_data(as_text=True)
    response = client.post(f"/applications/{case.id}/correct", data={
        "csrf_token": token, "m_diagnosis": "at_window", "m_medical_record": "at_window", "m_identity": "commitment",
        "note": "已补齐"})
    assert response.status_code == 302
    assert "your corrections were sent" in page_of(client, response.headers["Location"])
    db_session.expire_all()
    case = db_session.get(Application, case.id)
    assert case.state == State.RESUBMITTED and case.notices[0].resolved_at is not None
    assert case.notices[0].response_note == "已补齐"
    assert page_of(client, f"/applications/{case.id}/correct", status=302)  # nothing left to correct


def test_a_notice_listing_the_form_lets_the_applicant_correct_the_form(client, db_session, citizen, make_case, staff):
    from portal.applications.constants import FORM_ENTRY

    case = make_case(PROMISE_ITEM, citizen)
    ops.request_correction(case, ops.NoticeInput((ops.NoticeEntry(FORM_ENTRY, Defect.DEFECTIVE, "病种填写有误"),)),
                           by=staff["acceptor"], actor=SYSTEM)
    db_session.commit()
    login(client, db_session, citizen.phone)
    page = page_of(client, f"/applications/{case.id}/correct")
    assert 'name="f_scope"' in page and "The application form" in page and 'name="m_diagnosis"' not in page
    data = form_fields(page) | {"f_scope": "高血压"}
    assert client.post(f"/applications/{case.id}/correct", data=data).status_code == 302
    db_session.expire_all()
    case = db_session.get(Application, case.id)
    assert case.state == State.RESUBMITTED and case.form_data["scope"] == "高血压"


def test_timeline_shows_the_shift_after_a_notice_given_during_review(client, db_session, citizen, make_case, staff):
    from datetime import UTC, datetime, timedelta

    from portal.core import clock

    with clock.frozen(datetime(2026, 5, 11, 1, 0, tzinfo=UTC)) as frozen:  # Monday 09:00 in Changchun
        case = make_case(PROMISE_ITEM, citizen)
        ops.accept_application(case, by=staff["acceptor"], actor=SYSTEM)
        ops.start_review(case, by=staff["reviewer"], actor=SYSTEM)
        ops.request_correction(case, ops.NoticeInput((ops.NoticeEntry("diagnosis", Defect.MISSING),)),
                               by=staff["reviewer"], actor=SYSTEM)
        db_session.commit()
        due_before = case.due_date
        frozen.tick(timedelta(days=3))  # Thursday: Tuesday and Wednesday were paused (Monday was not counted yet)
        login(client, db_session, citizen.phone)
        page = page_of(client, f"/applications/{case.id}")
        assert "The time limit is paused" in page and "Review office" in page
        token = csrf_from(page_of(client, f"/applications/{case.id}/correct"))
        response = client.post(f"/applications/{case.id}/correct",
                               data={"csrf_token": token, "m_diagnosis": "at_window"})
        assert response.status_code == 302
        page = page_of(client, f"/applications/{case.id}")
    db_session.expire_all()
    case = db_session.get(Application, case.id)
    assert case.due_date > due_before and case.paused_working_days == 2
    assert "Extended by 2 working days: corrections 05-11 to 05-14" in page
    assert "Acceptance window" in page and "Review office" in page and "You" in page
    assert staff["acceptor"].display_name not in page and staff["reviewer"].username not in page


# --- personal data on every page (S12) --------------------------------------------------------------


def test_no_page_shows_a_full_id_number_or_mobile(client, db_session, citizen, make_case, staff, catalog):
    case = make_case(PROMISE_ITEM, citizen)
    ops.request_correction(case, ops.NoticeInput((ops.NoticeEntry("diagnosis", Defect.MISSING),)),
                           by=staff["acceptor"], actor=SYSTEM)
    proxy = make_case(PROXY_ITEM, citizen, submit=False,
                      form={"proxy_id_number": valid_id_number(), "proxy_phone": mobile()})
    db_session.commit()
    login(client, db_session, citizen.phone)
    table_case = start(client, TABLE_ITEM)
    post_edit(client, table_case, {"f_staff-0-c_name": "李四", "f_staff-0-c_id_number": valid_id_number(),
                                   "f_staff-0-c_mobile": mobile(), "f_filled_by_phone": mobile()})
    behalf = start(client, NO_FIELDS_ITEM)
    post_edit(client, behalf, {"on_behalf": "y", "principal_name": "王大爷", "principal_id_number": valid_id_number(),
                               "principal_relation": "parent", **material_answers(catalog, NO_FIELDS_ITEM)})
    submitted = post_edit(client, behalf, {"f_phone": mobile()}, action="submit")
    assert submitted.status_code == 302, re.findall(r'<li>.*?</li>', submitted.get_data(as_text=True))[:8]
    pages = [f"/apply/{PROMISE_ITEM}", "/applications/", f"/applications/{case.id}",
             f"/applications/{case.id}/correct", f"/applications/{proxy.id}/edit", f"/applications/{table_case}/edit",
             f"/applications/{behalf}", "/me"]
    for url in pages:
        assert_no_personal_numbers(page_of(client, url))
    # refused posts do not echo what was typed either
    refused = post_edit(client, proxy.id, {"f_proxy_id_number": "220102198503120011", "f_proxy_phone": "13812345678",
                                           "f_age": "abc"})
    assert refused.status_code == 400
    assert_no_personal_numbers(refused.get_data(as_text=True))


# --- receipts ----------------------------------------------------------------------------------------


def test_receipt_pages_issue_a_token_and_serve_the_pdf_safely(client, db_session, citizen, make_case):
    pytest.importorskip("portal.documents.receipts")
    from portal.applications.models import ProgressToken

    case = make_case(PROMISE_ITEM, citizen)
    db_session.commit()
    login(client, db_session, citizen.phone)
    html = client.get(f"/applications/{case.id}/receipt")
    assert html.status_code == 200 and case.number[-2:] in html.get_data(as_text=True)
    pdf = client.get(f"/applications/{case.id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f"attachment; filename*=UTF-8''{case.number}.pdf"
    assert pdf.headers["Cache-Control"] == "no-store" and pdf.headers["X-Content-Type-Options"] == "nosniff"
    db_session.expire_all()
    tokens = db_session.execute(select(func.count()).select_from(ProgressToken)
                                .where(ProgressToken.application_id == case.id)).scalar_one()
    assert tokens == 2  # one per print


def test_a_draft_has_no_receipt(client, db_session, citizen):
    login(client, db_session, citizen.phone)
    case_id = start(client, PROMISE_ITEM)
    response = client.get(f"/applications/{case_id}/receipt.pdf")
    assert response.status_code == 302
    assert "A draft has no receipt." in page_of(client, f"/applications/{case_id}/edit")


# --- more of the start page --------------------------------------------------------------------------


def test_start_page_shows_findings_with_their_severity(client, db_session, citizen):
    from datetime import UTC, datetime

    from portal.core import clock

    with clock.frozen(datetime(2026, 5, 11, 1, 0, tzinfo=UTC)):  # outside the yearly window 10-01..12-31
        login(client, db_session, citizen.phone)
        html = page_of(client, "/apply/G002036001003_01")
    assert "Rules that apply" in html and 'class="tag tag-warning">Please check<' in html
    assert "Start the application" in html  # a warning informs; it does not stop the applicant


def test_staff_do_not_file_and_have_no_list_of_their_own(client, db_session, make_staff, staff_login):
    from tests.factories import STAFF_PASSWORD

    _account, secret = make_staff("tclerk")
    db_session.commit()
    response = staff_login("tclerk", secret, STAFF_PASSWORD)
    assert response.status_code == 302
    assert "Agency staff do not file applications." in page_of(client, f"/apply/{PROMISE_ITEM}")
    assert client.get("/applications/").status_code == 404


def test_the_default_language_pages_have_the_same_structure(make_client, db_session, citizen, catalog):
    browser = login(make_client(), db_session, citizen.phone)
    browser.delete_cookie("lang")  # Simplified Chinese, the default
    case_id = start(browser, PROMISE_ITEM)
    html = page_of(browser, f"/applications/{case_id}/edit")
    assert '<html lang="zh-Hans">' in html and f"<h1>{catalog.get(PROMISE_ITEM).name.zh}</h1>" in html
    assert 'name="f_pooling_area"' in html and 'name="action" value="submit"' in html
    assert 'id="records-title"' in html and 'id="materials-title"' in html


@pytest.mark.parametrize("payload", [
    {"m_diagnosis": "bogus", "m_identity": "commitment"},
    {"on_behalf": "y", "principal_name": "王" * 500, "principal_relation": "boss", "principal_id_number": "x" * 5000},
    {"f_staff-99999999-c_name": "x", "f_staff-0-c_change_category": "不存在", "f_staff-1-c_declared_wage": "1e999"},
    {"f_insurance_type": "\x00\x01", "f_date": "2026-02-30", "f_age": "-1", "f_scope": "\u202e" * 3000},
    {"action": "add_row:<script>", "idempotency_key": "'; DROP TABLE application; --"},
    {"action": "submit", "idempotency_key": "k" * 500},
])
def test_bad_input_never_gives_a_500(client, db_session, citizen, payload):
    login(client, db_session, citizen.phone)
    for code in (PROMISE_ITEM, TABLE_ITEM):
        case_id = start(client, code)
        response = post_edit(client, case_id, payload)
        assert response.status_code in {302, 400}, response.get_data(as_text=True)[-2000:]
        assert client.get(f"/applications/{case_id}/edit").status_code == 200
    assert client.get("/applications/?page=-5").status_code == 200
    assert client.get("/applications/?page=abc").status_code == 200
