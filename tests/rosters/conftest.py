"""Fixtures of the roster tests: the filing fixtures (a unit agent, staff) and a draft of 职工参保登记."""
# ruff: noqa: F401, F811 (fixtures re-exported, and taken as arguments)

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.applications import operations as ops
from portal.core import clock
from tests.applications.conftest import SYSTEM, agent, all_materials, catalog, make_case, request_context, staff
from tests.rosters.support import ROSTER_ITEM

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen(T0):
        yield


@pytest.fixture
def draft(catalog, agent):
    """The agent's draft of 职工参保登记, its other fields filled."""
    item = catalog.get(ROSTER_ITEM)
    case = ops.start_application(item, by=agent, actor=SYSTEM)
    ops.save_draft(case, ops.DraftInput(form=case.form_data, materials=all_materials(item)), by=agent, actor=SYSTEM)
    return case
