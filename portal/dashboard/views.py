"""The supervisor's dashboard at /staff/dashboard, and its CSV export. Section chiefs only; both are audited."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required

from ..accounts.models import Role
from ..accounts.permissions import is_staff
from ..applications.constants import State
from ..core import clock
from ..core.audit import actor_of, record
from ..core.db import db
from ..core.downloads import csv_response
from ..core.translation import gettext as _
from . import charts, queries

bp = Blueprint("dashboard", __name__, url_prefix="/staff/dashboard")
DEFAULT_DAYS = 90
EXPORTS = ("items", "overdue", "staff")


def can_view_dashboard(user) -> bool:
    """The dashboard and its export are the section chief's (科长) supervision tools."""
    return is_staff(user) and Role.CHIEF in user.roles


@bp.before_request
@login_required
def _chiefs_only():
    if not can_view_dashboard(current_user):
        abort(403)  # staff without the chief's role (others never get here: accounts.staff_area)


def _period() -> tuple[queries.Period, str | None]:
    """The period asked for in ``from``/``to`` (local dates), or the last 90 days with a note when unreadable."""
    today = clock.today()
    default = queries.Period(today - timedelta(days=DEFAULT_DAYS - 1), today)
    raw_from, raw_to = request.args.get("from"), request.args.get("to")
    if not raw_from and not raw_to:
        return default, None
    try:
        period = queries.Period(date.fromisoformat(raw_from or ""), date.fromisoformat(raw_to or ""))
    except ValueError:
        return default, _("The period could not be read; showing the last %(n)d days.", n=DEFAULT_DAYS)
    if period.first > period.last:
        return default, _("The period starts after it ends; showing the last %(n)d days.", n=DEFAULT_DAYS)
    return period, None


def _region() -> str:
    return current_app.config["PORTAL_REGION"]


@bp.get("")
def index():
    period, problem = _period()
    region = _region()
    states = queries.state_counts(region)
    items = queries.item_figures(region, period)
    late, late_total = queries.overdue(region)
    load = queries.staff_load(region)
    weeks = queries.weekly_trend(region)
    order = list(State)
    state_rows = [(State(s).label, n) for s, n in sorted(states.items(), key=lambda kv: order.index(State(kv[0])))]
    figures = {
        "states": charts.bar_chart(_("Cases per state"), state_rows),
        "load": charts.bar_chart(_("Open cases per staff member"), [(w.display_name, w.open_cases) for w in load]),
        "weeks": charts.column_chart(_("Cases per week"), [w.monday.strftime("%m-%d") for w in weeks],
                                     [(_("Submitted"), [w.submitted for w in weeks]),
                                      (_("Completed"), [w.completed for w in weeks])]),
    }
    record("dashboard.view", actor=actor_of(current_user), detail={"from": period.first, "to": period.last})
    db.session.commit()
    return render_template("dashboard/index.html", period=period, problem=problem, state_rows=state_rows,
                           items=items, late=late, late_total=late_total, load=load, weeks=weeks, charts=figures)


def _rows(kind: str, period: queries.Period) -> tuple[list[str], list[list]]:
    region = _region()
    if kind == "items":
        head = [_("Item code"), _("Item"), _("Completed"), _("On time"), _("On-time rate"), _("Average working days")]
        return head, [[f.item_code, f.item_name, f.completed, f.on_time,
                       f"{f.on_time_rate:.4f}" if f.on_time_rate is not None else "",
                       f"{f.average_working_days:.2f}" if f.average_working_days is not None else ""]
                      for f in queries.item_figures(region, period)]
    if kind == "overdue":
        head = [_("Case number"), _("Item"), _("State"), _("Due date"), _("Days late"), _("Staff member")]
        late, _total = queries.overdue(region, limit=100_000)
        return head, [[c.number, c.item_name, State(c.state).label, c.due_date.isoformat(), c.days_late,
                       c.assignee or ""] for c in late]
    head = [_("Staff member"), _("Username"), _("Open cases"), _("Overdue")]
    return head, [[w.display_name, w.username, w.open_cases, w.overdue] for w in queries.staff_load(region)]


@bp.get("/export.csv")
def export():
    kind = request.args.get("kind", "items")
    if kind not in EXPORTS:
        abort(404)
    period, _problem = _period()
    head, rows = _rows(kind, period)
    record("dashboard.export", actor=actor_of(current_user),
           detail={"kind": kind, "rows": len(rows), "from": period.first, "to": period.last})
    db.session.commit()
    return csv_response(head, rows, filename=f"{kind}-{period.first.isoformat()}-{period.last.isoformat()}.csv")
