"""Translated labels of the catalog's enumerations, and the time limit in words."""

from __future__ import annotations

from typing import Any

from ..core import translation
from ..core.translation import lazy_gettext as _l
from ..core.translation import ngettext
from .schema import (
    Audience,
    Channel,
    Form,
    HandlingType,
    LimitKind,
    OnlineSubstitute,
    Requirement,
    SealBy,
    StepKey,
    TimeLimit,
)

AUDIENCE = {
    Audience.individual: _l("Individuals"),
    Audience.unit: _l("Employers (units)"),
    Audience.institution: _l("Designated medical institutions"),
    Audience.agency: _l("Handled by the agency"),
}
HANDLING = {
    HandlingType.instant: _l("Immediate item"),
    HandlingType.promise: _l("Promised-time item"),
    HandlingType.mixed: _l("Immediate item (promised-time item)"),
}
CHANNEL = {
    Channel.online: _l("Online service hall"),
    Channel.window: _l("Service window"),
    Channel.app: _l("Mobile app"),
    Channel.mini_program: _l("WeChat"),
    Channel.phone: _l("Telephone"),
    Channel.mail: _l("Post"),
    Channel.self_service: _l("Self-service terminal"),
    Channel.data_sharing: _l("Data sharing between departments"),
}
STEP = {
    StepKey.apply: _l("Apply"),
    StepKey.receive: _l("Receive"),
    StepKey.accept: _l("Accept"),
    StepKey.review: _l("Review"),
    StepKey.evaluate: _l("Evaluate"),
    StepKey.publicise: _l("Public notice"),
    StepKey.agreement: _l("Sign agreement"),
    StepKey.pay: _l("Pay"),
    StepKey.mark: _l("Mark"),
    StepKey.complete: _l("Complete"),
    StepKey.deliver: _l("Deliver the result"),
    StepKey.other: _l("Other step"),
}
REQUIREMENT = {
    Requirement.required: _l("Required"),
    Requirement.optional: _l("Optional"),
    Requirement.conditional: _l("Only if it applies"),
}
FORM = {
    Form.original: _l("Original"),
    Form.copy: _l("Copy"),
    Form.original_and_copy: _l("Original and copy"),
    Form.original_or_copy: _l("Original or copy"),
    Form.electronic: _l("Electronic"),
    Form.unspecified: "",
}


# Who seals a material, as the seed states it (English pages; Chinese pages show the seed's own words).
SEAL_BY = {
    SealBy.unit: _l("Needs the applicant unit's seal"),
    SealBy.school: _l("Needs the school's seal"),
    SealBy.hospital: _l("Needs the seal of the hospital or pharmacy that issued it"),
    SealBy.social_security: _l("Needs the social security bureau's seal"),
    SealBy.unspecified: _l("Needs a valid seal"),
}
# This service's own choices, said as such (never as the published guide's requirement).
ONLINE_SUBSTITUTE = {
    OnlineSubstitute.real_name: _l("This service's choice: when you file online, your real-name verification stands "
                                   "for the ID document."),
    OnlineSubstitute.online_form: _l("This service's choice: when you file online, the form you fill in online is "
                                     "this form."),
}


def is_english() -> bool:
    return translation.is_english()


def tr(text: Any) -> str:
    """A catalog text (``schema.Text``) in the page's language: its English gloss on English pages, else the
    published Chinese; "" for none. The ``tr`` template filter marks the Chinese it returns (``quote_zh``)."""
    if text is None:
        return ""
    return text.get("en" if is_english() else "zh")


def time_limit_text(limit: TimeLimit) -> str:
    """The time limit as published in Chinese; a plain English rendering on English pages."""
    if not is_english():
        return limit.wording
    value = limit.value or 0
    match limit.kind:
        case LimitKind.immediate:
            return str(_l("Immediately"))
        case LimitKind.same_day:
            return str(_l("Same day"))
        case LimitKind.working_days:
            return ngettext("%(num)d working day", "%(num)d working days", value)
        case LimitKind.natural_days:
            return ngettext("%(num)d day", "%(num)d days", value)
        case LimitKind.months:
            return ngettext("%(num)d month", "%(num)d months", value)
    return str(_l("No time limit published"))
