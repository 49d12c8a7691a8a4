"""Login, binding, agent and password forms. Field rules come from ``portal.core.validators``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, EqualTo, InputRequired, Length, Regexp, ValidationError

from ..core.translation import lazy_gettext as _l
from ..core.validators import CreditCode, IdNumber, Mobile


def _required(message=None):
    return InputRequired(message=message or _l("This field is required."))


class CitizenPhoneForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[_required(_l("Enter the mobile number.")),
                                                         Length(max=32), Mobile()])


class OrgCode:
    """The organisation's code at an agent's login: a unit's 统一社会信用代码; an institution's, or its 12-character
    医保机构编码."""

    def __call__(self, form, field) -> None:
        compact = "".join((field.data or "").split()).upper()
        if form.org_kind.data == "institution" and len(compact) == 12:
            from ..core.errors import ValidationFailed
            from ..organisations.institutions import check_institution_code

            try:
                field.data = check_institution_code(compact)
            except ValidationFailed as exc:
                raise ValidationError(exc.reasons[0][1]) from None
            return
        CreditCode()(form, field)


class AgentPhoneForm(FlaskForm):
    # unit: a 参保单位's agent; institution: a 定点医药机构's (``?org=institution``)
    org_kind = HiddenField(default="unit", validators=[AnyOf(["unit", "institution"])])
    credit_code = StringField(_l("Unified social credit code of the unit"),
                              validators=[_required(_l("Enter the unified social credit code.")), Length(max=40),
                                          OrgCode()])
    phone = StringField(_l("Mobile number of the agent"), validators=[_required(_l("Enter the mobile number.")),
                                                                      Length(max=32), Mobile()])


class CodeForm(FlaskForm):
    code = StringField(_l("Code from the text message"),
                       validators=[_required(_l("Enter the 6-digit code.")),
                                   Regexp(r"^\s*\d{6}\s*$", message=_l("The code has 6 digits."))])


class StaffLoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[_required(_l("Enter the username.")), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[_required(_l("Enter the password.")), Length(max=256)])
    totp = StringField(_l("Verification code from the authenticator app"),
                       validators=[_required(_l("Enter the 6-digit verification code.")),
                                   Regexp(r"^\s*\d{6}\s*$", message=_l("The verification code has 6 digits."))])


class BindForm(FlaskForm):
    name = StringField(_l("Name (as on the ID card)"), validators=[_required(_l("Enter your name.")),
                                                                    Length(max=64)])
    id_number = StringField(_l("ID card number"), validators=[_required(_l("Enter the ID card number.")),
                                                              Length(max=40), IdNumber()])


class FaceProofForm(FlaskForm):
    """The token the face-verification page hands back once the live capture is done."""

    live_token = StringField(_l("Face verification result"),
                             validators=[_required(_l("The face verification did not finish. Please start it again.")),
                                         Length(max=512)])


class ECredentialForm(FlaskForm):
    code = StringField(_l("Code of your medical insurance e-credential"),
                       validators=[_required(_l("Enter the code of your medical insurance e-credential.")),
                                   Length(max=512)])


class WindowConfirmForm(FlaskForm):
    """Staff at the window type the number from the ID card they hold."""

    id_number = StringField(_l("ID card number (from the card in your hand)"),
                            validators=[_required(_l("Enter the ID card number.")), Length(max=40), IdNumber()])


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token (logout, remove an agent)."""


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[_required(_l("Enter the current password.")), Length(max=256)])
    new_password = PasswordField(_l("New password"),
                                 validators=[_required(_l("Enter a new password.")), Length(max=256)])
    confirm_password = PasswordField(_l("New password again"),
                                     validators=[_required(_l("Enter the new password again.")),
                                                 EqualTo("new_password", message=_l("The two new passwords differ."))])


def apply_errors(form: FlaskForm, error) -> None:
    """Put a ValidationFailed's (field, message) pairs on the form; unknown fields go to ``form.form_errors``."""
    for field_name, message in getattr(error, "reasons", [(None, error.message)]):
        field = getattr(form, field_name, None) if field_name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors), message]
        else:
            form.form_errors.append(message)
