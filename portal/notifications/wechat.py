"""What a notification looks like as a WeChat subscribe message: its template, the page it opens, its keywords.

Sending goes through the WeChat port (``portal.integrations.wechat``); the channel (``channels.WeChatChannel``)
turns its errors into delivery failures. This module imports neither, so the two do not import each other.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from ..core import clock
from ..core.template_ids import template_ids
from .messages import Rendered


def parse_templates(raw: str) -> dict[str, str]:
    """``PORTAL_WECHAT_TEMPLATES``: a JSON object, notification event → subscribe-message template id. Anything else
    is refused when the portal starts (``portal.config``), not read as "no templates" while every send fails."""
    return template_ids(raw, setting="PORTAL_WECHAT_TEMPLATES",
                        meaning="notification event → subscribe-message template id", example='{"approved": "Xq2…"}',
                        allow_empty=False)


def template_id(event: str) -> str | None:
    """The subscribe-message template of ``event``: ``PORTAL_WECHAT_TEMPLATES`` (JSON, event → id); the fake
    backend has one per event."""
    configured = parse_templates(current_app.config.get("PORTAL_WECHAT_TEMPLATES") or "")
    if event in configured:
        return configured[event]
    return f"fake-{event}" if current_app.config.get("PORTAL_WECHAT_BACKEND", "fake") == "fake" else None


def page_for(notification: Any) -> str:
    """The mini-program page the message opens: the case, or the inbox."""
    if notification.application_id:
        return f"pages/applications/detail?id={notification.application_id}"
    return "pages/inbox/index"


def data_for(notification: Any, message: Rendered) -> dict[str, dict[str, str]]:
    """The template's keywords (thing ≤ 20 characters, time as WeChat writes it): what happened, a summary, when."""
    when = clock.to_local(notification.created_at).strftime("%Y-%m-%d %H:%M")
    return {"thing1": {"value": message.subject[:20]}, "thing2": {"value": message.body[:20]},
            "time3": {"value": when}}
