"""A personal account that a closing withdrawal (死亡, 出国定居) could not close, money having been credited after its
payment started: the account keeps the case until it closes, finance lists it on the payments page, and the applicant
is reminded once, a month after, unless they applied again. The deferral itself is in test_late_and_closing.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.applications import operations as ops
from portal.core import clock
from portal.core.db import db
from portal.insurance import ledger
from portal.insurance.constants import AccountTransactionKind
from portal.notifications.constants import Event
from portal.notifications.messages import render
from portal.notifications.models import Notification
from portal.notifications.reminders import send_reminders
from portal.services.claims.effects import left_open
from tests.services.claims.conftest import SYSTEM
from tests.services.claims.test_late_and_closing import _withdrawal

ONLY = ["accounts_left_open"]


def _left_open(app, region, citizen, staff):
    """A 死亡 withdrawal of 812.40 completed after 50.00 was credited to the account while it was paying."""
    case, account = _withdrawal(app, region, citizen, staff, "死亡")
    ledger.deposit(citizen.person.id, Decimal("50.00"), AccountTransactionKind.CREDIT, "当月划入")
    ops.complete_application(case, by=staff["finance"], actor=SYSTEM)
    return case, account


def _reminders(account) -> list[Notification]:
    return db.session.execute(select(Notification).where(Notification.account_id == account.id,
                                                         Notification.event == Event.ACCOUNT_LEFT_OPEN.value)
                              ).scalars().all()


def test_the_account_keeps_the_case_until_a_new_withdrawal_closes_it(app, region, citizen, staff):
    case, account = _left_open(app, region, citizen, staff)
    assert (account.status, account.closing_case_id) == ("open", case.id)
    [row] = left_open()
    assert (row.case, row.balance, row.reason, row.again) == (case, Decimal("50.00"), "死亡", None)
    assert row.person == citizen.person.name[0] + "*"  # masked (S12)

    again, _same = _withdrawal(app, region, citizen, staff, "死亡", balance=None)  # the 50.00, now paying
    [row] = left_open()
    assert row.again == again and row.balance == Decimal("0.00")  # debited when its payment started
    ops.complete_application(again, by=staff["finance"], actor=SYSTEM)
    assert (account.status, account.closing_case_id) == ("closed", None)
    assert again.number in account.closed_reason
    assert left_open() == []


def test_the_applicant_is_reminded_once_a_month_after_in_their_language(app, region, citizen, staff):
    case, _account = _left_open(app, region, citizen, staff)
    completed = clock.to_local(case.completed_at).date()
    assert send_reminders(completed + timedelta(days=29), only=ONLY) == {"accounts_left_open": 0}
    assert send_reminders(completed + timedelta(days=30), only=ONLY) == {"accounts_left_open": 1}
    assert send_reminders(completed + timedelta(days=90), only=ONLY) == {"accounts_left_open": 0}  # once
    [message] = _reminders(citizen)
    assert message.application_id == case.id
    zh = render(message.event, message.context, "zh_Hans_CN")
    assert zh.subject == "个人账户尚未注销"
    assert zh.body == (f"您申请的参保人员个人账户一次性支取（编号{case.number}）已拨付，"
                       "但开始拨付后个人账户又记入¥50.00，账户尚未注销。请再申请一次性支取领取这笔钱，支取后账户即注销。")
    en = render(message.event, message.context, "en").body
    assert case.number in en and "CN¥50.00 was credited" in en and "Apply for the withdrawal again" in en


def test_no_reminder_once_a_new_withdrawal_is_filed_or_when_the_days_are_set_longer(app, region, citizen, staff):
    case, _account = _left_open(app, region, citizen, staff)
    completed = clock.to_local(case.completed_at).date()
    app.config["PORTAL_REMIND_ACCOUNT_LEFT_OPEN_DAYS"] = 45
    try:
        assert send_reminders(completed + timedelta(days=44), only=ONLY) == {"accounts_left_open": 0}
    finally:
        del app.config["PORTAL_REMIND_ACCOUNT_LEFT_OPEN_DAYS"]
    _withdrawal(app, region, citizen, staff, "死亡", balance=None)  # applied again: the money is on its way
    assert send_reminders(completed + timedelta(days=60), only=ONLY) == {"accounts_left_open": 0}
    assert _reminders(citizen) == []


def test_finance_sees_the_account_waiting_to_be_closed_on_the_payments_page(app, region, citizen, staff, make_staff,
                                                                           make_client, db_session):
    from tests.factories import log_in_staff

    case, _account = _left_open(app, region, citizen, staff)
    _finance, secret = make_staff("leftfin", roles={Role.FINANCE})
    db_session.commit()
    browser = log_in_staff(make_client(), "leftfin", secret)
    browser.set_cookie("lang", "zh_Hans_CN")
    page = browser.get("/staff/payments").get_data(as_text=True)
    section = page[page.index('id="left-open"'):]
    assert "待注销的个人账户" in section and "办结30天后仍未再次申请的，系统会再提醒申请人一次" in section
    row = section[section.index(f'data-case="{case.number}"'):].split("</tr>")[0]
    assert f'href="/staff/cases/{case.id}"' in row and citizen.person.name[0] + "*" in row
    assert citizen.person.name not in row  # masked
    assert "死亡" in row and "¥50.00" in row and "尚未" in row

    again, _same = _withdrawal(app, region, citizen, staff, "死亡", balance=None)
    db_session.commit()
    browser.set_cookie("lang", "en")
    row = browser.get("/staff/payments").get_data(as_text=True).split(f'data-case="{case.number}"')[1].split("</tr>")[0]
    assert again.number in row and "Payment in progress" in row and "CN¥0.00" in row

    ops.complete_application(again, by=staff["finance"], actor=SYSTEM)
    db_session.commit()
    page = browser.get("/staff/payments").get_data(as_text=True)
    assert f'data-case="{case.number}"' not in page
    assert "None: every account such a withdrawal was for is closed." in page


# --- the revision that adds the column -------------------------------------------------------------------------------


REVISION, BEFORE = "c4a7e2d91f30", "ee92bfff827a"
_PERSON = ("INSERT INTO person (id, insured_no, name, name_index, id_number, id_number_index, gender, birth_date, "
           "category, is_retired_cadre, is_model_worker, is_extreme_poverty, is_subsistence_allowance, "
           "is_severely_disabled, is_disabled_veteran, created_at) VALUES (:id, :no, 'sealed', :no, 'sealed', :no, "
           "'M', '1950-01-01', 'retiree', false, false, false, false, false, false, '2026-01-01 00:00:00+00')")
_ACCOUNT = ("INSERT INTO personal_account (id, person_id, balance, opened_on, status, closed_on, closed_reason, "
            "updated_at) VALUES (:id, :id, :balance, '2020-01-01', :status, :closed_on, :reason, "
            "'2026-12-01 00:00:00+00')")
_CASE = ("INSERT INTO application (id, number, region, item_code, item_name, handler, audience, is_money, is_instant, "
         "limit_kind, limit_wording, applicant_id, applicant_name, on_behalf, form_json, materials_json, state, "
         "version, created_at, updated_at, paused_working_days, queue, person_id) VALUES (:id, :number, 'yueyang', "
         "'002036002003', '支取', 'claims', 'individual', true, false, 'working_days', '', 1, 'sealed', false, '{}', "
         "'{}', 'completed', 1, '2026-11-30 00:00:00+00', '2026-11-30 00:00:00+00', 0, 'done', :person)")
_DEFERRED = ("INSERT INTO audit_event (at, actor_kind, action, object_type, object_id, result, detail, hash) VALUES "
             "('2026-12-01 00:00:00+00', 'system', :action, 'application', :case, 'ok', '{}', :hash)")


@pytest.mark.no_db
def test_the_revision_gives_each_open_account_its_newest_deferred_closing_and_its_downgrade_drops_it(app, tmp_path):
    from alembic import command
    from sqlalchemy import text

    from tests.test_downgrades import CITIZEN, migrate, migrated_database

    with migrated_database(app, tmp_path) as (connection, config):
        migrate(connection, command.upgrade, config, BEFORE)
        connection.execute(text(CITIZEN))
        for person, (balance, status) in {1: ("50.00", "open"), 2: ("0.00", "closed"), 3: ("9.00", "open")}.items():
            connection.execute(text(_PERSON), {"id": person, "no": f"P{person}"})
            connection.execute(text(_ACCOUNT), {"id": person, "balance": balance, "status": status,
                                                "closed_on": "2026-12-02" if status == "closed" else None,
                                                "reason": "死亡" if status == "closed" else None})
        # person 1: deferred twice (the newest counts); 2: deferred, then closed by the next; 3: never deferred
        for case, person in ((11, 1), (12, 1), (21, 2), (22, 2), (31, 3)):
            connection.execute(text(_CASE), {"id": case, "number": f"N{case}", "person": person})
        for case, action in ((11, "account.close_deferred"), (12, "account.close_deferred"),
                             (21, "account.close_deferred"), (31, "application.complete")):
            connection.execute(text(_DEFERRED), {"action": action, "case": str(case), "hash": f"h{case}"})
        connection.commit()

        migrate(connection, command.upgrade, config, REVISION)
        rows = connection.execute(text("SELECT id, closing_case_id FROM personal_account ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, 12), (2, None), (3, None)]

        migrate(connection, command.downgrade, config, BEFORE)
        columns = {c["name"] for c in connection.dialect.get_columns(connection, "personal_account")}
        assert "closing_case_id" not in columns
        migrate(connection, command.upgrade, config, "head")
        assert connection.execute(text("SELECT closing_case_id FROM personal_account WHERE id = 1")).scalar() == 12


def test_the_applicant_reads_what_is_left_on_the_case_page_and_can_apply_again_from_there(
        app, region, citizen, staff, make_client, db_session):
    from tests.factories import log_in_by_code as login

    case, _account = _left_open(app, region, citizen, staff)
    db_session.commit()
    browser = login(make_client(), db_session, citizen.phone)
    browser.set_cookie("lang", "zh_Hans_CN")

    def note() -> str:
        page = browser.get(f"/applications/{case.id}").get_data(as_text=True)
        return page[page.index('id="account-left-open"'):].split("</div>")[0] if "account-left-open" in page else ""

    shown = note()
    assert "账户中尚有¥50.00，账户尚未注销" in shown
    assert f'id="withdraw-again" href="/apply/{case.item_code}"' in shown and "再次申请支取" in shown
    browser.set_cookie("lang", "en")
    assert "CN¥50.00 is still in it, so the account is not closed yet" in note()
    browser.set_cookie("lang", "zh_Hans_CN")
    again, _same = _withdrawal(app, region, citizen, staff, "死亡", balance=None)  # filed again, by the same account
    db_session.commit()
    shown = note()
    assert "您已再次申请支取" in shown and again.number in shown and "withdraw-again" not in shown
    assert "¥" not in shown  # its payment took the money: nothing is said to be left
    ops.complete_application(again, by=staff["finance"], actor=SYSTEM)  # the account closes
    db_session.commit()
    assert note() == ""
