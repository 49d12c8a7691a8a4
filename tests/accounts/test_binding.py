"""Real-name binding cannot be taken over with a leaked name + 身份证 (issue 25, point 1).

The takeover is replayed through the pages and the API; proofs run for real: face verification through the HTTP
adapter against a local server speaking the provider's protocol, the 医保电子凭证 through the local adapter, the
window through the staff screen. The owner's SMS and its "不是我" link are read from the outbox.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.accounts import passwords
from portal.accounts.models import (
    Account,
    BindingLock,
    PersonBinding,
    Role,
    SmsMessage,
)
from portal.core import clock
from portal.core.audit import AuditEvent
from portal.insurance.models import phone_index
from portal.integrations.identity.http import HttpFaceVerifier
from portal.integrations.identity.local_server import IdentityServer
from tests.conftest import csrf_from
from tests.factories import STAFF_PASSWORD, last_code, mobile, valid_id_number

APP_ID, SECRET = "face-app-1", "face-secret-0042"
LINK_RE = re.compile(r"https?://\S+/b/([\w.\-]+)")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sms_to(db_session, phone: str) -> list[str]:
    """The binding notices sent to ``phone`` (not its login codes), oldest first."""
    return list(db_session.execute(select(SmsMessage.body).where(SmsMessage.phone_index == phone_index(phone),
                                                                 SmsMessage.kind == "binding")
                                   .order_by(SmsMessage.id)).scalars())


def _link_token(db_session, phone: str) -> str:
    match = LINK_RE.search(_sms_to(db_session, phone)[-1])
    assert match, "no 不是我 link in the owner's SMS"
    return match.group(1)


def _actions(db_session) -> list[str]:
    return list(db_session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


@pytest.fixture
def owner(make_person):
    """An insured person whose phone on record is known (the real owner)."""
    phone, number = mobile(), valid_id_number()
    return make_person("郑秀英", number, phone=phone)


@pytest.fixture
def browser(make_client, db_session):
    """A browser logged in as a citizen with ``phone``."""

    def _login(phone: str):
        web = make_client()
        page = web.get("/login/citizen")
        web.post("/login/citizen", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "phone": phone})
        page = web.get("/login/code")
        web.post("/login/code", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                      "code": last_code(db_session, phone)})
        return web

    return _login


def _post(web, url: str, form_page: str, **data):
    token = csrf_from(web.get(form_page).get_data(as_text=True))
    return web.post(url, data={"csrf_token": token, **data})


@pytest.fixture
def api_token(client, outbox_code):
    def _login(phone: str) -> str:
        client.post("/api/v1/auth/sms/request", json={"phone": phone})
        return client.post("/api/v1/auth/sms/login", json={"phone": phone, "code": outbox_code(phone)}).get_json()[
            "token"]

    return _login


@pytest.fixture
def face_server(app):
    """The face provider's protocol on 127.0.0.1; the app's face port uses the HTTP adapter against it."""
    server = IdentityServer(APP_ID, SECRET).start()
    before = app.extensions.get("portal_face")
    app.extensions["portal_face"] = HttpFaceVerifier(server.base_url, APP_ID, SECRET, timeout=(1, 3))
    yield server
    app.extensions["portal_face"] = before
    server.stop()


# --- the takeover ---------------------------------------------------------------------------------------------


def test_takeover_through_the_pages_is_refused_and_the_owner_is_told(browser, owner, db_session):
    stranger = browser(mobile())
    response = _post(stranger, "/bind", "/bind", name="郑秀英", id_number=owner.id_number)
    assert response.status_code == 302 and response.headers["Location"].endswith("/bind/proof")
    account = db_session.execute(select(Account).where(Account.kind == "citizen")).scalar_one()
    assert account.person_id is None
    # nothing of the person is visible: the account page sends the stranger back to binding
    assert stranger.get("/me").headers["Location"].endswith("/bind")
    proof = stranger.get("/bind/proof").get_data(as_text=True)
    assert "Prove that it is you" in proof and owner.id_number not in proof
    binding = db_session.execute(select(PersonBinding)).scalar_one()
    assert binding.status == "pending" and binding.person_id == owner.id
    texts = _sms_to(db_session, owner.phone)
    assert len(texts) == 1 and LINK_RE.search(texts[0])
    assert account.phone[:3] + "****" + account.phone[-4:] in texts[0]  # which account asked, masked
    assert {"bind.pending", "bind.owner_notified"} <= set(_actions(db_session))


def test_takeover_through_the_api_is_refused_and_the_owner_is_told(client, api_token, owner, db_session):
    token = api_token(mobile())
    answer = client.post("/api/v1/me/binding", json={"name": "郑秀英", "id_number": owner.id_number},
                         headers=_bearer(token))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["is_bound"] is False and body["binding"] == "pending" and body["id_number_masked"] is None
    assert body["binding_proofs"] == ["face", "ecredential", "window"]
    me = client.get("/api/v1/me", headers=_bearer(token)).get_json()
    assert me["is_bound"] is False and me["name_masked"] == ""
    assert client.get("/api/v1/applications", headers=_bearer(token)).status_code in (200, 403)
    assert len(_sms_to(db_session, owner.phone)) == 1


def test_binding_from_the_phone_on_record_succeeds_at_once(browser, owner, db_session):
    web = browser(owner.phone)
    response = _post(web, "/bind", "/bind", name="郑秀英", id_number=owner.id_number)
    assert response.status_code == 302 and response.headers["Location"].endswith("/me")
    binding = db_session.execute(select(PersonBinding)).scalar_one()
    assert (binding.status, binding.method) == ("active", "phone")
    assert web.get("/me").status_code == 200
    notice = db_session.execute(select(AuditEvent).where(AuditEvent.action == "bind.owner_notified")).scalar_one()
    assert json.loads(notice.detail)["status"] == "active"
    assert len(_sms_to(db_session, owner.phone)) == 1 and LINK_RE.search(_sms_to(db_session, owner.phone)[0])


# --- face verification (HTTP adapter, local server) -----------------------------------------------------------


def test_face_verification_passes_for_the_person_and_fails_for_a_stranger(client, api_token, owner, face_server,
                                                                          db_session, make_person):
    stranger_number = valid_id_number()
    token = api_token(mobile())
    client.post("/api/v1/me/binding", json={"name": "郑秀英", "id_number": owner.id_number}, headers=_bearer(token))
    own_face = client.post("/api/v1/me/binding/face", json={"live_token": f"face-{stranger_number}"},
                           headers=_bearer(token))
    assert own_face.status_code == 422 and own_face.get_json()["error"]["code"] == "validation_failed"
    assert db_session.execute(select(PersonBinding)).scalar_one().status == "pending"
    path, sent = face_server.seen[-1]
    assert path == "/face/verify" and sent["id_number"] == owner.id_number and sent["name"] == "郑秀英"

    passed = client.post("/api/v1/me/binding/face", json={"live_token": f"face-{owner.id_number}"},
                         headers=_bearer(token))
    assert passed.status_code == 200 and passed.get_json()["is_bound"] is True
    binding = db_session.execute(select(PersonBinding)).scalar_one()
    assert (binding.status, binding.method) == ("active", "face")
    assert "bind.proof_failed" in _actions(db_session)
    texts = _sms_to(db_session, owner.phone)
    assert len(texts) == 2 and texts[0] != texts[1]  # told of the attempt, then of the binding


def test_face_provider_trouble_is_a_clear_503_and_binds_nothing(client, api_token, owner, face_server, app,
                                                                db_session):
    token = api_token(mobile())
    client.post("/api/v1/me/binding", json={"name": "郑秀英", "id_number": owner.id_number}, headers=_bearer(token))
    busy = client.post("/api/v1/me/binding/face", json={"live_token": "face-busy"}, headers=_bearer(token))
    assert busy.status_code == 503 and "service hall" in busy.get_json()["error"]["message"]
    expired = client.post("/api/v1/me/binding/face", json={"live_token": "face-expired"}, headers=_bearer(token))
    assert expired.status_code == 422 and expired.get_json()["error"]["code"] == "identity_invalid_token"
    app.extensions["portal_face"] = HttpFaceVerifier(face_server.base_url, APP_ID, "wrong-secret")
    unsigned = client.post("/api/v1/me/binding/face", json={"live_token": f"face-{owner.id_number}"},
                           headers=_bearer(token))
    assert unsigned.status_code == 503  # the provider refused our signature: nothing is bound
    assert db_session.execute(select(PersonBinding)).scalar_one().status == "pending"


def test_face_verification_through_the_pages(browser, owner, face_server, db_session):
    web = browser(mobile())
    _post(web, "/bind", "/bind", name="郑秀英", id_number=owner.id_number)
    page = web.get(f"/bind/proof?live_token=face-{owner.id_number}").get_data(as_text=True)
    assert f'value="face-{owner.id_number}"' in page  # the provider's page hands the token back
    response = web.post("/bind/face", data={"csrf_token": csrf_from(page), "live_token": f"face-{owner.id_number}"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/me")
    assert web.get("/me").status_code == 200


# --- 医保电子凭证 (local adapter) ----------------------------------------------------------------------------------


def test_ecredential_of_the_person_binds_and_of_another_does_not(client, api_token, owner, db_session):
    token = api_token(mobile())
    client.post("/api/v1/me/binding", json={"name": "郑秀英", "id_number": owner.id_number}, headers=_bearer(token))
    other = client.post("/api/v1/me/binding/ecredential", json={"code": f"ecred-{valid_id_number()}-郑秀英"},
                        headers=_bearer(token))
    assert other.status_code == 422
    bad = client.post("/api/v1/me/binding/ecredential", json={"code": "not-a-credential"}, headers=_bearer(token))
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "identity_invalid_token"
    right = client.post("/api/v1/me/binding/ecredential", json={"code": f"ecred-{owner.id_number}-郑秀英"},
                        headers=_bearer(token))
    assert right.status_code == 200 and right.get_json()["binding"] == "active"
    assert db_session.execute(select(PersonBinding)).scalar_one().method == "ecredential"


# --- the window -----------------------------------------------------------------------------------------------


@pytest.fixture
def staff_browser(make_client, make_staff, monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    account, secret = make_staff("window1", roles={Role.ACCEPTOR})
    web = make_client()
    page = web.get("/login/staff")
    response = web.post("/login/staff", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                              "username": "window1", "password": STAFF_PASSWORD,
                                              "totp": passwords.current_totp(secret, clock.now())})
    assert response.status_code == 302
    return web, account


def test_window_verification_confirms_a_pending_binding_after_typing_the_card_number(browser, owner, db_session,
                                                                                      staff_browser):
    citizen = browser(mobile())
    _post(citizen, "/bind", "/bind", name="郑秀英", id_number=owner.id_number)
    binding = db_session.execute(select(PersonBinding)).scalar_one()
    staff, staff_account = staff_browser
    page = staff.get("/staff/bindings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert owner.id_number not in html and owner.phone not in html  # masked
    wrong = staff.post(f"/staff/bindings/{binding.id}/confirm",
                       data={"csrf_token": csrf_from(html), "id_number": valid_id_number()})
    assert wrong.status_code == 302
    db_session.refresh(binding)
    assert binding.status == "pending" and "bind.window_mismatch" in _actions(db_session)
    right = staff.post(f"/staff/bindings/{binding.id}/confirm",
                       data={"csrf_token": csrf_from(html), "id_number": owner.id_number})
    assert right.status_code == 302
    db_session.refresh(binding)
    assert (binding.status, binding.method, binding.decided_by_id) == ("active", "window", staff_account.id)
    assert citizen.get("/me").status_code == 200
    event = db_session.execute(select(AuditEvent).where(AuditEvent.action == "bind.ok")).scalar_one()
    assert event.actor_id == str(staff_account.id) and json.loads(event.detail)["method"] == "window"


def test_citizens_do_not_see_the_window_screen(browser, owner):
    assert browser(owner.phone).get("/staff/bindings").status_code == 404


# --- "不是我", the lock, and the owner reclaiming -------------------------------------------------------------------


def test_not_me_link_unbinds_the_stranger_logs_them_out_and_locks(client, api_token, owner, face_server, db_session,
                                                                  make_client, browser):
    token = api_token(mobile())
    client.post("/api/v1/me/binding", json={"name": "郑秀英", "id_number": owner.id_number}, headers=_bearer(token))
    client.post("/api/v1/me/binding/face", json={"live_token": f"face-{owner.id_number}"}, headers=_bearer(token))
    link = _link_token(db_session, owner.phone)

    owner_phone_browser = make_client()
    page = owner_phone_browser.get(f"/b/{link}")
    assert page.status_code == 200 and "This was not me" in page.get_data(as_text=True)
    done = owner_phone_browser.post(f"/b/{link}", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 200 and "undone" in done.get_data(as_text=True)
    binding = db_session.execute(select(PersonBinding)).scalar_one()
    assert (binding.status, binding.end_reason) == ("ended", "disowned")
    assert db_session.get(BindingLock, owner.id) is not None
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401  # logged out everywhere
    assert owner_phone_browser.get(f"/b/{link}").status_code == 404  # single use

    # locked: a new attempt by a stranger cannot be proven by face any more
    token2 = api_token(mobile())
    client.post("/api/v1/me/binding", json={"name": "郑秀英", "id_number": owner.id_number}, headers=_bearer(token2))
    refused = client.post("/api/v1/me/binding/face", json={"live_token": f"face-{owner.id_number}"},
                          headers=_bearer(token2))
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "binding_locked"

    # the owner acts from the phone on record: bound at once, lock lifted
    web = browser(owner.phone)
    assert _post(web, "/bind", "/bind", name="郑秀英", id_number=owner.id_number).headers["Location"].endswith("/me")
    assert db_session.get(BindingLock, owner.id) is None
    assert {"bind.disowned", "bind.unlocked"} <= set(_actions(db_session))


def test_not_me_on_a_pending_attempt_refuses_it(client, api_token, owner, db_session, make_client):
    token = api_token(mobile())
    client.post("/api/v1/me/binding", json={"name": "郑秀英", "id_number": owner.id_number}, headers=_bearer(token))
    link = _link_token(db_session, owner.phone)
    web = make_client()
    page = web.get(f"/b/{link}")
    web.post(f"/b/{link}", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    binding = db_session.execute(select(PersonBinding)).scalar_one()
    assert (binding.status, binding.end_reason) == ("cancelled", "disowned")
    answer = client.post("/api/v1/me/binding/ecredential", json={"code": f"ecred-{owner.id_number}-郑秀英"},
                         headers=_bearer(token))
    assert answer.status_code == 404  # nothing left to prove


def test_not_me_links_expire_and_forged_ones_are_refused(client, api_token, owner, db_session, make_client):
    with clock.frozen(datetime(2026, 3, 1, 9, 0, tzinfo=UTC)) as frozen:
        token = api_token(mobile())
        client.post("/api/v1/me/binding", json={"name": "郑秀英", "id_number": owner.id_number},
                    headers=_bearer(token))
        link = _link_token(db_session, owner.phone)
        web = make_client()
        assert web.get(f"/b/{link[:-2]}xx").status_code == 404
        frozen.tick(timedelta(days=31))
        assert web.get(f"/b/{link}").status_code == 404


def test_owner_reclaims_from_the_phone_on_record_and_the_stranger_is_ended(client, api_token, owner, face_server,
                                                                            db_session, browser):
    token = api_token(mobile())
    client.post("/api/v1/me/binding", json={"name": "郑秀英", "id_number": owner.id_number}, headers=_bearer(token))
    client.post("/api/v1/me/binding/face", json={"live_token": f"face-{owner.id_number}"}, headers=_bearer(token))
    web = browser(owner.phone)
    response = _post(web, "/bind", "/bind", name="郑秀英", id_number=owner.id_number)
    assert response.headers["Location"].endswith("/me")
    rows = {b.method: b for b in db_session.execute(select(PersonBinding)).scalars()}
    assert (rows["face"].status, rows["face"].end_reason) == ("ended", "reclaimed")
    assert rows["phone"].status == "active"
    owner_account = db_session.execute(select(Account).where(Account.phone_index == phone_index(owner.phone))
                                       ).scalar_one()
    assert owner_account.person_id == owner.id
    ended = list(db_session.execute(select(AuditEvent).where(AuditEvent.action == "bind.ended")).scalars())
    assert ended and json.loads(ended[0].detail)["reason"] == "reclaimed"
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401


# --- limits ---------------------------------------------------------------------------------------------------


def test_binding_attempts_are_limited_per_ip(client, api_token, make_person, app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_BIND_IP", "3/hour")
    token = api_token(mobile())
    people = [make_person("吴" + "一二三四"[i], valid_id_number(), phone=mobile()) for i in range(4)]
    answers = [client.post("/api/v1/me/binding", json={"name": p.name, "id_number": p.id_number},
                           headers=_bearer(token)).status_code for p in people]
    assert answers == [200, 200, 200, 429]


def test_binding_attempts_are_limited_per_person_from_any_address(app, owner, monkeypatch, make_client, db_session,
                                                                   outbox_code):
    monkeypatch.setitem(app.config, "PORTAL_LIMIT_BIND_PERSON", "2/hour")
    statuses = []
    for i in range(3):
        web = make_client()
        address = {"REMOTE_ADDR": f"10.1.0.{i + 1}"}
        phone = mobile()
        web.post("/api/v1/auth/sms/request", json={"phone": phone}, environ_base=address)
        token = web.post("/api/v1/auth/sms/login", json={"phone": phone, "code": outbox_code(phone)},
                         environ_base=address).get_json()["token"]
        statuses.append(web.post("/api/v1/me/binding", json={"name": "郑秀英", "id_number": owner.id_number},
                                 headers=_bearer(token), environ_base=address).status_code)
    assert statuses == [200, 200, 429]


def test_ecredential_and_withdrawal_through_the_pages(browser, owner, db_session):
    web = browser(mobile())
    _post(web, "/bind", "/bind", name="郑秀英", id_number=owner.id_number)
    wrong = _post(web, "/bind/ecredential", "/bind/proof", code=f"ecred-{valid_id_number()}-郑秀英")
    assert wrong.status_code == 422 and "not this person" in wrong.get_data(as_text=True)
    withdrawn = _post(web, "/bind/cancel", "/bind/proof")
    assert withdrawn.headers["Location"].endswith("/bind")
    assert db_session.execute(select(PersonBinding)).scalar_one().status == "cancelled"
    assert web.get("/bind/proof").headers["Location"].endswith("/bind")  # nothing waits any more
    _post(web, "/bind", "/bind", name="郑秀英", id_number=owner.id_number)
    right = _post(web, "/bind/ecredential", "/bind/proof", code=f"ecred-{owner.id_number}-郑秀英")
    assert right.status_code == 302 and right.headers["Location"].endswith("/me")
