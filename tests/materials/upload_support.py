"""Helpers of the upload tests: logins through the pages, uploading and submitting as the operations do."""

from __future__ import annotations

from portal.applications import operations as ops
from portal.extensions import limiter
from portal.materials import operations as files
from tests.applications.conftest import PROMISE_ITEM, SYSTEM
from tests.conftest import csrf_from
from tests.factories import last_code

MATERIAL = "diagnosis"  # a required material of PROMISE_ITEM (门诊慢性病病种待遇认定)


def login(browser, db_session, phone: str):
    """Log ``browser`` in as the citizen with ``phone`` through the pages (code read from the SMS outbox)."""
    limiter.reset()
    data = {"csrf_token": csrf_from(browser.get("/login/citizen").get_data(as_text=True)), "phone": phone}
    assert browser.post("/login/citizen", data=data).status_code == 302
    token = csrf_from(browser.get("/login/code").get_data(as_text=True))
    response = browser.post("/login/code", data={"csrf_token": token, "code": last_code(db_session, phone)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def upload(case, data: bytes, name: str = "scan.png", *, by, material: str = MATERIAL):
    return files.upload_file(case, material, data, name, by=by, actor=SYSTEM)


def submit(case, by):
    return ops.submit_application(case, by=by, actor=SYSTEM)


__all__ = ["MATERIAL", "PROMISE_ITEM", "SYSTEM", "csrf_from", "login", "submit", "upload"]
