"""Query pages and API of a person and of a unit: what they show, that they are theirs only (S6), paginated,
masked (S12), and the unit's downloads: headers (S10), masked content, an audit row each."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import event, select

from portal.accounts import tokens
from portal.core.audit import AuditEvent

from .records import EMPLOYEE_MONTHS

ID_SHAPE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE_SHAPE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def sweep(text: str, insured) -> None:
    """Nothing unmasked: no 18-digit ID, no 11-digit mobile, no full name of anyone on the unit's records."""
    assert not ID_SHAPE.search(text), ID_SHAPE.search(text).group()
    assert not MOBILE_SHAPE.search(text), MOBILE_SHAPE.search(text).group()
    for person in [insured.person, *insured.colleagues]:
        assert person.name not in text, person.name
        assert person.id_number not in text and person.phone not in text


def page(browser, url: str, status: int = 200) -> str:
    response = browser.get(url)
    assert response.status_code == status, (url, response.status_code, response.headers.get("Location"))
    return response.get_data(as_text=True)


# --- the person ----------------------------------------------------------------------------------------


def _statements(app, db_session, browser, url: str) -> list[str]:
    """The statements one request of ``url`` sends (from a session holding nothing yet)."""
    db_session.flush()
    db_session.expunge_all()
    seen: list[str] = []

    def on_sql(_conn, _cursor, statement, *_args):
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            seen.append(" ".join(statement.split()))

    engine = app.extensions["portal_db_engine"]
    event.listen(engine, "before_cursor_execute", on_sql)
    try:
        page(browser, url)
    finally:
        event.remove(engine, "before_cursor_execute", on_sql)
    return seen


def test_person_records_cost_the_same_statements_however_long_the_history(app, db_session, citizen_browser,
                                                                         insured):
    """Two enrolments with two events, then ten with thirty-four and more
    contributions: the same few statements
    (the enrolments are read once, with their events: the overview takes its lines from the history)."""
    from portal.insurance.constants import EnrolmentEventKind, EnrolmentStatus, InsuranceType
    from portal.insurance.models import Enrolment, EnrolmentEvent

    from .records import contribution

    page(citizen_browser, "/me/records")  # what a first visit reads once (e.g. the day's calendar)
    small = _statements(app, db_session, citizen_browser, "/me/records")
    person_id = insured.person.id
    for year in range(2008, 2016):
        enrolment = Enrolment(person_id=person_id, insurance_type=InsuranceType.RESIDENT_MEDICAL,
                              status=EnrolmentStatus.TERMINATED, start_date=date(year, 1, 1),
                              end_date=date(year, 12, 31))
        db_session.add(enrolment)
        db_session.flush()
        db_session.add_all(EnrolmentEvent(enrolment_id=enrolment.id, kind=kind, effective_date=date(year, m, 1),
                                          note=f"第{year}年" if kind is EnrolmentEventKind.INTERRUPTED else None)
                           for m, kind in ((1, EnrolmentEventKind.ADDED), (3, EnrolmentEventKind.INTERRUPTED),
                                           (6, EnrolmentEventKind.RESUMED), (12, EnrolmentEventKind.TERMINATED)))
        db_session.add(contribution(insured.person, date(year, 1, 1), InsuranceType.RESIDENT_MEDICAL,
                                    personal="300.00"))
    large = _statements(app, db_session, citizen_browser, "/me/records")
    assert len(small) == len(large) <= 7, large  # login, enrolments+events, totals, balance, benefits, caps, inbox
    assert [s.split(" FROM ")[0] for s in small] == [s.split(" FROM ")[0] for s in large]
    assert sum(" FROM enrolment" in s for s in large) == 1
    html = page(citizen_browser, "/me/records")
    assert "第2013年" in html and "转为职工参保" in html  # the events of old and new enrolments, each under its own


def test_person_records_show_enrolment_history_and_benefits(citizen_browser, insured):
    html = page(citizen_browser, "/me/records")
    assert "Enrolment history" in html and "Transferred" not in html
    assert "转为职工参保" in html and "M03900" in html
    assert "Employee basic medical insurance" in html and "Terminated" in html
    assert ID_SHAPE.search(html) is None and MOBILE_SHAPE.search(html) is None


def test_person_contributions_give_months_paid_per_year_and_the_months_of_a_year(citizen_browser):
    html = page(citizen_browser, "/me/records/contributions")
    assert f"{EMPLOYEE_MONTHS} months" in html  # 累计实际缴费月数 of the employee scheme
    assert "Months of 2026" in html  # the newest year by default
    assert html.count("2026-0") >= 3  # 2026-01, 02 paid and 03 in arrears
    html_2025 = page(citizen_browser, "/me/records/contributions?year=2025")
    assert "Months of 2025" in html_2025 and "2025-12" in html_2025
    assert "Months of 2026" in page(citizen_browser, "/me/records/contributions?year=1900")  # unknown: newest


