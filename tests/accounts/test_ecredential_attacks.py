"""Attacks on the e-credential login (/login/ecredential): a code read off a screen or a counter is replayed; the
issuer says the credential has expired. Forging a code needs the issuer: production refuses the local adapter
(tests/core/test_config.py) and the HTTP adapter signs every request (tests/integrations/test_identity.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from portal.accounts.ecredential_login import ECredentialLogin, login_with_ecredential
from portal.accounts.models import ECredentialUse
from portal.core import clock
from portal.core.audit import Actor, AuditEvent
from portal.core.errors import AuthenticationFailed
from portal.integrations.identity import ECredential
from tests.conftest import csrf_from
from tests.factories import mobile

SYSTEM = Actor.system()


def test_a_code_logs_in_once_and_a_replay_is_refused(make_client, make_person, db_session):
    person = make_person(name="孙丽华", phone=mobile())
    db_session.commit()
    code = f"ecred-{person.id_number}-{person.name}"
    first = make_client()
    page = first.get("/login/ecredential").get_data(as_text=True)
    answer = first.post("/login/ecredential", data={"csrf_token": csrf_from(page), "code": code})
    assert answer.status_code == 302 and first.get("/me/records").status_code == 200

    thief = make_client()  # another browser, the same code
    page = thief.get("/login/ecredential").get_data(as_text=True)
    replay = thief.post("/login/ecredential", data={"csrf_token": csrf_from(page), "code": code})
    assert replay.status_code in (401, 403, 422)
    assert "SMS code instead" in replay.get_data(as_text=True)
    assert thief.get("/me/records").status_code in (302, 401)
    assert db_session.execute(select(AuditEvent.detail).where(AuditEvent.action == "login.failed")
                              .order_by(AuditEvent.id.desc())).scalars().first().find("replayed") != -1


class _Issuer:
    def __init__(self, credential: ECredential):
        self.credential = credential

    def verify(self, code: str) -> ECredential:
        return self.credential


@pytest.mark.parametrize("valid_until", [date(2026, 11, 30), date(2026, 12, 1)])
def test_an_expired_credential_does_not_log_in(app, make_person, db_session, monkeypatch, valid_until):
    """The issuer's answer names the last day: the day after, the credential logs nobody in."""
    person = make_person(name="吴桂英", phone=mobile())
    monkeypatch.setattr("portal.accounts.ecredential_login.ecredential_verifier",
                        lambda _app: _Issuer(ECredential(person.name, person.id_number, valid_until)))
    with app.test_request_context("/", headers={"Cookie": "lang=en"}), clock.frozen(datetime(2026, 12, 1, 10)):
        if valid_until < date(2026, 12, 1):
            with pytest.raises(AuthenticationFailed):
                login_with_ecredential(ECredentialLogin("code-1"), actor=SYSTEM, client_ip="127.0.0.41")
        else:  # valid through its last day
            assert login_with_ecredential(ECredentialLogin("code-2"), actor=SYSTEM,
                                          client_ip="127.0.0.41").person_id == person.id


def test_a_replay_is_refused_with_rate_limiting_off_too(app, make_person, db_session, monkeypatch):
    """The guard is the database's, not the rate limiter's: a deployment that turns limits off keeps it."""
    person = make_person(name="郑秀英", phone=mobile())
    code = f"ecred-{person.id_number}-{person.name}"
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", False)
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert login_with_ecredential(ECredentialLogin(code), actor=SYSTEM, client_ip="127.0.0.42").person_id \
            == person.id
        with pytest.raises(AuthenticationFailed):
            login_with_ecredential(ECredentialLogin(code), actor=SYSTEM, client_ip="127.0.0.42")
    assert db_session.execute(select(ECredentialUse.code_index)).scalars().all() != [code]  # its keyed hash only


def test_a_code_is_remembered_for_a_day(app, make_person, db_session):
    person = make_person(name="冯志强", phone=mobile())
    code = f"ecred-{person.id_number}-{person.name}"
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        with clock.frozen(datetime(2026, 12, 1, 9)):
            login_with_ecredential(ECredentialLogin(code), actor=SYSTEM, client_ip="127.0.0.43")
        with clock.frozen(datetime(2026, 12, 2, 8, 59)), pytest.raises(AuthenticationFailed):
            login_with_ecredential(ECredentialLogin(code), actor=SYSTEM, client_ip="127.0.0.43")
        with clock.frozen(datetime(2026, 12, 2, 9, 1)):  # a day on, the use is forgotten (and its row gone)
            assert login_with_ecredential(ECredentialLogin(code), actor=SYSTEM, client_ip="127.0.0.43").person_id \
                == person.id
            assert db_session.execute(select(ECredentialUse.used_at)).scalars().all() == [clock.now()]
