"""The commitment tests use the citizen and clock fixtures of the 异地就医备案 tests."""

from tests.services.conftest import at, citizen, english, make_citizen  # noqa: F401 (fixtures)
