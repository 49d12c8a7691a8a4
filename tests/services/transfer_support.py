"""Two portal deployments in one test: 吉林 (长春, 220100) and 林口 (231025), each a real app with its own database
(two SQLite files, or two PostgreSQL databases beside PORTAL_TEST_DATABASE_URL), and one national hub both talk to.

The apps share the suite's instance directory, so they load the same field keys: the process has one keyring
(``portal.core.crypto``), as a deployment has. Everything else — catalog, region, database, node code — is theirs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.accounts import passwords
from portal.accounts.models import Role
from portal.core import clock
from portal.core.audit import Actor
from portal.core.db import Base, db
from portal.insurance.constants import ContributionStatus, EnrolmentStatus, PersonCategory
from portal.insurance.models import Contribution, Enrolment, InsuranceType, Person, PersonalAccount
from portal.integrations.national.local import LocalNationalPlatform
from tests.factories import mobile, valid_id_number

SYSTEM = Actor.system()
NODES = {"jilin": "220100", "linkou": "231025"}


def peer_database_url(base_dir: Path, region: str) -> str:
    """The database of one deployment: a SQLite file, or ``<test database>_<region>`` on the PostgreSQL server the
    suite uses (created when missing; its name keeps the test database's, so it says it is for tests)."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{base_dir / f'{region}.db'}"
    parsed = make_url(url)
    name = f"{parsed.database}_{region}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@dataclass
class Deployment:
    region: str
    app: Flask
    node: str
    staff: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)

    @contextmanager
    def context(self) -> Iterator[None]:
        with self.app.test_request_context("/", headers={"Cookie": "lang=en"}):  # messages in English, as tests read
            try:
                yield
            finally:
                db.session.rollback()

    def run(self, function, *args, **kwargs):
        """Call ``function`` in this deployment and commit, as a request or a worker does (in English)."""
        with self.app.test_request_context("/", headers={"Cookie": "lang=en"}):
            try:
                result = function(*args, **kwargs)
                db.session.commit()
                return result
            finally:
                db.session.rollback()

    def work(self) -> dict:
        """One round of ``portal national work`` in this deployment."""
        from portal.national.operations import work_once

        return self.run(work_once)


def make_deployment(region: str, base_dir: Path, instance: str, hub_path: str) -> Deployment:
    app = create_app({"ENV": "testing", "REGION": region, "DATABASE_URL": peer_database_url(base_dir, region),
                      "INSTANCE_PATH": instance, "NATIONAL_HUB_PATH": hub_path})
    with app.app_context():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        app.extensions["portal_national"] = LocalNationalPlatform(hub_path, NODES[region])
    return Deployment(region, app, NODES[region])


def reset(deployment: Deployment, hub_path: str) -> None:
    with deployment.app.app_context():
        db.session.remove()
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        deployment.app.extensions["portal_national"] = LocalNationalPlatform(hub_path, deployment.node)
    deployment.staff, deployment.secrets = {}, {}


def make_staff(deployment: Deployment) -> dict:
    """受理 (acceptor), 审核 (reviewer) and 财务 (finance) of this deployment."""
    saved = passwords.hasher
    passwords.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        with deployment.app.app_context():
            for name, role in (("acceptor", Role.ACCEPTOR), ("reviewer", Role.REVIEWER), ("finance", Role.FINANCE)):
                account, secret = account_ops.create_staff(account_ops.NewStaff(
                    f"{deployment.region}{name}", name.title(), "Yibao#Demo2025", frozenset({role})), actor=SYSTEM)
                deployment.staff[name] = account.id
                deployment.secrets[name] = secret
            db.session.commit()
    finally:
        passwords.hasher = saved
    return deployment.staff


def staff_browser(deployment: Deployment, name: str):
    """A browser logged in to this deployment as its ``name`` staff member (password and TOTP)."""
    from portal.extensions import limiter
    from tests.factories import log_in_staff

    limiter.reset()
    browser = deployment.app.test_client()
    browser.set_cookie("lang", "en")
    return log_in_staff(browser, f"{deployment.region}{name}", deployment.secrets[name], password="Yibao#Demo2025")


def staff(deployment: Deployment, name: str):
    from portal.accounts.models import Account

    return db.session.get(Account, deployment.staff[name])


def months(first: str, last: str) -> list[date]:
    """Every month from ``first`` to ``last`` (YYYY-MM), as first days."""
    y, m = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    out = []
    while (y, m) <= end:
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass(frozen=True)
class Insured:
    id_number: str
    name: str
    phone: str


def make_insured(name: str = "赵建华", area: str = "220102") -> Insured:
    return Insured(valid_id_number("19800512", area), name, mobile())


def enrol(insured: Insured, *, since: date, paid: list[date], arrears: list[date] = (), balance: str | None = None,
          ) -> int:
    """The person on this deployment's records: an open employee enrolment since ``since``, the months paid (a base of
    5000, 2 % personal, 6 % unit), the months in arrears, and the personal account's balance. Returns the person id."""
    person = Person(insured_no=f"P{insured.id_number[-10:]}", name=insured.name, gender="M",
                    birth_date=date(1980, 5, 12), category=PersonCategory.EMPLOYEE)
    person.set_id_number(insured.id_number)
    person.set_phone(insured.phone)
    db.session.add(person)
    db.session.flush()
    db.session.add(Enrolment(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL,
                             status=EnrolmentStatus.ACTIVE, start_date=since))
    paid_at = datetime(2026, 11, 30, 12, tzinfo=clock.LOCAL_TZ)
    for month in paid:
        db.session.add(Contribution(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL,
                                    period_month=month, base=Decimal("5000.00"), unit_amount=Decimal("300.00"),
                                    personal_amount=Decimal("100.00"), status=ContributionStatus.PAID,
                                    paid_at=paid_at))
    for month in arrears:
        db.session.add(Contribution(person_id=person.id, insurance_type=InsuranceType.EMPLOYEE_MEDICAL,
                                    period_month=month, base=Decimal("5000.00"), unit_amount=Decimal("300.00"),
                                    personal_amount=Decimal("100.00"), status=ContributionStatus.ARREARS))
    if balance is not None:
        db.session.add(PersonalAccount(person_id=person.id, balance=Decimal(balance), opened_on=since))
    db.session.flush()
    return person.id


def citizen_of(insured: Insured):
    """A citizen account logged in by SMS with the person's phone and bound to them (the phone on record). The
    process's rate-limit counters are reset first: both deployments log the same phone in within the minute."""
    from portal.extensions import limiter

    limiter.reset()
    code = account_ops.request_login_code(account_ops.CodeRequest(insured.phone), actor=SYSTEM,
                                          client_ip="127.0.0.21")
    account = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                          client_ip="127.0.0.21")
    binding_ops.bind_real_name(account, binding_ops.RealNameBinding(insured.name, insured.id_number), actor=SYSTEM)
    return account
