"""``portal sms outbox``, ``portal staff create | totp | unlock`` and the demo logins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.accounts import operations, passwords
from portal.accounts.demo import DEMO_STAFF, DEMO_STAFF_PASSWORD, describe_demo_logins, ensure_demo_accounts
from portal.accounts.models import Account, Role
from portal.core import clock
from portal.core.audit import Actor
from tests.factories import mobile

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def test_sms_outbox_command_shows_the_code_with_a_masked_phone(app):
    phone = mobile()
    issued = operations.request_login_code(operations.CodeRequest(phone), actor=Actor("anonymous"),
                                           client_ip="10.0.0.1")
    result = app.test_cli_runner().invoke(args=["portal", "sms", "outbox"])
    assert result.exit_code == 0, result.output
    assert issued.code in result.output and phone not in result.output and phone[-4:] in result.output


def test_dev_outbox_page_exists_in_development_only(client, app, monkeypatch):
    phone = mobile()
    issued = operations.request_login_code(operations.CodeRequest(phone), actor=Actor("anonymous"),
                                           client_ip="10.0.0.1")
    assert client.get("/dev/outbox").status_code == 404
    monkeypatch.setitem(app.config, "PORTAL_ENV", "development")
    page = client.get("/dev/outbox").get_data(as_text=True)
    assert issued.code in page and phone not in page


def test_staff_create_totp_and_unlock(app, monkeypatch):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "staff", "create", "wangfang", "--role", "reviewer", "--role", "chief",
                                 "--password", "Strong-Enough-77"])
    assert result.exit_code == 0, result.output
    account = app.extensions["portal_db"].session.execute(
        select(Account).where(Account.username == "wangfang")).scalar_one()
    assert account.roles == {Role.REVIEWER, Role.CHIEF}
    secret = result.output.split("authenticator app): ")[1].split()[0]
    assert secret == account.totp_secret

    weak = runner.invoke(args=["portal", "staff", "create", "weak", "--role", "finance", "--password", "short"])
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output

    assert runner.invoke(args=["portal", "staff", "totp", "wangfang"]).exit_code == 2  # testing, not development
    monkeypatch.setitem(app.config, "PORTAL_ENV", "development")
    with clock.frozen(T0):
        code = runner.invoke(args=["portal", "staff", "totp", "wangfang"]).output.strip()
        assert code == passwords.current_totp(secret, T0)

    account.locked_until = clock.now() + timedelta(minutes=30)
    account.failed_logins = 5
    assert runner.invoke(args=["portal", "staff", "unlock", "wangfang"]).exit_code == 0
    assert account.locked_until is None and account.failed_logins == 0


def test_demo_accounts_log_in_with_the_documented_secrets(client, app, db_session, staff_login, make_unit):
    from portal.insurance.demo import DEMO_UNIT, DEMO_UNIT_AGENT_PHONE
    from portal.organisations.demo import DEMO_INSTITUTION_AGENT_PHONE, DEMO_INSTITUTIONS

    make_unit(DEMO_UNIT.name, DEMO_UNIT.credit_code)
    created = ensure_demo_accounts()
    # the staff, the unit's agent, the demo institutions and the first institution's agent
    assert len(created) == len(DEMO_STAFF) + 1 + len(DEMO_INSTITUTIONS) + 1
    assert ensure_demo_accounts() == []  # idempotent
    for username, _name, roles, secret in DEMO_STAFF:
        account = db_session.execute(select(Account).where(Account.username == username)).scalar_one()
        assert account.roles == roles and account.totp_secret == secret
    with clock.frozen(datetime.now(UTC)):
        response = staff_login("kezhang", {u: s for u, _n, _r, s in DEMO_STAFF}["kezhang"],
                               password=DEMO_STAFF_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"  # the chief's workbench
    agent = db_session.execute(select(Account).where(Account.kind == "agent", Account.unit_id.isnot(None))).scalar_one()
    assert agent.is_unit_admin and agent.phone == DEMO_UNIT_AGENT_PHONE
    institution_agent = db_session.execute(select(Account).where(Account.institution_id.isnot(None))).scalar_one()
    assert institution_agent.is_unit_admin and institution_agent.phone == DEMO_INSTITUTION_AGENT_PHONE
    text = describe_demo_logins()
    assert "shouli" in text and DEMO_STAFF_PASSWORD in text and DEMO_UNIT.credit_code in text
    assert institution_agent.institution.code in text and DEMO_INSTITUTION_AGENT_PHONE in text
