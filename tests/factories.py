"""Shared factories: people, units, agents, staff, independent browsers, and logins through the real pages.

Loaded as a pytest plugin by tests/conftest.py, so every feature's tests can use them."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.accounts import operations, passwords
from portal.accounts.models import Account, Role, SmsMessage
from portal.core import clock
from portal.core.audit import Actor
from portal.core.validators import credit_code_check_char, id_check_digit
from portal.insurance.models import Person, Unit, phone_index

STAFF_PASSWORD = "Correct-Horse-42"
_serial = itertools.count(1)


def valid_id_number(birth: str = "19850312", area: str = "220102", seq: str | None = None) -> str:
    """A 身份证 number with a correct check digit."""
    seq = seq or f"{next(_serial) % 1000:03d}"
    first17 = f"{area}{birth}{seq}"
    return first17 + id_check_digit(first17)


def valid_credit_code(body: str | None = None) -> str:
    body = body or f"91220101MA{next(_serial):07d}"
    return body + credit_code_check_char(body)


def mobile(n: int | None = None) -> str:
    return f"139{(n if n is not None else next(_serial)) % 100_000_000:08d}"


class FreshRequestClient(FlaskClient):
    """A test client whose requests start with an empty ``g``, as real requests do.

    The root ``db_session`` fixture keeps one app context pushed for the whole test, and Flask reuses it
    for every test-client request, so ``g`` (flask-login's cached user, flask-wtf's CSRF token) would
    otherwise leak from one request into the next and hide session bugs.
    """

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def make_client(app):
    """A factory of independent browsers (each with its own cookies)."""
    def _make() -> FreshRequestClient:
        browser = FreshRequestClient(app, app.response_class, use_cookies=True)
        browser.set_cookie("lang", "en")  # tests read the English messages; Chinese is tested on its own
        return browser

    return _make


@pytest.fixture
def make_unit(db_session):
    def _make(name: str = "长春示范有限公司", credit_code: str | None = None) -> Unit:
        unit = Unit(code=f"U{next(_serial):08d}", credit_code=credit_code or valid_credit_code(), name=name)
        db_session.add(unit)
        db_session.flush()
        return unit

    return _make


def institution_code(kind: str = "medical", division: str = "220102") -> str:
    """A fresh 医保定点医药机构编码 of the right shape (H/P, the division, 5 digits)."""
    return ("H" if kind == "medical" else "P") + division + f"{next(_serial) % 100000:05d}"


@pytest.fixture
def make_institution(db_session):
    """A 定点医药机构 in the register (in its agreement unless ``status`` says otherwise)."""
    from portal.organisations.models import Institution

    def _make(name: str = "长春示范医院", kind: str = "medical", status: str = "in_force", **values) -> Institution:
        fields = {"credit_code": valid_credit_code(), "code": institution_code(kind), "name": name, "kind": kind,
                  "level": "level_2" if kind == "medical" else None, "region": "jilin", "area": "南关区",
                  "address": "长春市南关区示范路1号", "legal_rep_name": "赵院长", "agreement_status": status}
        if status in ("in_force", "suspended", "terminated"):
            fields |= {"agreement_start": date(2026, 1, 1), "agreement_end": date(2028, 12, 31)}
        if status == "suspended":
            fields["suspended_on"] = date(2026, 6, 1)
        if status == "terminated":
            fields["terminated_on"] = date(2026, 6, 1)
        institution = Institution(**(fields | values))
        db_session.add(institution)
        db_session.flush()
        return institution

    return _make


@pytest.fixture
def make_person(db_session):
    def _make(name: str = "张三", id_number: str | None = None, phone: str | None = None) -> Person:
        number = id_number or valid_id_number()
        person = Person(insured_no=f"P{next(_serial):09d}", name=name, gender="M",
                        birth_date=date(int(number[6:10]), int(number[10:12]), int(number[12:14])))
        person.set_id_number(number)
        person.set_phone(phone)
        db_session.add(person)
        db_session.flush()
        return person

    return _make


@pytest.fixture
def make_staff(db_session):
    def _make(username: str = "clerk", roles=frozenset({Role.ACCEPTOR}), password: str = STAFF_PASSWORD):
        account, secret = operations.create_staff(
            operations.NewStaff(username, username.title(), password, frozenset(roles)), actor=Actor.system())
        return account, secret

    return _make


@pytest.fixture
def make_first_agent(db_session):
    def _make(unit: Unit, phone: str | None = None, name: str = "李经办") -> Account:
        return operations.register_first_agent(unit, operations.NewAgent(phone or mobile(), name),
                                               actor=Actor.system())

    return _make


@pytest.fixture
def make_institution_agent(db_session):
    """The first agent (administrator) of a designated institution."""
    def _make(institution, phone: str | None = None, name: str = "钱经办") -> Account:
        return operations.register_first_agent(institution, operations.NewAgent(phone or mobile(), name),
                                               actor=Actor.system())

    return _make


@pytest.fixture
def outbox_code(db_session):
    return lambda phone: last_code(db_session, phone)


def last_code(db_session, phone: str) -> str:
    """The code of the newest outbox message to ``phone``."""
    message = db_session.execute(
        select(SmsMessage).where(SmsMessage.phone_index == phone_index(phone)).order_by(SmsMessage.id.desc())
    ).scalars().first()
    assert message is not None, "no SMS in the outbox for this phone"
    return re.search(r"(?<!\d)(\d{6})(?!\d)", message.body).group(1)


@pytest.fixture
def citizen_login(client, db_session, get_csrf):
    """Log ``phone`` in as a citizen through the pages (code read from the outbox); returns the last response."""

    def _login(phone: str):
        token = get_csrf("/login/citizen")
        response = client.post("/login/citizen", data={"csrf_token": token, "phone": phone})
        assert response.status_code == 302, response.get_data(as_text=True)
        token = get_csrf("/login/code")
        return client.post("/login/code", data={"csrf_token": token, "code": last_code(db_session, phone)})

    return _login


@pytest.fixture
def agent_login(client, db_session, get_csrf):
    def _login(unit: Unit, phone: str):
        token = get_csrf("/login/agent")
        response = client.post("/login/agent", data={"csrf_token": token, "credit_code": unit.credit_code,
                                                     "phone": phone})
        assert response.status_code == 302, response.get_data(as_text=True)
        token = get_csrf("/login/code")
        return client.post("/login/code", data={"csrf_token": token, "code": last_code(db_session, phone)})

    return _login


def log_in_by_code(browser: FlaskClient, db_session, phone: str, unit: Unit | None = None, *,
                   institution=None) -> FlaskClient:
    """Log ``browser`` in through the pages: a citizen by phone, or an agent of ``unit`` (or of ``institution``, a
    定点医药机构); the code is read from the SMS outbox. The rate limits are reset first (the fixtures log their
    accounts in once already)."""
    from portal.extensions import limiter
    from tests.conftest import csrf_from

    organisation = unit if unit is not None else institution
    page = "/login/agent" if organisation is not None else "/login/citizen"
    limiter.reset()
    form = page + ("?org=institution" if institution is not None else "")
    data = {"csrf_token": csrf_from(browser.get(form).get_data(as_text=True)), "phone": phone}
    if organisation is not None:
        data["credit_code"] = organisation.credit_code
    if institution is not None:
        data["org_kind"] = "institution"
    assert browser.post(page, data=data).status_code == 302
    token = csrf_from(browser.get("/login/code").get_data(as_text=True))
    response = browser.post("/login/code", data={"csrf_token": token, "code": last_code(db_session, phone)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def log_in_staff(browser: FlaskClient, username: str, secret: str, password: str = STAFF_PASSWORD) -> FlaskClient:
    """Log ``browser`` in through the staff login page: password and the TOTP of the current (maybe frozen) time."""
    from tests.conftest import csrf_from

    token = csrf_from(browser.get("/login/staff").get_data(as_text=True))
    response = browser.post("/login/staff", data={"csrf_token": token, "username": username, "password": password,
                                                  "totp": passwords.current_totp(secret, clock.now())})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


@pytest.fixture
def staff_login(client, get_csrf):
    """Post the staff login form; ``totp`` defaults to the right code for the current (frozen) time."""

    def _login(username: str, secret: str, password: str = STAFF_PASSWORD, totp: str | None = None):
        token = get_csrf("/login/staff")
        code = passwords.current_totp(secret, clock.now()) if totp is None else totp
        return client.post("/login/staff", data={"csrf_token": token, "username": username,
                                                 "password": password, "totp": code})

    return _login


SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")  # the tests' own transaction around each


def sent_statements(app, client: FlaskClient, url: str, *, skip: tuple[str, ...] = SAVEPOINTS) -> tuple[int, list[str]]:
    """The status of one GET of ``url`` and every SQL statement it sent (whitespace folded), but those starting
    with one of ``skip``."""
    from sqlalchemy import event

    seen: list[str] = []
    engine = app.extensions["portal_db_engine"]

    def on_sql(_conn, _cursor, statement, *_args):
        if not statement.startswith(skip):
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", on_sql)
    try:
        status = client.get(url).status_code
    finally:
        event.remove(engine, "before_cursor_execute", on_sql)
    return status, seen
