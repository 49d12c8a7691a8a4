"""The catalog schema check: every problem names the file, the item and the field."""

from pathlib import Path

import pytest
import yaml

from portal.catalog.loader import CatalogError, load_region

pytestmark = pytest.mark.no_db

GOOD_ITEM = {
    "code": "X001",
    "name": {"zh": "测试事项", "en": "Test item"},
    "part": "A",
    "audience": ["individual"],
    "handling": {"type": "promise", "wording": "承诺件"},
    "time_limit": {"kind": "working_days", "value": 5, "wording": "5 个工作日"},
}
REGION = {
    "id": "testland",
    "name": {"zh": "测试市", "en": "Testland"},
    "level": "city",
    "province": {"zh": "测试省", "en": "Test Province"},
    "seed_file": "none.txt",
    "title": {"zh": "办事指南", "en": "Service guide"},
    "agency": {"name": {"zh": "测试市医疗保障局", "en": "Testland Healthcare Security Administration"}},
    "parts": [{"id": "A", "name": {"zh": "参保", "en": "Enrolment"}}],
    "expected_item_count": 1,
}


def write_region(root: Path, items: list[dict], region: dict = REGION) -> Path:
    folder = root / region["id"]
    (folder / "items").mkdir(parents=True)
    (folder / "region.yaml").write_text(yaml.safe_dump(region, allow_unicode=True), encoding="utf-8")
    (folder / "items" / "a.yaml").write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    return folder


def test_a_valid_region_loads(tmp_path):
    write_region(tmp_path, [GOOD_ITEM])
    catalog = load_region("testland", tmp_path)
    assert [i.code for i in catalog.items] == ["X001"]
    assert catalog.get("X001").time_limit.value == 5


def test_errors_name_the_file_item_and_field(tmp_path):
    bad = dict(GOOD_ITEM, time_limit={"kind": "working_days", "wording": "5 个工作日"})
    write_region(tmp_path, [bad])
    with pytest.raises(CatalogError) as caught:
        load_region("testland", tmp_path)
    [problem] = caught.value.problems
    assert "items/a.yaml" in problem and "item X001" in problem and "time_limit" in problem


def test_unknown_fields_and_parts_are_refused(tmp_path):
    bad = dict(GOOD_ITEM, part="Z", colour="red")
    write_region(tmp_path, [bad])
    with pytest.raises(CatalogError) as caught:
        load_region("testland", tmp_path)
    assert any("colour" in p for p in caught.value.problems)


def test_duplicate_codes_are_refused(tmp_path):
    write_region(tmp_path, [GOOD_ITEM, GOOD_ITEM], dict(REGION, expected_item_count=2))
    with pytest.raises(CatalogError) as caught:
        load_region("testland", tmp_path)
    assert any("code already used" in p for p in caught.value.problems)


def test_item_count_must_match_the_seed(tmp_path):
    write_region(tmp_path, [GOOD_ITEM], dict(REGION, expected_item_count=2))
    with pytest.raises(CatalogError) as caught:
        load_region("testland", tmp_path)
    assert any("expected_item_count" in p for p in caught.value.problems)


def test_material_must_refer_to_a_known_form(tmp_path):
    bad = dict(GOOD_ITEM, materials=[{"id": "form", "name": {"zh": "表", "en": "Form"}, "form_ref": "nope"}])
    write_region(tmp_path, [bad])
    with pytest.raises(CatalogError) as caught:
        load_region("testland", tmp_path)
    assert any("unknown form" in p for p in caught.value.problems)


def test_broken_yaml_is_reported_with_its_file(tmp_path):
    folder = write_region(tmp_path, [GOOD_ITEM])
    (folder / "items" / "b.yaml").write_text("- code: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_region("testland", tmp_path)
    assert any("b.yaml" in p and "YAML" in p for p in caught.value.problems)


