"""The files attached to a case, as the lifecycle needs them: how many each material has (the submission
check) and claiming them when the case is submitted or resubmitted (the agency sees those files).

The materials feature builds on this package (it reads cases, their states and permissions), so the case
operations cannot import it without a cycle. This package defines the small port it needs instead, and
``create_app`` installs the materials feature's implementation: the one place the two are wired.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from flask import Flask, current_app

if TYPE_CHECKING:
    from .models import Application

EXTENSION = "portal_case_files"


class CaseFiles(Protocol):
    def file_counts(self, case: Application) -> dict[str, int]:
        """How many live files each material of the case has, by material id."""
        ...

    def claim_files(self, case: Application) -> int:
        """Stamp the case's live, not yet claimed files as claimed; returns how many."""
        ...


def install(app: Flask, files: CaseFiles) -> None:
    """Make ``files`` the case files the operations of ``app`` use."""
    app.extensions[EXTENSION] = files


def case_files() -> CaseFiles:
    """The case files installed in the current app; a RuntimeError when none is (a wiring mistake)."""
    files = current_app.extensions.get(EXTENSION)
    if files is None:
        raise RuntimeError("no case files installed: create_app installs the materials feature's")
    return files
