"""The staff menu: the back office's pages, each listed only for the roles that may open it (issue 17, item 8).

Every page under /staff decides for itself who may open it (its blueprint's ``before_request``); the menu asks
the same predicates, so it never offers a link that answers "无权查看" (an acceptor does not see the chief's
dashboard, an administrator does not see the case queues). Staff land on the first entry they may open after
logging in: the case queues for those who work cases, the holiday schedule for an administrator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import current_app, request, url_for
from flask_login import current_user

from ..core.translation import lazy_gettext as _l


@dataclass(frozen=True)
class Entry:
    endpoint: str
    label: Any  # lazy string
    allowed: Callable[[Any], bool]
    section: str = ""  # the endpoint prefix that marks the entry as the current page ("workbench.queue" …)


@cache
def _entries() -> tuple[Entry, ...]:
    """Made once (the labels are lazy: each request reads them in its own language). Each predicate decides from
    the user's login, kind, roles and enabled flag only: ``entries_for`` keeps its answers by those."""
    # imported here: each feature's predicate lives with the feature, which imports the workbench in turn
    from ..accounts.permissions import is_staff
    from ..calendar.views import can_manage_calendar
    from ..dashboard.views import can_view_dashboard
    from ..national.views import can_view_national
    from ..organisations.window_agents import can_manage_at_window
    from ..ratings.operations import can_supervise
    from ..sampling.operations import can_view_sampling
    from ..services.claims.views import can_pay
    from .permissions import is_case_worker

    return (
        Entry("workbench.index", _l("Case queues"), is_case_worker, "workbench.queue workbench.case workbench.index"),
        Entry("workbench.bindings", _l("Window verification"), is_case_worker, "workbench.bindings"),
        Entry("organisations_staff.index", _l("Unit registrations"), is_case_worker, "organisations_staff."),
        Entry("calendar.index", _l("Holiday schedule"), can_manage_calendar, "calendar."),
        Entry("organisations_window.index", _l("Units' agents"), can_manage_at_window, "organisations_window."),
        Entry("claims.payments", _l("Payments"), can_pay, "claims."),
        Entry("dashboard.index", _l("Dashboard"), can_view_dashboard, "dashboard."),
        Entry("sampling.index", _l("Post-hoc checks"), lambda u: is_staff(u) and can_view_sampling(u), "sampling."),
        Entry("ratings.rectifications", _l("Rectifications"), can_supervise, "ratings.rectification"),
        Entry("ratings.statistics", _l("Rating statistics"), can_supervise, "ratings.statistics"),
        Entry("transfer.index", _l("Transfers"), is_case_worker, "transfer.index transfer.show"),
        Entry("national.index", _l("National platform"), can_view_national, "national."),
        Entry("catalog_notes.index", _l("Notes on the guide data"), is_staff, "catalog_notes."),
    )


def entries_for(user: Any) -> tuple[Entry, ...]:
    """The entries ``user`` may open (and whose feature is installed), in menu order.

    Each entry's predicate reads only whether the user is logged in, their kind and their roles (and the account
    being enabled): the answer is worked out once per application for each combination of those, not on every
    page (the header's menu and the page's links ask it several times per request)."""
    key = (bool(getattr(user, "is_authenticated", False)), getattr(user, "kind", None),
           getattr(user, "role_codes", None), getattr(user, "is_enabled", None))
    known = current_app.extensions.setdefault("portal_staff_menu", {})
    entries = known.get(key)
    if entries is None:
        endpoints = set(current_app.view_functions)
        entries = known[key] = tuple(e for e in _entries() if e.endpoint in endpoints and e.allowed(user))
    return entries


def landing_url(user: Any) -> str:
    """Where a member of staff lands after logging in: their first menu entry (their account page if none)."""
    entries = entries_for(user)
    return url_for(entries[0].endpoint) if entries else url_for("accounts.home")


def may_open(user: Any, endpoint: str) -> bool:
    return any(e.endpoint == endpoint for e in entries_for(user))


def staff_menu() -> list[tuple[str, str, bool]]:
    """(url, label, is the current page) of the current user's menu; the header shows it to staff."""
    here = request.endpoint or ""
    return [(url_for(e.endpoint), str(e.label), any(here.startswith(p) for p in e.section.split()))
            for e in entries_for(current_user)]

