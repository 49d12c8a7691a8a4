"""One rule for every URL under ``/staff`` (the agency's back office), whichever feature serves it.

- nobody logged in: to the staff login page, coming back afterwards;
- citizens and unit agents: 404, the staff area does not exist for them (the README's rule);
- staff whose roles do not open that page (an administrator on the workbench, a clerk on the chief's
  dashboard): 403, decided by the feature itself (it knows which roles its pages need).

It runs before every blueprint's own checks, so a feature cannot answer a citizen differently by mistake.
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user

from .permissions import is_staff

PREFIX = "/staff"


def in_staff_area(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def guard():
    """``before_request``: the first two lines of the rule above; the third is each feature's ``abort(403)``."""
    if not in_staff_area(request.path):
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login_staff", next=request.path))
    if not is_staff(current_user):
        abort(404)
    return None
