"""The organisations tests use the accounts tests' English-speaking client and request context."""

from tests.accounts.conftest import client, request_context  # noqa: F401 (fixtures)
from tests.organisations.test_registration import license_server  # noqa: F401 (the local licence server)
