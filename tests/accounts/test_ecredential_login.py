"""Logging in with the 医保电子凭证: the credential resolved through the identity port (the local adapter here, the
HTTP adapter against its local server too) logs in the account of the holder's phone on record, bound at once;
a credential this area cannot log in says what to do instead, and says nothing of who is insured here."""

from __future__ import annotations

import pytest

from portal.accounts.ecredential_login import ECredentialLogin, login_with_ecredential
from portal.accounts.models import Account
from portal.core.audit import Actor
from portal.core.errors import AuthenticationFailed
from portal.integrations.identity import IdentityProofError
from portal.integrations.identity.http import HttpECredentialVerifier
from portal.integrations.identity.local_server import IdentityServer
from tests.conftest import csrf_from
from tests.factories import mobile

SYSTEM = Actor.system()


@pytest.fixture
def english(app):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


def test_the_credential_logs_in_and_binds_the_holder_without_an_id_number(make_client, make_person, db_session):
    person = make_person(name="孙丽华", phone=mobile())
    db_session.commit()
    browser = make_client()
    page = browser.get("/login/ecredential").get_data(as_text=True)
    assert "you do not type your ID number" in page
    answer = browser.post("/login/ecredential", data={"csrf_token": csrf_from(page),
                                                      "code": f"ecred-{person.id_number}-{person.name}"})
    assert answer.status_code == 302 and "/bind" not in answer.headers["Location"]
    account = db_session.query(Account).filter_by(person_id=person.id).one()
    assert account.phone == person.phone
    assert browser.get("/me/records").status_code == 200  # logged in, and sees the person's records


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("case", ["unknown person", "other name", "no phone on record", "bad code"])
def test_a_credential_this_area_cannot_log_in_is_refused_with_what_to_do(make_person, db_session, case):
    person = make_person(name="周明", phone=None if case == "no phone on record" else mobile())
    codes = {"unknown person": "ecred-110101199003070014-李雷", "other name": f"ecred-{person.id_number}-韩梅梅",
             "no phone on record": f"ecred-{person.id_number}-{person.name}", "bad code": "not-a-credential"}
    expected = IdentityProofError if case == "bad code" else AuthenticationFailed
    with pytest.raises(expected) as refused:
        login_with_ecredential(ECredentialLogin(codes[case]), actor=SYSTEM, client_ip="127.0.0.31")
    if expected is AuthenticationFailed:
        assert "Log in with your mobile number and an SMS code instead" in str(refused.value)
    assert db_session.query(Account).filter_by(person_id=person.id).first() is None


@pytest.mark.usefixtures("english")
def test_the_http_adapter_resolves_the_credential_at_the_issuer(app, make_person, db_session, monkeypatch):
    person = make_person(name="吴桂英", phone=mobile())
    server = IdentityServer("app-1", "issuer-secret").start()
    try:
        monkeypatch.setitem(app.extensions, "portal_ecredential",
                            HttpECredentialVerifier(server.base_url, "app-1", "issuer-secret"))
        account = login_with_ecredential(ECredentialLogin(f"ecred-{person.id_number}-{person.name}"), actor=SYSTEM,
                                         client_ip="127.0.0.32")
        assert account.person_id == person.id
        assert [path for path, _body in server.seen] == ["/ecredential/verify"]
    finally:
        server.stop()
