"""Fixtures of the document tests: the filing tests' citizen, agent, staff and cases (English requests)."""

from tests.applications.conftest import (  # noqa: F401
    agent,
    case_in,
    catalog,
    citizen,
    make_case,
    make_citizen,
    request_context,
    staff,
)
