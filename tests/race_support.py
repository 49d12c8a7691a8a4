"""What the PostgreSQL race tests share: the setup they commit for real, and the cleanup after them.

A race test runs two threads, each with its own app context, session and connection, against rows committed before
(SQLite lets one writer in at a time and refuses a write from a transaction that read before another's commit, so
the two cannot interleave there: the tests skip). The setup builds a real-name-bound citizen and a complete draft
of the promise item through the real operations; afterwards every table is emptied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from argon2 import PasswordHasher

from portal.accounts import binding as binding_ops
from portal.accounts import operations as account_ops
from portal.accounts import passwords
from portal.applications import operations as case_ops
from portal.core.audit import Actor
from portal.core.db import Base, db
from tests.applications.conftest import PROMISE_ITEM, all_materials, sample_value
from tests.factories import mobile, valid_id_number

SYSTEM = Actor.system()


@contextmanager
def race_setup(app, monkeypatch) -> Iterator[None]:
    """Skip unless the database is PostgreSQL; a fast password hasher; an app and request context for the setup."""
    if app.extensions["portal_db_engine"].dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (PORTAL_TEST_DATABASE_URL): SQLite lets one writer in at a time")
    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with app.app_context(), app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


def bound_citizen(*, seq: str, insured_no: str, name: str, gender: str, client_ip: str) -> Any:
    """A citizen logged in with an SMS code and bound by real name to a new person (committed by the caller)."""
    from portal.insurance.models import Person

    number = valid_id_number(seq=seq)
    person = Person(insured_no=insured_no, name=name, gender=gender, birth_date=date(1985, 3, 12))
    person.set_id_number(number)
    phone = mobile()
    person.set_phone(phone)
    db.session.add(person)
    db.session.flush()
    code = account_ops.request_login_code(account_ops.CodeRequest(phone), actor=SYSTEM, client_ip=client_ip)
    citizen = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                          client_ip=client_ip)
    binding_ops.bind_real_name(citizen, binding_ops.RealNameBinding(person.name, number), actor=SYSTEM)
    return citizen


def complete_draft(app, citizen, *, materials: dict[str, str] | None = None, code: str = PROMISE_ITEM,
                   form: dict[str, Any] | None = None) -> Any:
    """A draft of the item ``code`` (the promise item) with every required field filled (``form`` over the sample
    values) and every material chosen."""
    item = app.extensions["portal_catalog"].get(code)
    case = case_ops.start_application(item, by=citizen, actor=SYSTEM)
    data = dict(case.form_data)
    for spec in case_ops.specs_for(case, item):
        if spec.required and spec.key not in data:
            data[spec.key] = sample_value(spec)
    data.update(form or {})
    chosen = all_materials(item) | (materials or {})
    case_ops.save_draft(case, case_ops.DraftInput(form=data, materials=chosen), by=citizen, actor=SYSTEM)
    return case


def empty_every_table(app) -> None:
    """After a race test: what it committed goes (every table emptied)."""
    with app.app_context():
        db.session.rollback()
        for table in reversed(Base.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


def outcomes_at_once(app, work: Callable[..., Any], arguments: Iterable[tuple],
                     refusals: tuple[type[BaseException], ...] = (), *, keep_refused: bool = False,
                     ok: str = "ok") -> list[str]:
    """``work(*args)`` in a request of its own (app and request context, session) per args, all at once; each
    committed on success. The outcome of each: ``ok``, the class name of one of ``refusals`` (committed too when
    ``keep_refused``, as views keep a refusal's counters, else rolled back), or the repr of anything else."""
    outcomes: list[str] = []

    def request(*args) -> None:
        with app.app_context(), app.test_request_context("/", headers={"Cookie": "lang=en"}):
            try:
                work(*args)
                db.session.commit()
                outcomes.append(ok)
            except refusals as refusal:
                db.session.commit() if keep_refused else db.session.rollback()
                outcomes.append(type(refusal).__name__)
            except Exception as exc:  # anything else is reported as what it is
                db.session.rollback()
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    run_at_once(request, arguments)
    return sorted(outcomes)


def run_at_once(target: Callable[..., None], arguments: Iterable[tuple], timeout: float = 30) -> None:
    """``target(*args)`` in a thread of its own for each ``args``, all started, then all waited for."""
    threads = [threading.Thread(target=target, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
