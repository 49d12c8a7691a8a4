"""Fixtures of the claims tests: the filing fixtures (staff by role, cases of any item) and the services' ones
(a bound citizen, a region switch, a frozen clock)."""

from __future__ import annotations

from tests.applications.conftest import (  # noqa: F401 (fixtures shared with the filing tests)
    SYSTEM,
    catalog,
    make_case,
    request_context,
    staff,
)
