"""Forms of the rating page and of the rectification steps.

The choices (levels, findings, responses) are plain text fields: the templates list the options from the enums,
and the operations check the values and say what is wrong, in one place for the pages and the API.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from ..core.translation import lazy_gettext as _l
from .constants import Stage


class RatingForm(FlaskForm):
    level = StringField(_l("How satisfied are you with how your application was handled?"))
    stage_acceptance = StringField(_l("Acceptance"))
    stage_review = StringField(_l("Review"))
    stage_completion = StringField(_l("Completion"))
    comment = TextAreaField(_l("Comment (required when you are not satisfied)"))

    @property
    def stages(self) -> dict[str, str]:
        return {s.value: getattr(self, f"stage_{s.value}").data or "" for s in Stage}


class CheckForm(FlaskForm):
    substantiated = StringField(_l("Is the complaint true?"))
    note = TextAreaField(_l("What the check found"))


class RectifyForm(FlaskForm):
    note = TextAreaField(_l("What was put right"))


class FollowUpForm(FlaskForm):
    response = StringField(_l("What the rater said"))
    note = TextAreaField(_l("What the rater was told"))


def apply_reasons(form: FlaskForm, error) -> None:
    """A ValidationFailed's (field, message) pairs onto the form's fields (the rest to ``form_errors``)."""
    for key, message in error.reasons:
        target = getattr(form, key, None) if key else None
        if target is None:
            form.form_errors.append(message)
        else:
            target.errors = [*target.errors, message]
