"""Forms of the workbench. Every post carries a CSRF token (S8) and the version of the case the page showed."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..applications import operations as case_ops
from ..applications.constants import FORM_ENTRY, Defect, State
from ..catalog.labels import tr
from ..core.translation import get_locale
from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l


class VersionForm(FlaskForm):
    """Claim and release: nothing but the version the page was drawn from."""

    version = IntegerField(validators=[Optional()])


class AssignForm(VersionForm):
    assignee = IntegerField(_l("Assign to"), validators=[DataRequired(_l("Choose a member of staff."))])


class DecisionForm(VersionForm):
    action = HiddenField(validators=[DataRequired()])
    template = StringField(validators=[Optional(), Length(max=4)])  # the index of a reason template
    reason = TextAreaField(_l("Reason the applicant reads"), validators=[Optional(), Length(max=2000)])
    result = TextAreaField(_l("Result printed on the completion slip"), validators=[Optional(), Length(max=2000)])
    amount = StringField(_l("Amount to pay (CNY)"), validators=[Optional(), Length(max=20)])
    amount_reason = TextAreaField(_l("Why the amount differs from the computed one"),
                                  validators=[Optional(), Length(max=2000)])
    valid_until = StringField(_l("Valid until (set by the recognising institution)"),
                              validators=[Optional(), Length(max=10)])


class NoticeForm(VersionForm):
    """The checklist of a one-time notice: for each material (and the form) whether it is missing or needs
    correcting, with a note; posted as ``defect_<id>`` and ``note_<id>`` next to the general note."""

    note = TextAreaField(_l("Note to the applicant"), validators=[Optional(), Length(max=2000)])

    def notice_input(self, formdata: Any, material_ids: list[str], *, new_defect: bool) -> case_ops.NoticeInput:
        entries = []
        for material_id in [*material_ids, FORM_ENTRY]:
            defect = formdata.get(f"defect_{material_id}", "")
            if defect in {d.value for d in Defect}:
                note = (formdata.get(f"note_{material_id}") or "")[:500]
                entries.append(case_ops.NoticeEntry(material_id, Defect(defect), note))
        return case_ops.NoticeInput(tuple(entries), note=self.note.data or "", new_defect=new_defect)


class BatchForm(FlaskForm):
    """Accept the ticked complete 即办件 (``case`` checkboxes on the intake queue)."""


class SearchForm(FlaskForm):
    """The exact search by 身份证 or full name is posted, never put in the address (S14)."""

    id_number = StringField(_l("Applicant's ID number or full name"), validators=[Optional(), Length(max=64)])


class FilterForm(FlaskForm):
    """The queue's filters, read from the address (GET; no personal data in it)."""

    class Meta:
        csrf = False

    item = SelectField(_l("Item"), choices=[], validate_choice=False, validators=[Optional()])
    agency = SelectField(_l("Accepting unit"), choices=[], validate_choice=False, validators=[Optional()])
    state = SelectField(_l("State"), choices=[], validate_choice=False, validators=[Optional()])
    submitted_from = DateField(_l("Submitted from"), validators=[Optional()])
    submitted_to = DateField(_l("Submitted until"), validators=[Optional()])
    mine = SelectField(_l("Whose"), choices=[SelectChoice("", _l("Everyone's")), SelectChoice("1", _l("Mine"))],
                       validate_choice=False, validators=[Optional()])


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


FilterChoices = tuple[tuple[SelectChoice, ...], tuple[SelectChoice, ...], tuple[SelectChoice, ...]]
_FILTER_CHOICES: dict[tuple[int, str], tuple[Any, FilterChoices]] = {}


def filter_choices(catalog: Any) -> FilterChoices:
    """The queue filter's options (items, accepting units, states) in the page's language, made once per catalog
    and language: every queue page shows them, and naming each item of the catalog in the page's language
    was a tenth of the page's time. The options name items and units in the page's language (an <option>
    cannot hold a Chinese span)."""
    language = str(get_locale())
    kept = _FILTER_CHOICES.get((id(catalog), language))
    if kept is not None and kept[0] is catalog:
        return kept[1]
    items = sorted(catalog.items, key=lambda i: i.code)
    agencies = {i.accepting_unit.zh: tr(i.accepting_unit) for i in items if i.accepting_unit}
    made = (tuple(choices([("", _("All items"))] + [(i.code, f"{tr(i.name)} ({i.code})") for i in items])),
            tuple(choices([("", _("All units")), *sorted(agencies.items(), key=lambda pair: pair[1])])),
            tuple(choices([("", _("All states"))] + [(s.value, s.label) for s in State if s is not State.DRAFT])))
    _FILTER_CHOICES[(id(catalog), language)] = (catalog, made)
    return made
