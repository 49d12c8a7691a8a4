"""The holiday-schedule screen (/staff/calendar), for administrators: import, preview, apply, list, delete.

The same operations as ``portal calendar import | list | delete`` (schedules.py); each change is one transaction.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..accounts.forms import apply_errors
from ..accounts.models import Role
from ..accounts.permissions import is_staff
from ..core import clock
from ..core.audit import actor_of
from ..core.db import db
from ..core.errors import NotFound, ValidationFailed
from ..core.translation import gettext as _
from . import engine, schedules
from .forms import ScheduleForm

bp = Blueprint("calendar", __name__, url_prefix="/staff/calendar")
MAX_FILE = 200_000


def can_manage_calendar(user) -> bool:
    return is_staff(user) and Role.ADMIN in user.roles


@bp.app_template_global("calendar_gaps")
def calendar_gaps() -> list[int]:
    """Years (this and, from 1 November, next) whose holiday schedule is unknown: the staff banner shows them."""
    return [c.year for c in engine.coverage_gaps(clock.today())]


@bp.app_template_global("is_estimated_date")
def is_estimated_date(day: date | None) -> bool:
    """Whether a date counted from today in working days passes through a year whose holidays are unknown."""
    return day is not None and engine.is_estimated_on_page(clock.today(), day)


@bp.app_template_global("can_manage_calendar")
def _can_manage_calendar_global() -> bool:
    return can_manage_calendar(current_user)


@bp.before_request
@login_required
def _administrators_only():
    if not can_manage_calendar(current_user):
        abort(403 if is_staff(current_user) else 404)  # the /staff rule (accounts.staff_area)


def _text_of(form: ScheduleForm) -> str:
    upload = form.file.data
    if upload is not None and getattr(upload, "filename", ""):
        raw = upload.read(MAX_FILE + 1)
        if len(raw) > MAX_FILE:
            raise ValidationFailed([("file", _("The file is too large to be a holiday schedule."))])
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationFailed([("file", _("The file must be UTF-8 text."))]) from exc
    return form.text.data or ""


def _page(form: ScheduleForm, preview: schedules.Preview | None = None, status: int = 200):
    today = clock.today()
    year = form.year.data if isinstance(form.year.data, int) else today.year + 1
    years = [engine.coverage(y) for y in (today.year, today.year + 1)]
    manual = [row for row in schedules.entries(year) if row.schedule_id is None]
    grid = schedules.month_grid(preview.schedule, year) if preview is not None else None
    return render_template("calendar/index.html", form=form, preview=preview, grid=grid, years=years,
                           imported=schedules.list_schedules(), manual=manual, year=year,
                           gaps=engine.coverage_gaps(today)), status


@bp.get("/")
def index():
    form = ScheduleForm(formdata=None, year=clock.today().year + 1)
    return _page(form)


@bp.post("/preview")
def preview():
    form = ScheduleForm()
    if not form.validate():
        return _page(form, status=422)
    try:
        text = _text_of(form)
        result = schedules.preview_schedule(form.year.data, text)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return _page(form, status=422)
    form.text.data = text
    return _page(form, result)


@bp.post("/apply")
def apply():
    form = ScheduleForm()
    if not form.validate():
        return _page(form, status=422)
    try:
        applied = schedules.apply_schedule(form.year.data, _text_of(form), source=_("pasted on the calendar screen"),
                                           actor=actor_of(current_user))
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(form, status=422)
    db.session.commit()
    if applied.unchanged:
        flash(_("The same schedule is already in use for %(year)s: nothing changed.", year=form.year.data), "info")
    else:
        flash(_("The schedule of %(year)s is applied: %(days)s days changed, %(cases)s deadlines recounted.",
                year=form.year.data, days=len(applied.changed), cases=sum(applied.moved.values())), "success")
    return redirect(url_for("calendar.index"))


@bp.post("/<int:year>/delete")
def delete(year: int):
    try:
        applied = schedules.delete_schedule(year, actor=actor_of(current_user))
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("The imported schedule of %(year)s is deleted: %(cases)s deadlines recounted.", year=year,
            cases=sum(applied.moved.values())), "success")
    return redirect(url_for("calendar.index"))


@bp.post("/days/<day>/delete")
def delete_day(day: str):
    try:
        schedules.delete_override(date.fromisoformat(day), actor=actor_of(current_user))
    except (ValueError, NotFound):
        abort(404)
    except ValidationFailed as exc:
        flash("; ".join(m for _f, m in exc.reasons), "error")
        return redirect(url_for("calendar.index"))
    db.session.commit()
    flash(_("The day %(day)s entered by hand is deleted.", day=day), "success")
    return redirect(url_for("calendar.index"))
