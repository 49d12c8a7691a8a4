"""The inbox (站内消息) with its unread count in the navigation, and the messages shown on a case page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..core.db import db
from . import operations, receivers  # noqa: F401 (receivers: importing connects the case_moved receiver)
from .constants import Event
from .messages import render

bp = Blueprint("notifications", __name__)
PER_PAGE = 20


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    """``inbox_unread()`` for the navigation badge and ``case_messages(case)`` for the case page; both run only
    where a template calls them."""
    return {"inbox_unread": lambda: operations.unread_count(current_user), "case_messages": _case_messages}


def _case_messages(case: Any) -> list[dict[str, Any]]:
    return [{"event": Event(n.event).label, "at": n.created_at, "deliveries": operations.delivery_summary(n)}
            for n in operations.case_messages(case)]


def _view(notification: Any) -> dict[str, Any]:
    message = render(notification.event, notification.context)
    return {"id": notification.id, "subject": message.subject, "body": message.body, "at": notification.created_at,
            "is_unread": notification.read_at is None, "application_id": notification.application_id,
            "event": notification.event}


@bp.route("/inbox")
@login_required
def inbox():
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    rows, total = operations.inbox(current_user, page=page, per_page=PER_PAGE)
    return render_template("notifications/inbox.html", messages=[_view(n) for n in rows], total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)))


@bp.route("/inbox/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    row = operations.mark_read(notification_id, by=current_user)
    db.session.commit()
    if row.application_id and request.form.get("open") == "case":
        return redirect(url_for("applications.detail", case_id=row.application_id))
    return redirect(url_for("notifications.inbox"))


@bp.route("/inbox/read-all", methods=["POST"])
@login_required
def mark_all_read():
    operations.mark_all_read(by=current_user)
    db.session.commit()
    return redirect(url_for("notifications.inbox"))

