"""Form of the holiday-schedule screen: the year and the notice's text (pasted, or a file)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional

from ..core.translation import lazy_gettext as _l

YEAR_HINT = _l("Give the year of the schedule, e.g. 2027.")


class ScheduleForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(YEAR_HINT), NumberRange(2000, 2100, YEAR_HINT)])
    text = TextAreaField(_l("The notice's text, or a CSV/YAML list of dates"),
                         validators=[Optional()])
    file = FileField(_l("Or choose a file (UTF-8 text, CSV or YAML)"), validators=[Optional()])
