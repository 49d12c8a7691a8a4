"""The filing fixtures and the notification tests' logins (web and bearer) serve these tests too."""

from tests.notifications.conftest import (  # noqa: F401 (fixtures)
    SYSTEM,
    bearer,
    case_in,
    catalog,
    citizen,
    make_case,
    make_citizen,
    request_context,
    staff,
    web_login,
)
