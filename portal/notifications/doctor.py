"""The doctor's check of the notifications: each event reaches phones through an approved SMS template, or is kept
off them on purpose.

A real SMS gateway sends a notification event only through the provider template ``PORTAL_SMS_TEMPLATES`` names
for it; an event without one has its text-message delivery marked failed, every time (the inbox, and WeChat where
the user subscribed, still carry it). A release that adds an event (``returned_to_review``, for one) therefore
needs a template approved with the provider, or the operator's choice to send it without text: the event mapped to
"". This check names the events that have neither.

WeChat sends an event only to a user who accepted its subscribe message in the mini-program, through the template
``PORTAL_WECHAT_TEMPLATES`` names for it. The mini-program asks consent with template ids of its own, so the portal
cannot tell a missing one from an event the mini-program does not offer; what it can tell is an event that users have
consented to and that has no template here: each of those sends fails. The second check names them, with how many
consents wait.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from ..core.db import db
from ..core.doctor import Outcome, check
from ..integrations import sms
from . import wechat
from .constants import Event
from .models import WeChatSubscription


@check("sms_templates", "every notification event has its SMS template, or is sent without text messages on purpose")
def sms_templates() -> Outcome:
    chosen = sms.settings(current_app.config)
    if chosen.backend not in sms.REAL_BACKENDS:
        return Outcome(f"{chosen.backend}: no provider templates needed")
    events = [event.value for event in Event]
    declined = [event for event in events if chosen.declines(event)]
    lacking = [event for event in events if chosen.template_id(event) is None and event not in declined]
    summary = f"{len(events) - len(lacking) - len(declined)} of {len(events)} events have a template"
    if declined:
        summary += f"; sent without text messages on purpose: {', '.join(declined)}"
    return Outcome(summary, tuple(
        f"no SMS template for {event}: its text messages are marked failed; give it the provider's template id in "
        f'PORTAL_SMS_TEMPLATES, or "" to send it by the inbox and WeChat only' for event in lacking))


@check("wechat_templates", "every notification event users have subscribed to by WeChat has its template")
def wechat_templates() -> Outcome:
    backend = current_app.config.get("PORTAL_WECHAT_BACKEND", "fake")
    if backend == "fake":
        return Outcome("fake: no subscribe-message templates needed")
    events = [event.value for event in Event]
    templated = [event for event in events if wechat.template_id(event)]
    waiting = dict(db.session.execute(
        select(WeChatSubscription.event, func.sum(WeChatSubscription.grants)).where(WeChatSubscription.grants > 0)
        .group_by(WeChatSubscription.event)).all())
    lacking = sorted(event for event in waiting if event not in templated)
    return Outcome(f"{len(templated)} of {len(events)} events have a template", tuple(
        f"no WeChat template for {event}, which users consented to ({waiting[event]} consents unused): its "
        f"messages are marked failed; give it the template id in PORTAL_WECHAT_TEMPLATES" for event in lacking))
