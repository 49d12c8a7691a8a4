"""The message of each event, in every language: a subject and a body with named fields.

A notification stores its context, not its text: the inbox renders it in the reader's language when shown;
SMS and WeChat render it in the portal's default language when sent. Context values are plain strings,
ISO dates under keys ending in ``_on`` (shown in the reader's date format), amounts of yuan as decimal strings under
keys ending in ``_yuan`` (shown in the reader's currency format), ``{"zh": …, "en": …}`` pairs
(item names) and lists of those (materials). A template whose field is missing from the context raises
``KeyError``: tests render every template in every language with exactly its declared fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import force_locale, format_date

from ..core.formatting import money
from ..core.translation import get_locale
from ..core.translation import lazy_gettext as _l
from .constants import Event


@dataclass(frozen=True)
class Template:
    subject: Any  # lazy strings, translated when rendered
    body: Any
    fields: tuple[str, ...]


TEMPLATES: dict[Event, Template] = {
    Event.ACCEPTED: Template(
        _l("Application accepted"),
        _l("Your application for %(item)s (No. %(number)s) has been accepted and will be completed by %(due_on)s."),
        ("item", "number", "due_on")),
    Event.CORRECTION_REQUESTED: Template(
        _l("Corrections requested"),
        _l("For your application for %(item)s (No. %(number)s), please supply or correct by %(respond_by_on)s: "
           "%(materials)s."),
        ("item", "number", "respond_by_on", "materials")),
    Event.REFUSED: Template(
        _l("Application not accepted"),
        _l("Your application for %(item)s (No. %(number)s) was not accepted. Reason: %(reason)s"),
        ("item", "number", "reason")),
    Event.DENIED: Template(
        _l("Application not approved"),
        _l("Your application for %(item)s (No. %(number)s) was not approved. Reason: %(reason)s"),
        ("item", "number", "reason")),
    Event.APPROVED: Template(
        _l("Application approved"),
        _l("Your application for %(item)s (No. %(number)s) has been approved."),
        ("item", "number")),
    Event.RETURNED_TO_REVIEW: Template(
        _l("Application back under review"),
        _l("The approval of your application for %(item)s (No. %(number)s) has been reopened for review before "
           "anything was paid; the amount will be decided again. Reason: %(reason)s"),
        ("item", "number", "reason")),
    Event.PAID: Template(
        _l("Payment made"),
        _l("The payment for your application for %(item)s (No. %(number)s) has been made. Result: %(result)s "
           "The payment notice, with the amount in figures and in words, is on the application's page."),
        ("item", "number", "result")),
    Event.PAYMENT_FAILED: Template(
        _l("Payment failed"),
        _l("The bank could not pay your application for %(item)s (No. %(number)s): %(reason)s. Please give a "
           "correct bank account on the application's page; it stays open until the payment is made."),
        ("item", "number", "reason")),
    Event.ACCOUNT_LEFT_OPEN: Template(
        _l("Personal account still open"),
        _l("Your application for %(item)s (No. %(number)s) has been paid, but %(left_yuan)s was credited to the "
           "personal account after the payment started, so the account is still open. Apply for the withdrawal "
           "again to receive that money; the account is then closed."),
        ("item", "number", "left_yuan")),
    Event.COMPLETED: Template(
        _l("Application completed"),
        _l("Your application for %(item)s (No. %(number)s) is completed. Result: %(result)s. You can rate our "
           "service on the application's page."),
        ("item", "number", "result")),
    Event.CERTIFICATE_READY: Template(
        _l("Certificate ready"),
        _l("Your %(item)s (No. %(number)s) is ready: print or download it from the application's page."),
        ("item", "number")),
    Event.FILING_EXPIRING: Template(
        _l("Filing about to expire"),
        _l("Your filing for medical care in %(destination)s expires on %(expires_on)s. Extend it before then, or "
           "direct settlement there stops."),
        ("destination", "expires_on")),
    Event.BENEFIT_EXPIRING: Template(
        _l("Recognition about to expire"),
        _l("Your recognition of %(what)s is valid until %(expires_on)s. To keep the benefit after that day, apply "
           "for %(item)s again before then."),
        ("what", "expires_on", "item")),
    Event.CORRECTION_DUE: Template(
        _l("Corrections due soon"),
        _l("Reminder: the corrections for your application for %(item)s (No. %(number)s) are due by "
           "%(respond_by_on)s: %(materials)s."),
        ("item", "number", "respond_by_on", "materials")),
    Event.STAFF_DIGEST: Template(
        _l("Cases due soon"),
        _l("Cases due within %(days)s working days: %(due_soon)s; overdue: %(overdue)s. Numbers: %(numbers)s."),
        ("days", "due_soon", "overdue", "numbers")),
    Event.RECTIFICATION_OPENED: Template(
        _l("Bad rating to check"),
        _l("Application No. %(number)s (%(item)s) was rated “%(level)s”. Check it, rectify and follow up with the "
           "rater by %(due_on)s."),
        ("number", "item", "level", "due_on")),
    Event.RECTIFICATION_DONE: Template(
        _l("Follow-up of your rating"),
        _l("We have followed up your rating of application No. %(number)s (%(item)s): %(outcome)s"),
        ("number", "item", "outcome")),
    Event.COMMITMENT_FALSE: Template(
        _l("Result of the check of your commitment"),
        _l("On checking application No. %(number)s (%(item)s) after completion, your commitment was found not to "
           "be true, and what the application brought about has been undone. Reason: %(reason)s"),
        ("number", "item", "reason")),
    Event.DEADLINE_MOVED: Template(
        _l("Time limit adjusted"),
        _l("Following the official holiday schedule, the time limit of your application for %(item)s "
           "(No. %(number)s) is now %(due_on)s."),
        ("item", "number", "due_on")),
    Event.LOGIN_FAILURES: Template(
        _l("Failed logins to your account"),
        _l("There have been %(failures)s failed attempts in a row to log in to your staff account, the latest on "
           "%(last_on)s. Further attempts from the same place now have to wait longer. If these attempts were not "
           "yours, tell the administrator."),
        ("failures", "last_on")),
    Event.REGISTRATION_APPROVED: Template(
        _l("Unit agent registration approved"),
        _l("Your letter of authorisation has been checked: you are now the agent (administrator) of %(unit)s online. "
           "Log in as a unit agent with the unit's credit code and this mobile number."),
        ("unit",)),
    Event.REGISTRATION_REFUSED: Template(
        _l("Unit agent registration not approved"),
        _l("Your registration as the agent of %(unit)s was not approved. Reason: %(reason)s You may register again "
           "with a corrected letter of authorisation, or at the service window."),
        ("unit", "reason")),
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    params: tuple[tuple[str, str], ...] = ()  # the template's fields as shown, in order (SMS template parameters)

    @property
    def sms(self) -> str:
        """One text message: the subject in brackets, then the body."""
        return f"【{self.subject}】{self.body}"


def _is_zh() -> bool:
    return not str(get_locale() or "zh").startswith("en")


def _value(key: str, value: Any) -> str:
    """A context value as the reader's language shows it."""
    if isinstance(value, dict) and ("zh" in value or "en" in value):
        return str((value.get("en") or value.get("zh")) if not _is_zh() else (value.get("zh") or value.get("en")))
    if isinstance(value, list):
        return ("、" if _is_zh() else ", ").join(_value(key, v) for v in value)
    if key.endswith("_on") and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value), "medium")
        except ValueError:
            return value
    if key.endswith("_yuan") and isinstance(value, str):
        try:
            return money(Decimal(value))
        except InvalidOperation:
            return value
    return str(value)


def render(event: Event | str, context: dict[str, Any], locale: str | None = None) -> Rendered:
    """The message of ``event`` with ``context``, in ``locale`` (default: the current one)."""
    template = TEMPLATES[Event(event)]
    if locale is not None:
        with force_locale(locale):
            return render(event, context)
    values = {key: _value(key, context[key]) for key in template.fields}  # KeyError: a field is missing
    return Rendered(str(template.subject), tidy(str(template.body) % values), tuple(values.items()))


_DOUBLED_STOP = re.compile(r"([。．.！!？?；;])[。．.]+")


def tidy(text: str) -> str:
    """One full stop where a value that ends a sentence ("已备案。") meets the template's own (…%(result)s。)."""
    return _DOUBLED_STOP.sub(r"\1", text)
