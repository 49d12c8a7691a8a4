"""An operator may send a notification event without text messages (``PORTAL_SMS_TEMPLATES`` maps it to ""): it then
gets no SMS delivery at all, instead of one marked failed each time; and ``portal doctor`` names every event that
has neither a template nor that choice (a release that adds an event, such as ``returned_to_review``, needs one);
and names every event users consented to by WeChat that has no subscribe-message template."""

from __future__ import annotations

import json

from portal.core import doctor
from portal.notifications.constants import Channel, Event
from portal.notifications.operations import notify

CONTEXT = {"destination": "海南省", "expires_on": "2026-12-31"}  # Event.FILING_EXPIRING's fields
REAL = {"PORTAL_SMS_BACKEND": "aliyun", "PORTAL_SMS_KEY_ID": "LTAI-test", "PORTAL_SMS_KEY_SECRET": "secret",
        "PORTAL_SMS_SIGN_NAME": "长春医保"}


def _channels(notification) -> set[str]:
    return {delivery.channel for delivery in notification.deliveries}


def test_an_event_sent_without_text_messages_gets_no_sms_delivery_and_the_others_still_do(app, citizen, db_session,
                                                                                          monkeypatch):
    assert citizen.phone  # reachable by SMS
    monkeypatch.setitem(app.config, "PORTAL_SMS_TEMPLATES", json.dumps({"filing_expiring": "",
                                                                        "certificate_ready": "SMS_5"}))
    declined = notify(citizen, Event.FILING_EXPIRING, CONTEXT)
    assert Channel.SMS.value not in _channels(declined) and Channel.INBOX.value in _channels(declined)
    sent = notify(citizen, Event.CERTIFICATE_READY, {"item": "参保凭证", "number": "C1"})
    assert Channel.SMS.value in _channels(sent)
    monkeypatch.setitem(app.config, "PORTAL_SMS_TEMPLATES", "")  # no choice made: text is tried (and fails there)
    assert Channel.SMS.value in _channels(notify(citizen, Event.FILING_EXPIRING, CONTEXT))


def test_the_doctor_names_each_event_with_neither_a_template_nor_the_choice_to_send_it_without_text(app,
                                                                                                  monkeypatch):
    check = doctor.checks()["sms_templates"]
    with app.app_context():
        assert check.run().ok and "no provider templates needed" in check.run().summary  # the development outbox
        for key, value in REAL.items():
            monkeypatch.setitem(app.config, key, value)
        templates = {event.value: f"SMS_{i}" for i, event in enumerate(Event)}
        templates.pop("returned_to_review")
        templates["staff_digest"] = ""
        monkeypatch.setitem(app.config, "PORTAL_SMS_TEMPLATES", json.dumps(templates))
        outcome = check.run()
        assert not outcome.ok and len(outcome.problems) == 1
        assert outcome.problems[0].startswith("no SMS template for returned_to_review:")
        assert "sent without text messages on purpose: staff_digest" in outcome.summary
        templates["returned_to_review"] = "SMS_99"
        monkeypatch.setitem(app.config, "PORTAL_SMS_TEMPLATES", json.dumps(templates))
        assert check.run().ok


def test_the_doctor_names_each_event_users_consented_to_by_wechat_that_has_no_template(app, citizen, db_session,
                                                                                     monkeypatch):
    from portal.core.crypto import blind_index
    from portal.notifications.models import WeChatSubscription

    check = doctor.checks()["wechat_templates"]
    assert check.run().ok and "no subscribe-message templates needed" in check.run().summary  # the fake
    monkeypatch.setitem(app.config, "PORTAL_WECHAT_BACKEND", "http")
    monkeypatch.setitem(app.config, "PORTAL_WECHAT_TEMPLATES", json.dumps({"approved": "Xq2-approved"}))
    assert check.run().ok  # nobody has consented to anything yet
    for event, grants in (("approved", 2), ("paid", 3), ("completed", 0)):  # completed: its consent was used up
        db_session.add(WeChatSubscription(account_id=citizen.id, openid="oWx-doctor", event=event, grants=grants,
                                          openid_index=blind_index("oWx-doctor", "wechat_openid")))
    db_session.flush()
    outcome = check.run()
    assert outcome.problems == ("no WeChat template for paid, which users consented to (3 consents unused): its "
                                "messages are marked failed; give it the template id in PORTAL_WECHAT_TEMPLATES",)
    assert outcome.summary == f"1 of {len(Event)} events have a template"
    monkeypatch.setitem(app.config, "PORTAL_WECHAT_TEMPLATES", json.dumps({"approved": "Xq2-a", "paid": "Xq2-p"}))
    assert check.run().ok
