"""The case-files port: the case operations count and claim files through it, and the app wires the materials
feature's implementation into it (the lower layer defines the port, so the two packages import no cycle)."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.applications import attachments
from portal.materials import operations as material_files

from .conftest import PROMISE_ITEM


@pytest.mark.no_db
def test_the_app_installs_the_materials_files(app):
    with app.app_context():
        assert attachments.case_files() is material_files


@pytest.mark.no_db
def test_an_app_without_case_files_says_so():
    bare = Flask("bare")
    with bare.app_context(), pytest.raises(RuntimeError, match="no case files installed"):
        attachments.case_files()


def test_submission_claims_the_files_through_the_port(app, monkeypatch, make_case, citizen):
    """Submitting counts the case's files and claims them through whatever the app installed."""
    seen = []

    class Recording:
        def file_counts(self, case):
            seen.append(("count", case.id))
            return material_files.file_counts(case)

        def claim_files(self, case):
            seen.append(("claim", case.id))
            return material_files.claim_files(case)

    monkeypatch.setitem(app.extensions, attachments.EXTENSION, Recording())
    case = make_case(PROMISE_ITEM, citizen)
    assert case.number is not None
    assert ("count", case.id) in seen and ("claim", case.id) in seen
