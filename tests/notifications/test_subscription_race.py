"""Two consents to the same WeChat subscribe message reported at the same moment (the mini-program retries, or two
of its pages report at once; PostgreSQL, each request its own session and connection): both count, and neither is
refused because the other inserted the row first."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from portal.accounts import operations as account_ops
from portal.accounts.models import Account, WeChatIdentity
from portal.core.crypto import blind_index
from portal.core.db import db
from portal.notifications import operations
from portal.notifications.models import WeChatSubscription
from tests.factories import mobile
from tests.race_support import SYSTEM, empty_every_table, outcomes_at_once, race_setup

pytestmark = pytest.mark.no_db

OPENID = "oWx-race-1"


@pytest.fixture
def account_id(app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", False)
    with race_setup(app, monkeypatch):
        code = account_ops.request_login_code(account_ops.CodeRequest(mobile()), actor=SYSTEM, client_ip="127.0.0.7")
        account = account_ops.login_with_code(account_ops.CodeLogin(code.code, handle=code.handle), actor=SYSTEM,
                                              client_ip="127.0.0.7")
        db.session.add(WeChatIdentity(openid_index=blind_index(OPENID, "wechat_openid"), account_id=account.id))
        db.session.commit()
        ids = account.id
    yield ids
    empty_every_table(app)


def test_two_consents_at_once_both_count(app, account_id):
    start = threading.Barrier(2, timeout=20)

    def consent() -> None:
        account = db.session.get(Account, account_id)
        start.wait()
        operations.record_subscriptions(account, OPENID, ["accepted"], actor=SYSTEM)

    assert outcomes_at_once(app, consent, [(), ()]) == ["ok", "ok"]
    with app.app_context():
        try:
            row = db.session.execute(select(WeChatSubscription)).scalar_one()
            grants, openid = row.grants, row.openid
            stored = db.session.execute(text("SELECT openid FROM wechat_subscription")).scalar_one()
        finally:
            db.session.remove()
    assert grants == 2
    assert openid == OPENID and OPENID not in stored  # sealed as before
