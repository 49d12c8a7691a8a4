"""Reason templates: portal defaults, overridden by a region, overridden by an item of the region."""

from __future__ import annotations

import pytest

from portal.workbench import reasons

pytestmark = pytest.mark.no_db

DATA = {
    "defaults": {"deny": ["默认不通过"], "refuse": ["默认不予受理"]},
    "regions": {"jilin": {"defaults": {"deny": ["吉林不通过"]},
                          "items": {"X1": {"deny": ["事项不通过"]}}}},
}


def test_the_most_specific_list_wins():
    assert reasons.templates("jilin", "X1", "deny", data=DATA) == ["事项不通过"]
    assert reasons.templates("jilin", "X2", "deny", data=DATA) == ["吉林不通过"]
    assert reasons.templates("jilin", "X1", "refuse", data=DATA) == ["默认不予受理"]
    assert reasons.templates("sichuan", "X1", "deny", data=DATA) == ["默认不通过"]
    assert reasons.templates("sichuan", "X1", "approve", data=DATA) == []


def test_the_shipped_file_has_defaults_for_every_decision_and_jilin_overrides():
    for action in reasons.ACTIONS:
        assert reasons.templates("linkou", "any", action), action
    suspend = reasons.templates("jilin", "G002036001005_02_02", "complete")
    assert suspend != reasons.templates("linkou", "G002036001005_02_02", "complete") and "停保" in suspend[0]


def test_an_unknown_action_in_the_file_is_refused(tmp_path):
    path = tmp_path / "reasons.yaml"
    path.write_text("defaults:\n  approv: [x]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="approv"):
        reasons._load(path)
