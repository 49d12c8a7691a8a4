"""Staff pages of post-hoc checking (事后核查) at /staff/sampling: rates, draws, and concluding checks.

Thin views: load → check permission → one operation → commit → respond. Chiefs draw and set rates (with
administrators); reviewers and chiefs conclude checks. Opening a check shows personal data: it is audited.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..accounts.forms import apply_errors
from ..accounts.permissions import is_staff
from ..applications.progress import timeline
from ..core.audit import actor_of, record
from ..core.db import db
from ..core.errors import DomainError
from ..core.translation import gettext as _
from . import operations as ops
from .forms import ConclusionForm, DrawForm, RateForm
from .models import SamplingDraw

bp = Blueprint("sampling", __name__, url_prefix="/staff/sampling")


@bp.before_request
@login_required
def _staff_only():
    if not (is_staff(current_user) and ops.can_view_sampling(current_user)):
        abort(403)  # staff whose roles do not check cases (others never get here: accounts.staff_area)


def _region() -> str:
    return current_app.config["PORTAL_REGION"]


def _overview(draw_form: DrawForm | None = None, status: int = 200):
    catalog = current_app.extensions["portal_catalog"]
    items = [i for i in catalog.items if any(m.commitment is not None for m in i.materials)]
    context = {
        "items": items, "rates": ops.region_rates(_region()), "default_rate": ops.default_rate(),
        "draws": ops.recent_draws(_region()), "checks": ops.open_checks(_region()),
        "counts": ops.outcome_counts(_region()), "draw_form": draw_form or DrawForm(), "rate_form": RateForm(),
        "can_draw": ops.can_draw(current_user), "can_set_rates": ops.can_set_rates(current_user),
    }
    return render_template("sampling/index.html", **context), status


@bp.get("")
def index():
    return _overview()


@bp.post("/draw")
def draw():
    form = DrawForm()
    if not form.validate_on_submit():
        return _overview(form, 422)
    data = ops.DrawInput(form.period_from.data, form.period_to.data, form.seed.data)
    try:
        row = ops.draw_sample(data, by=current_user, by_label=current_user.username, actor=actor_of(current_user))
    except DomainError as error:
        db.session.rollback()
        apply_errors(form, error)
        return _overview(form, error.status)
    db.session.commit()
    flash(_("The draw is recorded."), "success")
    return redirect(url_for("sampling.show_draw", draw_id=row.id))


@bp.post("/rates/<item_code>")
def set_rate(item_code: str):
    form = RateForm()
    if not form.validate_on_submit():
        flash(_("Enter a whole percentage from 0 to 100."), "error")
        return redirect(url_for("sampling.index"))
    try:
        ops.set_rate(item_code, form.rate.data, by=current_user, actor=actor_of(current_user))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("sampling.index"))
    db.session.commit()
    flash(_("The sampling rate is saved."), "success")
    return redirect(url_for("sampling.index"))


@bp.get("/draws/<int:draw_id>")
def show_draw(draw_id: int):
    row = db.session.get(SamplingDraw, draw_id)
    if row is None or row.region != _region():
        abort(404)
    return render_template("sampling/draw.html", draw=row)


def _check_page(check, form: ConclusionForm, status: int = 200):
    record("sampling.view_check", actor=actor_of(current_user), object_type="application",
           object_id=check.application_id, detail={"check": check.id})
    db.session.commit()
    item = current_app.extensions["portal_catalog"].get(check.item_code)
    names = {m.id: m.name.zh for m in item.materials} if item else {}
    return render_template("sampling/check.html", check=check, case=check.application, form=form, names=names,
                           events=timeline(check.application),
                           refusal=ops.cannot_conclude(current_user, check)), status


@bp.get("/checks/<int:check_id>")
def show_check(check_id: int):
    check = ops.get_check(check_id)
    if check.draw.region != _region():
        abort(404)
    return _check_page(check, ConclusionForm())


@bp.post("/checks/<int:check_id>")
def conclude(check_id: int):
    check = ops.get_check(check_id)
    if check.draw.region != _region():
        abort(404)
    form = ConclusionForm()
    if not form.validate_on_submit():
        return _check_page(check, form, 422)
    data = ops.Conclusion(form.outcome.data, form.reason.data or "", form.note.data or "")
    try:
        ops.conclude_check(check, data, by=current_user, actor=actor_of(current_user))
    except DomainError as error:
        db.session.rollback()
        apply_errors(form, error)
        return _check_page(ops.get_check(check_id), form, error.status)
    db.session.commit()
    flash(_("The check is concluded."), "success")
    return redirect(url_for("sampling.show_check", check_id=check_id))
