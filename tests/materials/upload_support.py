"""Helpers of the upload tests: logins through the pages, uploading and submitting as the operations do."""

from __future__ import annotations

from portal.applications import operations as ops
from portal.materials import operations as files
from tests.applications.conftest import PROMISE_ITEM, SYSTEM
from tests.conftest import csrf_from
from tests.factories import log_in_by_code as login

MATERIAL = "diagnosis"  # a required material of PROMISE_ITEM (门诊慢性病病种待遇认定)


def upload(case, data: bytes, name: str = "scan.png", *, by, material: str = MATERIAL):
    return files.upload_file(case, material, data, name, by=by, actor=SYSTEM)


def submit(case, by):
    return ops.submit_application(case, by=by, actor=SYSTEM)


__all__ = ["MATERIAL", "PROMISE_ITEM", "SYSTEM", "csrf_from", "login", "submit", "upload"]
