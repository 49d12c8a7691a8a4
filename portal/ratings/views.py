"""好差评 pages: the applicant rates a completed case (mobile first); section chiefs work rectifications under
``/staff/rectifications`` and read the statistics under ``/staff/ratings``.

Thin views: load → permission → one operation → commit → respond. A refused step shows the page again with the
reasons on the fields (400); nothing of the refused post is kept.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..applications import operations as case_ops
from ..applications.permissions import is_applicant
from ..core import clock
from ..core.audit import actor_of, record, scrub
from ..core.db import db
from ..core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from ..core.translation import gettext as _
from . import forms, operations, recompute, stats  # noqa: F401 (recompute: connects its receiver)
from .constants import Level, RectState, Response, Stage

bp = Blueprint("ratings", __name__)


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"case_rating": _case_rating}


def _case_rating(case: Any) -> dict[str, Any]:
    """What the case page shows about rating: the rating, its rectification's outcome, and whether to (re)rate."""
    if not is_applicant(current_user, case) or case.state not in {"completed", "delivered"}:
        return {"show": False}
    rating = operations.rating_of(case)
    return {"show": True, "rating": rating, "rect": rating.rectification if rating else None,
            "can_rate": operations.cannot_rate(current_user, case) is None,
            "Level": Level, "Stage": Stage, "RectState": RectState, "Response": Response}


# --- the applicant -------------------------------------------------------------------------------------


def _own_case(case_id: int):
    case = case_ops.get_case(case_id, for_account=current_user)
    if not is_applicant(current_user, case):
        raise NotFound(_("No such application."))
    return case


@bp.route("/applications/<int:case_id>/rating", methods=["GET", "POST"])
@login_required
def rate(case_id: int):
    case = _own_case(case_id)
    rating = operations.rating_of(case)
    form = forms.RatingForm(obj=None)
    if request.method == "GET" and rating is not None:
        form.level.data, form.comment.data = rating.level, rating.comment
        for stage in Stage:
            getattr(form, f"stage_{stage.value}").data = getattr(rating, f"{stage.value}_level") or ""
    problem = operations.cannot_rate(current_user, case)
    if form.validate_on_submit() and problem is None:
        data = operations.RatingInput(form.level.data or "", form.stages, form.comment.data or "")
        try:
            rating = operations.rate_case(case, data, by=current_user, actor=actor_of(current_user))
        except ValidationFailed as error:
            db.session.rollback()
            forms.apply_reasons(form, error)
            return _rate_page(case, form, rating, problem), 400
        db.session.commit()
        flash(_("Thank you for your rating.") if not rating.level_enum.is_bad else
              _("Thank you. A section chief will check what went wrong and contact you about it."), "success")
        return redirect(url_for("applications.detail", case_id=case.id) + "#rating")
    return _rate_page(case, form, rating, problem), 400 if form.is_submitted() else 200


def _rate_page(case: Any, form: forms.RatingForm, rating: Any, problem: str | None) -> str:
    return render_template("ratings/rate.html", case=case, form=form, rating=rating, problem=problem, Level=Level)


# --- supervisors ---------------------------------------------------------------------------------------


def _supervisor() -> None:
    if not operations.can_supervise(current_user):
        raise PermissionDenied(_("Only a section chief supervises ratings and rectifications."))


@bp.route("/staff/rectifications")
@login_required
def rectifications():
    _supervisor()
    state = request.args.get("state")
    rows = operations.rectifications(state=state)
    return render_template("ratings/rectifications.html", rows=rows, state=state, RectState=RectState,
                           today=clock.today())


STEP_FORMS = {RectState.OPEN: forms.CheckForm, RectState.RECTIFYING: forms.RectifyForm,
              RectState.FOLLOW_UP: forms.FollowUpForm}


@bp.route("/staff/rectifications/<int:rect_id>", methods=["GET", "POST"])
@login_required
def rectification(rect_id: int):
    _supervisor()
    rect = operations.get_rectification(rect_id, by=current_user)
    form_class = STEP_FORMS.get(rect.state_enum)
    form = form_class() if form_class else None
    if form is not None and form.validate_on_submit():
        try:
            _step(rect, form)
        except ValidationFailed as error:
            db.session.rollback()
            forms.apply_reasons(form, error)
            return _rect_page(rect, form), 400
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("ratings.rectification", rect_id=rect_id))
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("ratings.rectification", rect_id=rect_id))
    record("rectification.view", actor=actor_of(current_user), object_type="rectification", object_id=rect.id)
    db.session.commit()
    return _rect_page(rect, form), 400 if form is not None and form.is_submitted() else 200


def _step(rect: Any, form: Any) -> None:
    actor = actor_of(current_user)
    if isinstance(form, forms.CheckForm):
        answer = {"yes": True, "no": False}.get(form.substantiated.data or "")
        operations.check_rectification(rect, operations.CheckInput(answer, form.note.data or ""), by=current_user,
                                       actor=actor)
    elif isinstance(form, forms.RectifyForm):
        operations.rectify(rect, form.note.data or "", by=current_user, actor=actor)
    else:
        operations.follow_up(rect, operations.FollowUpInput(form.note.data or "", form.response.data or ""),
                             by=current_user, actor=actor)


def _rect_page(rect: Any, form: Any) -> str:
    # the rater's own words may hold a phone or ID number: staff read them masked (S12)
    comment = scrub(rect.rating.comment) if rect.rating.comment else None
    return render_template("ratings/rectification.html", rect=rect, rating=rect.rating, case=rect.application,
                           comment=comment,
                           form=form, RectState=RectState, Level=Level, Stage=Stage, Response=Response,
                           responses=[(r.value, r.label) for r in Response])


@bp.route("/staff/ratings/stats")
@login_required
def statistics():
    _supervisor()
    since = request.args.get("since", "")
    since = since if len(since) == 7 and since[:4].isdigit() and since[4] == "-" and since[5:].isdigit() else None
    return render_template("ratings/stats.html", since=since, items=stats.by_item(since),
                           agencies=stats.by_agency(since), staff=stats.by_staff(since), months=stats.by_month(since),
                           rect=stats.rectification_figures())
