"""The filing page's form: the fields of the region's 备案表 (``sheets``), this service's optional ones, the
destination as province → city → county (one select each; the page's script turns them into a cascade with
search, the form works without it), and the commitment (explicit tick and the full name typed)."""

from __future__ import annotations

import secrets
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import Optional

from ...core.translation import lazy_gettext as _l
from . import divisions, sheets
from .operations import METHOD_COMMITMENT, METHOD_PAPER, METHOD_UPLOAD, ChangeInput, FilingInput

CHINESE_OPTION = {"lang": "zh-Hans"}
FIELD_OF = {"destination_code": "province", "method": "method"}  # operation field → form field


def _choices(rows: list[divisions.Division]) -> list[SelectChoice]:
    """The divisions by their official Chinese names, marked as Chinese (English pages quote them as they are)."""
    return [SelectChoice("", "—")] + [SelectChoice(d.code, d.name, render_kw=CHINESE_OPTION) for d in rows]


class _Places(FlaskForm):
    province = SelectField(_l("Province"), validate_choice=False)
    city = SelectField(_l("City"), validate_choice=False)
    county = SelectField(_l("County or district (optional)"), validate_choice=False)

    def fill_places(self) -> None:
        """The lists the chosen province and city offer (the page is reloaded to refresh them, no script needed)."""
        self.province.choices = _choices(divisions.provinces())
        cities = divisions.cities(self.province.data or "")
        self.city.choices = _choices(cities)
        if self.city.data not in {d.code for d in cities}:
            self.city.data = ""
        counties = divisions.counties(self.city.data or "")
        self.county.choices = _choices(counties)
        if self.county.data not in {d.code for d in counties}:
            self.county.data = ""

    @property
    def province_level_only(self) -> bool:
        return (self.province.data or "") in divisions.PROVINCE_LEVEL_ONLY

    def destination_code(self) -> str:
        return self.county.data or self.city.data or self.province.data or ""

    def apply_reasons(self, error: Any) -> None:
        for key, message in getattr(error, "reasons", [(None, getattr(error, "message", str(error)))]):
            target = self._fields.get(FIELD_OF.get(key or "", key or ""))
            if target is None:
                self.form_errors.append(message)
            else:
                target.errors = [*target.errors, message]


class FilingForm(_Places):
    start_date = StringField(_l("Start date"), validators=[Optional()])
    care_address = StringField(_l("Address at the destination"), validators=[Optional()])
    care_phone = StringField(_l("Phone"), validators=[Optional()])
    care_phone2 = StringField(_l("Phone 2"), validators=[Optional()])
    insured_address = StringField(_l("Address at home"), validators=[Optional()])
    insurance_type = RadioField(_l("Insurance"), validate_choice=False, choices=[
        SelectChoice(sheets.INSURANCE_TYPES[0], _l("Employee medical insurance (职工医保)")),
        SelectChoice(sheets.INSURANCE_TYPES[1], _l("Urban-rural resident medical insurance (城乡居民医保)")),
    ])
    signer = RadioField(_l("Who signs the form"), validate_choice=False, choices=[
        SelectChoice(sheets.SIGNERS[0], _l("I do (本人)")),
        SelectChoice(sheets.SIGNERS[1], _l("The person I asked to file for me (被委托人)")),
    ], default=sheets.SIGNERS[0])
    method = RadioField(_l("How you provide the proof"), validate_choice=False, choices=[
        SelectChoice(METHOD_COMMITMENT,
                     _l("Sign a personal commitment instead (takes effect at once, checked afterwards)")),
        SelectChoice(METHOD_UPLOAD, _l("Upload the proof documents")),
        SelectChoice(METHOD_PAPER, _l("Bring the proof documents to the service window")),
    ], default=METHOD_COMMITMENT)
    commitment_consent = BooleanField(_l("I have read the commitment above and make it"))
    signed_name = StringField(_l("Type your full name to sign"), validators=[Optional()])
    emergency_date = StringField(_l("Date of the emergency"), validators=[Optional()])
    admitted_on = StringField(_l("Admission date, if you are already in hospital there"), validators=[Optional()])
    discharged = BooleanField(_l("I have already been discharged and settled the bill"))
    referral_hospital = StringField(_l("Referring hospital"), validators=[Optional()])
    idempotency_key = HiddenField()

    def prepare(self, commitment_allowed: bool, insurance_type: str = "") -> None:
        self.fill_places()
        if not self.is_submitted() and insurance_type and not self.insurance_type.data:
            self.insurance_type.data = insurance_type
        if not commitment_allowed:
            self.method.choices = [c for c in self.method.choices if c.value != METHOD_COMMITMENT]
            if self.method.data == METHOD_COMMITMENT:
                self.method.data = METHOD_PAPER
        if not self.idempotency_key.data:
            self.idempotency_key.data = secrets.token_urlsafe(24)

    def filing_input(self, category: str) -> FilingInput:
        return FilingInput(
            category=category, destination_code=self.destination_code(), start_date=self.start_date.data or "",
            care_address=self.care_address.data or "", care_phone=self.care_phone.data or "",
            method=self.method.data or "", commitment_consent=bool(self.commitment_consent.data),
            signed_name=self.signed_name.data or "", insured_address=self.insured_address.data or "",
            emergency_date=self.emergency_date.data or "", admitted_on=self.admitted_on.data or "",
            discharged=bool(self.discharged.data), referral_hospital=self.referral_hospital.data or "",
            care_phone2=self.care_phone2.data or "", insurance_type=self.insurance_type.data or "",
            signer=self.signer.data or "",
        )


class ChangeForm(_Places):
    care_address = StringField(_l("Address at the destination"), validators=[Optional()])
    care_phone = StringField(_l("Phone (leave empty to keep it)"), validators=[Optional()])

    def change_input(self) -> ChangeInput:
        return ChangeInput(self.destination_code(), self.care_address.data or "", self.care_phone.data or "")


class ConfirmForm(FlaskForm):
    """Only the CSRF token (cancel, extend)."""