def test_person_account_is_paginated_newest_first(citizen_browser):
    first = page(citizen_browser, "/me/records/account")
    assert "¥1,234.56" in first and "Page 1 of 2" in first
    assert first.index("2027") < first.index("2026")  # 30 months from 2025-01: newest (2027-06) first
    second = page(citizen_browser, "/me/records/account?page=2")
    assert "Page 2 of 2" in second and "2025" in second
    assert "Page 2 of 2" in page(citizen_browser, "/me/records/account?page=999")  # clamped, not an error


def test_english_pages_mark_the_chinese_of_the_records_as_quoted(citizen_browser, insured, db_session):
    """A movement's note is written in Chinese on the records: on an English page it is marked lang="zh-Hans"
    (screen readers switch voice), not left inside the English text."""
    from portal.insurance.models import AccountTransaction

    newest = db_session.execute(select(AccountTransaction).where(
        AccountTransaction.account_id == insured.person.account.id)
        .order_by(AccountTransaction.occurred_on.desc()).limit(1)).scalar_one()
    newest.note = "门诊统筹报销"
    db_session.commit()
    citizen_browser.set_cookie("lang", "en")
    assert '<span lang="zh-Hans">门诊统筹报销</span>' in page(citizen_browser, "/me/records/account")


def test_account_home_links_the_query_pages(citizen_browser):
    html = page(citizen_browser, "/me")
    for url in ("/me/records", "/me/records/contributions", "/me/records/account", "/certificates/"):
        assert f'href="{url}"' in html


@pytest.mark.parametrize("url", ["/unit/records", "/unit/records/staff", "/unit/records/staff.csv",
                                 "/unit/records/contributions.csv"])
def test_a_citizen_has_no_unit_pages(citizen_browser, url):
    page(citizen_browser, url, 404)


@pytest.mark.parametrize("url", ["/me/records", "/me/records/contributions", "/me/records/account"])
def test_an_agent_has_no_person_pages(agent_browser, url):
    page(agent_browser, url, 404)


