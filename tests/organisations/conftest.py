"""Fixtures of the accounts tests: the English-speaking client and a request context for direct operation calls."""

from __future__ import annotations

import pytest


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture(autouse=True)
def request_context(app, db_session):
    """Operations called directly translate their messages, which needs a request (the locale selector)."""
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


