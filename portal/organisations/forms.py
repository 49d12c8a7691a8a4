"""Forms of the organisations' pages: registering a first agent (online, at the window), managing agents."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, RadioField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.translation import lazy_gettext as _l
from ..core.validators import CreditCode, IdNumber, Mobile


def _required(message):
    return InputRequired(message=message)


class FirstAgentForm(FlaskForm):
    """The unit, its legal representative and the person who will be its administrator online."""

    credit_code = StringField(_l("Unified social credit code"), validators=[
        _required(_l("Enter the unified social credit code.")), Length(max=40), CreditCode()])
    org_name = StringField(_l("Unit name (as on the business licence)"), validators=[
        _required(_l("Enter the unit's name as registered.")), Length(max=200)])
    legal_rep_name = StringField(_l("Legal representative"), validators=[
        _required(_l("Enter the legal representative's name.")), Length(max=64)])
    agent_name = StringField(_l("Agent's name"), validators=[_required(_l("Enter the agent's name.")),
                                                             Length(max=64)])
    agent_id_number = StringField(_l("Agent's ID card number"), validators=[
        _required(_l("Enter the ID card number.")), Length(max=40), IdNumber()])
    agent_phone = StringField(_l("Agent's mobile number"), validators=[
        _required(_l("Enter the mobile number.")), Length(max=32), Mobile()])
    # unit: a 参保单位; institution: a 定点医药机构 (``?org=institution``), with its kind and national code
    org_kind = HiddenField(default="unit", validators=[AnyOf(["unit", "institution"])])
    institution_kind = RadioField(_l("Kind of institution"), choices=[
        SelectChoice("medical", _l("Medical institution")), SelectChoice("pharmacy", _l("Retail pharmacy"))],
        validators=[Optional()])
    institution_code = StringField(_l("Designated institution code (if it has one)"), validators=[
        Optional(), Length(max=20)])


class OnlineRegistrationForm(FirstAgentForm):
    method = RadioField(_l("How the unit authorises the agent"), default="business_license", choices=[
        SelectChoice("business_license", _l("With the unit's electronic business licence (immediately)")),
        SelectChoice("letter", _l("With a signed letter of authorisation (checked by staff)"))],
        validators=[_required(_l("Choose how the unit authorises the agent."))])
    letter = FileField(_l("Letter of authorisation, signed and stamped"))


class WindowRegistrationForm(FirstAgentForm):
    """Staff at the window: a code whose check character fails may be accepted (early pilot regions)."""

    credit_code = StringField(_l("Unified social credit code"), validators=[
        _required(_l("Enter the unified social credit code.")), Length(max=40), CreditCode(allow_bad_checksum=True)])
    org_kind = RadioField(_l("Kind of organisation"), default="unit", choices=[
        SelectChoice("unit", _l("Insured unit (employer)")),
        SelectChoice("institution", _l("Designated medical institution or retail pharmacy"))],
        validators=[_required(_l("Choose the kind of organisation.")), AnyOf(["unit", "institution"])])


class RefuseForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[_required(_l("Say why the registration is refused.")),
                                                     Length(max=500)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AgentScopeForm(FlaskForm):
    """What an agent may do: every item, or the chosen groups and items; until a last day (optional)."""

    everything = RadioField(_l("Items the agent may file and see"), default="all", choices=[
        SelectChoice("all", _l("Every item of the unit")),
        SelectChoice("some", _l("Only the groups and items chosen below"))])
    parts = MultiCheckboxField(_l("Groups of items"), choices=[])
    items = MultiCheckboxField(_l("Single items"), choices=[])
    expires_on = DateField(_l("Last day (optional)"), validators=[Optional()])


class AddAgentForm(AgentScopeForm):
    name = StringField(_l("Agent's name"), validators=[_required(_l("Enter the agent's name.")), Length(max=64)])
    phone = StringField(_l("Agent's mobile number"), validators=[_required(_l("Enter the mobile number.")),
                                                                 Length(max=32), Mobile()])
    id_number = StringField(_l("Agent's ID card number (optional)"), validators=[Optional(), Length(max=40),
                                                                                 IdNumber()])
