"""Fixtures of the claims tests: the filing fixtures (staff by role, cases of any item), the services' ones (a bound
citizen, a region switch, a frozen clock), a second citizen and staff browsers."""

from __future__ import annotations

from tests.applications.conftest import (  # noqa: F401 (fixtures shared with the filing tests)
    SYSTEM,
    catalog,
    make_case,
    request_context,
    staff,
)
from tests.materials.conftest import stranger  # noqa: F401
from tests.workbench.conftest import browser_as, cheap_hashes, make_worker  # noqa: F401
