"""No item completes silently (issue 20, point 5): a walk over every catalog item of the five regions.

An item one can file online (an individual's, a unit's or a designated institution's item the deployment takes
online) either has an effect —
its handler changes the records when the case completes, or it pays money (``services.base.has_effect``: the
handler registry says so, not a list kept here) — or its catalog data says ``decision_only: true`` (its result is a
decision or a document, nothing to record). And the mark is not a leftover: an item with an effect is not marked.
"""

from __future__ import annotations

import pytest

from portal.catalog.loader import get_catalog, region_ids
from portal.catalog.schema import Audience, Item
from portal.services.base import handler_for, has_effect

pytestmark = pytest.mark.no_db
ALL = [(region, item) for region in region_ids() for item in get_catalog(region).items]


def fileable(item: Item) -> bool:
    """Filed online by a person, a unit's agent or a designated institution's agent (issue 23)."""
    return bool(item.online) and not item.internal and bool(
        {Audience.individual, Audience.unit, Audience.institution} & set(item.audience))


def test_the_walk_covers_every_item_of_the_five_regions():
    assert len(region_ids()) == 5
    assert len(ALL) == sum(get_catalog(r).region.expected_item_count for r in region_ids()) == 205
    assert sum(fileable(item) for _r, item in ALL) > 100


def test_every_fileable_item_has_an_effect_or_is_marked_decision_only():
    silent = [f"{region} {item.code} {item.name.zh} (handler {item.handler}: {type(handler_for(item)).__name__})"
              for region, item in ALL if fileable(item) and not has_effect(item) and not item.decision_only]
    assert silent == [], "fileable items that would complete without an effect or a decision_only mark"


def test_no_item_with_an_effect_is_marked_decision_only():
    both = [f"{region} {item.code}" for region, item in ALL if item.decision_only and has_effect(item)]
    assert both == []


def test_has_effect_follows_the_handler():
    jilin = get_catalog("jilin")
    assert has_effect(jilin.get("G002036001003_02"))  # 新生儿参保登记: enrols the newborn
    assert has_effect(jilin.get("J002036013001"))  # 长期护理保险评估认定: the level's benefit record
    assert has_effect(get_catalog("sichuan").get("SC07"))  # the phone on record
    assert has_effect(get_catalog("sichuan").get("SC14"))  # 个人账户资金划转 pays the account out
    assert not has_effect(jilin.get("G002036002001")) and jilin.get("G002036002001").decision_only  # a query


def test_the_institution_items_are_walked_too():
    institution_items = [(r, i) for r, i in ALL if Audience.institution in i.audience and fileable(i)]
    assert len(institution_items) >= 30
    jilin = get_catalog("jilin")
    assert has_effect(jilin.get("G002036009001"))  # 医疗机构申请定点协议管理: the agreement in the register
    assert has_effect(jilin.get("J002036009001_03"))  # 法定代表人变更
    assert has_effect(jilin.get("J002036009002_02"))  # 服务终止: dated in the register
    assert has_effect(get_catalog("sichuan").get("SC37")) and has_effect(get_catalog("sichuan").get("SC38"))
    assert jilin.get("J002036009003").decision_only and not has_effect(jilin.get("J002036009003"))
