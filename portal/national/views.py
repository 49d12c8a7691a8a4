"""The staff screen of the national platform at /staff/national: filings whose latest report has not gone out (and
why), and messages the platform refused for good, with "send again" for each. Opening it and every resend are
audited."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..core.audit import actor_of, record
from ..core.db import db
from ..core.translation import gettext as _
from ..workbench.permissions import is_case_worker
from . import filings
from .models import OutboundMessage, OutboundStatus
from .operations import retry

bp = Blueprint("national", __name__, url_prefix="/staff/national")


def can_view_national(user) -> bool:
    """Case workers see what has not reached the platform: they took the filings and answer the citizens."""
    return is_case_worker(user)


class RetryForm(FlaskForm):
    """Only the CSRF token."""


@bp.before_request
@login_required
def _case_workers_only():
    if not can_view_national(current_user):
        abort(403)


@bp.get("/")
def index():
    unreported = filings.unreported()
    failed = db.session.execute(select(OutboundMessage).where(
        OutboundMessage.status == OutboundStatus.FAILED.value, OutboundMessage.filing_id.is_(None))
        .order_by(OutboundMessage.id).limit(200)).scalars().all()
    record("national.viewed", actor=actor_of(current_user), detail={"unreported": len(unreported)})
    db.session.commit()
    return render_template("national/index.html", unreported=unreported, failed=failed, form=RetryForm(),
                           describe=filings.describe, events=filings.EVENT_LABELS)


@bp.post("/messages/<int:message_id>/retry")
def resend(message_id: int):
    row = db.session.get(OutboundMessage, message_id) if 0 < message_id < 2**31 else None
    if row is None or not RetryForm().validate_on_submit():
        abort(404 if row is None else 400)
    if row.status != OutboundStatus.FAILED.value:
        flash(_("This message is not refused: it is sent or waiting to be sent already."), "info")
        return redirect(url_for("national.index"))
    if row.filing_id is not None and row.filing is not None:
        filings.report_filing(row.filing, row.filing_event or "changed")  # its state now, as a new message
    else:
        retry(row)
    record("national.resend", actor=actor_of(current_user), object_type="national_outbox", object_id=row.id,
           detail={"type": row.type, "message_id": row.message_id})
    db.session.commit()
    flash(_("The message will be sent again in a moment."), "success")
    return redirect(url_for("national.index"))
