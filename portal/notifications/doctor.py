"""The doctor's check of the notifications: each event reaches phones through an approved SMS template, or is kept
off them on purpose.

A real SMS gateway sends a notification event only through the provider template ``PORTAL_SMS_TEMPLATES`` names
for it; an event without one has its text-message delivery marked failed, every time (the inbox, and WeChat where
the user subscribed, still carry it). A release that adds an event (``returned_to_review``, for one) therefore
needs a template approved with the provider, or the operator's choice to send it without text: the event mapped to
"". This check names the events that have neither.
"""

from __future__ import annotations

from flask import current_app

from ..core.doctor import Outcome, check
from ..integrations import sms
from .constants import Event


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