def test_anonymous_visitors_are_sent_to_log_in(make_client):
    response = make_client().get("/unit/records/staff.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the unit ------------------------------------------------------------------------------------------


def test_unit_staff_page_is_masked_and_one_row_per_person_with_their_insurances(agent_browser, insured,
                                                                                 db_session):
    from datetime import date

    from portal.insurance.constants import InsuranceType
    from portal.insurance.models import Enrolment

    colleague = insured.colleagues[0]  # also in 大额 through the unit: still one row, with both insurances
    db_session.add(Enrolment(person_id=colleague.id, insurance_type=InsuranceType.LARGE_EXPENSE,
                             unit_id=insured.unit.id, start_date=date(2025, 1, 1)))
    db_session.flush()
    html = page(agent_browser, "/unit/records/staff")
    sweep(html, insured)
    assert "欧阳*" in html and "司马*" in html
    assert insured.person.id_number[0] + "*" * 15 + insured.person.id_number[-2:] in html
    assert "(4 persons)" in html  # four persons, five enrolments
    rows = re.findall(r"<tr>\s*<th scope=\"row\".*?</tr>", html, re.S)
    assert len(rows) == 4
    masked = colleague.id_number[0] + "*" * 15 + colleague.id_number[-2:]
    [row] = [r for r in rows if masked in r]
    assert row.count("<li>") == 2
    assert str(InsuranceType.EMPLOYEE_MEDICAL.label) in row and str(InsuranceType.LARGE_EXPENSE.label) in row
    assert 'data-label="Insurances"' in row  # the cards on a phone name each cell


def test_unit_staff_download_is_masked_attachment_and_audited(agent_browser, insured, db_session):
    response = agent_browser.get("/unit/records/staff.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    sweep(text, insured)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Insured person number", "Name", "ID number"]
    assert len(rows) == 1 + 4
    names = {row[1] for row in rows[1:]}
    assert names == {"欧阳*", "司马*"}
    audit = db_session.execute(select(AuditEvent).where(AuditEvent.action == "insurance.unit_staff_download")
                               ).scalars().all()
    assert [(a.object_type, a.object_id) for a in audit] == [("unit", str(insured.unit.id))]


def test_unit_contributions_by_month_with_arrears_and_download(agent_browser, insured):
    html = page(agent_browser, "/unit/records/contributions")
    assert "2026-03" in html and "months in arrears" in html
    sweep(html, insured)
    text = agent_browser.get("/unit/records/contributions.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    march = next(r for r in rows if r[0] == "2026-03")
    # 2026-03: the employee in arrears, colleagues 0 and 2 paid, colleague 1 in arrears
    assert march[1:] == ["2", "900.00", "2", "900.00"]
    sweep(text, insured)


def test_unit_statements_as_xlsx_and_as_a_signed_pdf(agent_browser, insured, db_session):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    for what in ("staff", "contributions"):
        xlsx = agent_browser.get(f"/unit/records/{what}.xlsx")
        assert xlsx.status_code == 200 and xlsx.headers["Cache-Control"] == "no-store"
        sheet = load_workbook(io.BytesIO(xlsx.data)).active
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        sweep(" ".join(str(v) for row in values for v in row), insured)
        if what == "contributions":
            assert ["2026-03", 2, "900.00", 2, "900.00"] in values  # counts are numbers
        else:
            assert values[0][0] == "Insured staff" and values[1][0].startswith(f"Unit: {insured.unit.name}")
            assert values[4][:3] == ["Insured person number", "Name", "ID number"] and len(values) == 5 + 4
        pdf = agent_browser.get(f"/unit/records/{what}.pdf")
        assert pdf.mimetype == "application/pdf"
        reader = PdfReader(io.BytesIO(pdf.data))
        text = "".join(p.extract_text() for p in reader.pages)
        sweep(text, insured)
        assert insured.unit.credit_code in text and "长春市医疗保障经办中心（电子签章）" in text
        assert reader.get_fields() and any(f.get("/FT") == "/Sig" for f in reader.get_fields().values())
    actions = db_session.execute(select(AuditEvent.action).where(AuditEvent.action.like("insurance.unit_%"))
                                 ).scalars().all()
    assert sorted(actions) == sorted(["insurance.unit_staff_download", "insurance.unit_contributions_download"] * 2)


def test_unit_statements_are_the_agents_only(citizen_browser, make_client):
    assert citizen_browser.get("/unit/records/staff.pdf").status_code == 404
    assert make_client().get("/unit/records/contributions.xlsx").status_code == 302


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    from portal.core.downloads import csv_bytes

    text = csv_bytes(["a"], [['=HYPERLINK("x")'], ["+1"], ["@SUM(A1)"], ["-2"], ["普通"]]).decode("utf-8-sig")
    cells = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    assert cells == ["'=HYPERLINK(\"x\")", "'+1", "'@SUM(A1)", "'-2", "普通"]


# --- the API -------------------------------------------------------------------------------------------


@pytest.fixture
def api(make_client, db_session):
    def _make(account):
        raw = tokens.issue_token(account, label="test")[0]
        db_session.commit()
        browser = make_client()
        browser.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
        return browser

    return _make


def test_records_api_for_a_citizen(api, citizen, insured):
    client = api(citizen)
    me = client.get("/api/v1/records/me").get_json()
    assert me["person"]["name"] == "欧阳*" and me["account_balance"] == "1234.56"
    assert {c["insurance_type"]: c["months_paid"] for c in me["contributions"]}["employee_medical"] == EMPLOYEE_MONTHS
    assert [e["insurance_type"] for e in me["enrolments"]] == ["resident_medical", "employee_medical"]
    years = client.get("/api/v1/records/me/contributions?year=2025").get_json()
    employee = [m for m in years["months"] if m["insurance_type"] == "employee_medical"]
    assert years["year"] == 2025 and len(employee) == 12
    account = client.get("/api/v1/records/me/account?per_page=10&page=3").get_json()
    assert (account["page"], account["pages"], account["total"], len(account["items"])) == (3, 3, 30, 10)
    assert client.get("/api/v1/records/unit").status_code == 404
    assert client.get("/api/v1/records/me/account?per_page=1000").status_code == 422
    for url in ("/api/v1/records/me", "/api/v1/records/me/contributions", "/api/v1/records/me/account"):
        sweep(client.get(url).get_data(as_text=True), insured)


def test_records_api_for_an_agent(api, agent, insured):
    client = api(agent)
    unit = client.get("/api/v1/records/unit").get_json()
    assert unit["headcount"] == 4 and unit["arrears_months"] == 1
    staff = client.get("/api/v1/records/unit/staff?per_page=2").get_json()
    assert (staff["total"], staff["pages"], len(staff["items"])) == (4, 2, 2)
    months = client.get("/api/v1/records/unit/contributions").get_json()
    assert months["items"][0]["month"] == "2026-03" and months["items"][0]["arrears_amount"] == "900.00"
    assert client.get("/api/v1/records/me").status_code == 404
    for url in ("/api/v1/records/unit", "/api/v1/records/unit/staff", "/api/v1/records/unit/contributions"):
        sweep(client.get(url).get_data(as_text=True), insured)
