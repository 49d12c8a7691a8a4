"""The filing fixtures (a bound citizen, staff by role, cases driven into any state) for the home page tests."""

from tests.applications.conftest import case_in, catalog, citizen, make_case, request_context, staff  # noqa: F401
