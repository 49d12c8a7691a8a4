"""Forms of the sampling pages: a draw, an item's rate, and a check's conclusion."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..core.translation import lazy_gettext as _l
from .models import OUTCOME_LABELS, Outcome


class DrawForm(FlaskForm):
    period_from = DateField(_l("Completed from"), validators=[InputRequired(_l("Enter the first day."))])
    period_to = DateField(_l("Completed until"), validators=[InputRequired(_l("Enter the last day."))])
    seed = StringField(_l("Seed (leave empty for a random one)"), validators=[Optional(), Length(max=64)])


class RateForm(FlaskForm):
    rate = IntegerField(_l("Sampling rate (percent)"),
                        validators=[InputRequired(_l("Enter a whole percentage from 0 to 100.")),
                                    NumberRange(0, 100, _l("Enter a whole percentage from 0 to 100."))])


class ConclusionForm(FlaskForm):
    outcome = RadioField(_l("What the check found"),
                         choices=[SelectChoice(o.value, OUTCOME_LABELS[o])
                                  for o in (Outcome.CONFIRMED, Outcome.FALSE_COMMITMENT)],
                         validators=[InputRequired(_l("Choose what the check found."))])
    reason = TextAreaField(_l("Reason told to the applicant (required when the commitment was false)"),
                           validators=[Optional(), Length(max=2000)])
    note = TextAreaField(_l("Internal note: what was checked and how"), validators=[Optional(), Length(max=2000)])
